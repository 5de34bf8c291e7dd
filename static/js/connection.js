// The page's link to the server: socket.io-client with the core's auth, its states shown in the
// chrome, the access-token dialog, and a transport the core calls (request with an ack).
import { store } from './util.js'

const TOKEN_KEY = 'chat.token'
const ACK_MS = 20000

export class Connection {
  constructor(els, core, chrome) {
    this.els = els
    this.core = core
    this.chrome = chrome
    this.token = store.get(TOKEN_KEY, '') || ''
    this.socket = null
    this.tokenAsked = false
    this.onState = () => {}
    els.tokenForm.addEventListener('submit', (ev) => {
      ev.preventDefault()
      const token = els.tokenInput.value.trim()
      if (!token) return
      this.token = token
      store.set(TOKEN_KEY, token)
      els.tokenDialog.close()
      this.setConn('connecting')
      this.socket.connect()
    })
    els.bannerAction.addEventListener('click', () => {
      if (chrome.conn === 'unauthorized') this.askToken(false)
    })
    els.forgetToken.addEventListener('click', () => {
      this.token = ''
      store.remove(TOKEN_KEY)
      this.paintToken()
      chrome.toast('The access token is forgotten on this device.')
    })
    this.paintToken()
  }

  /** What the core calls: connected, and request(event, data) -> the ack. */
  transport() {
    const conn = this
    return {
      get connected() {
        return !!(conn.socket && conn.socket.connected)
      },
      request(event, data) {
        return new Promise((resolve, reject) => {
          conn.socket.timeout(ACK_MS).emit(event, data, (err, res) => {
            if (!err) resolve(res)
            else if (!conn.socket.connected) reject({ code: 'disconnected', message: 'The connection dropped before the server answered.' })
            else reject({ code: 'timeout', message: 'The server did not answer. Check the connection and try again.' })
          })
        })
      },
    }
  }

  /** Headers of an HTTP call under /api/ (export, import). */
  headers() {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {}
  }

  setConn(conn, message = '') {
    this.chrome.setConn(conn, message)
    this.onState(conn)
  }

  paintToken() {
    this.els.tokenGroup.hidden = !this.token
  }

  askToken(rejected) {
    const { els } = this
    els.tokenHelp.textContent = rejected
      ? 'That access token was not accepted. Check it and try again.'
      : 'This server needs an access token. Ask whoever runs it.'
    els.tokenInput.value = ''
    if (!els.tokenDialog.open) els.tokenDialog.showModal()
    els.tokenInput.focus()
  }

  connect(handlers) {
    const socket = window.io({
      auth: (cb) => cb(this.core.auth(this.token)),
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      timeout: 10000,
    })
    this.socket = socket
    socket.on('connect', () => {
      this.tokenAsked = false
      this.paintToken()
      this.setConn('connected')
    })
    socket.on('disconnect', (reason) => {
      this.setConn('reconnecting')
      // The server closed us on purpose: socket.io does not retry by itself then.
      if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000)
    })
    socket.on('connect_error', (err) => {
      const msg = (err && err.message) || ''
      if (msg === 'unauthorized') {
        const hadToken = !!this.token
        this.setConn('unauthorized')
        if (!this.tokenAsked || hadToken) {
          this.tokenAsked = true
          this.askToken(hadToken)
        }
        return
      }
      if (socket.active) {
        this.setConn('reconnecting') // a network failure: socket.io retries by itself
      } else {
        // refused by the server for another reason (too many connections, ...): retry slowly
        this.setConn('refused', msg ? `The server refused the connection: ${msg}. Retrying…` : '')
        setTimeout(() => { if (!socket.connected) socket.connect() }, 3000)
      }
    })
    for (const name of ['ready', 'token', 'queued', 'done', 'error', 'status']) socket.on(name, (p) => handlers(name, p))
    return socket
  }
}

/** fetch() for the core's HTTP calls: {method, path, headers, body} -> {status, data}. */
export function httpFetch(extraHeaders) {
  return async ({ method = 'GET', path, headers = {}, body }) => {
    const init = { method, headers: { ...extraHeaders(), ...headers } }
    if (body !== undefined) {
      init.body = JSON.stringify(body)
      init.headers['Content-Type'] = 'application/json'
    }
    const res = await fetch(path, init)
    const type = res.headers.get('Content-Type') || ''
    const data = type.includes('json') ? await res.json().catch(() => null) : await res.text()
    return { status: res.status, data }
  }
}
