// The chat page's state and event handling, apart from the .vue file so Node can
// test it. The page hands in a reactive() state; this module only mutates it.
import { SioClient } from './sio-client.js'
import { randomId } from './ids.js'
import { chatOptions, loadSettings, saveSettings, loadSessionId, saveSessionId, normalizeServerUrl, cleanParams } from './settings.js'

export function createChatState() {
  return {
    conn: 'idle', // idle | unconfigured | connecting | connected | reconnecting | disconnected | refused | closed
    connText: 'Not connected',
    sessionId: '',
    messages: [], // {id, role, content, reasoning, status, finishReason, error, requestId, queuePosition, usage, timings}
    busy: false, // a chat is awaiting its ack or its reply is streaming
    draft: '',
    error: '', // what went wrong, in a sentence; shown until the next action
    notice: '',
    needToken: false,
    backends: [],
    defaultBackend: '',
    limits: {},
    modelStatus: {}, // backend -> {model_ready, progress, message}
    settings: loadSettings({ get: () => null }),
  }
}

const STATE_TEXT = {
  idle: 'Not connected',
  unconfigured: 'Set the server address in Settings',
  connecting: 'Connecting…',
  connected: 'Connected',
  disconnected: 'Disconnected',
  closed: 'Disconnected',
}

// How long a `done` that overtook the resume replay waits for the missing tokens.
const STASHED_DONE_WAIT_MS = 3000

export class ChatController {
  constructor({ state = createChatState(), storage, createClient, clientOptions = {}, onTokenApplied } = {}) {
    this.state = state
    this.storage = storage
    this.createClient = createClient || ((opts) => new SioClient(opts))
    this.clientOptions = clientOptions
    this.onTokenApplied = onTokenApplied // tests watch the exact tokens that reach the screen
    this.client = null
    this.active = null // the streaming request: {requestId, msgId, lastSeq, answer, reasoning, resumePending, stashedDone}
    this.pendingChat = null // a chat awaiting its ack; events that overtake the ack wait here
    this.lostChat = null // {message} of a chat whose ack the dropped link swallowed
    this._offs = []
  }

  // Read settings and session from storage and connect if an address is set.
  start() {
    this.state.settings = loadSettings(this.storage)
    this.state.sessionId = loadSessionId(this.storage)
    if (!this.state.settings.serverUrl) {
      this._setConn('unconfigured')
      return
    }
    this.connect()
  }

  connect() {
    this._dropClient()
    const { serverUrl } = this.state.settings
    if (!serverUrl) return this._setConn('unconfigured')
    let client
    try {
      client = this.createClient({ url: serverUrl, auth: () => this._auth(), ...this.clientOptions })
    } catch (err) {
      this.state.error = err.message
      return this._setConn('disconnected')
    }
    this.client = client
    const on = (name, fn) => this._offs.push(client.on(name, fn))
    on('state', (s, detail) => this._onState(s, detail))
    on('connect_error', (err) => this._onConnectError(err))
    on('ready', (r) => this._onReady(r))
    for (const name of ['token', 'queued', 'done', 'error']) on(name, (p) => this._route(name, p))
    on('status', (s) => this._onModelStatus(s))
    client.connect()
  }

  // App back in the foreground: reconnect now rather than after the backoff.
  wake() {
    if (this.client) this.client.wake()
  }

  dispose() {
    this._dropClient()
  }

  async send(text = this.state.draft) {
    const s = this.state
    const message = String(text ?? '')
    if (!message.trim()) return this._fail('Type a message first.')
    if (s.busy) return this._fail('Wait for the reply to finish, or press Stop.')
    if (!this.client || !this.client.connected) return this._fail('Not connected to the server.')
    const max = s.limits && s.limits.max_message_chars
    if (max && message.length > max) return this._fail(`The message is too long: ${message.length} characters, the server takes at most ${max}.`)
    const userMsg = newMessage('user', message)
    const reply = newMessage('assistant', '', { status: 'sending' })
    s.messages.push(userMsg, reply)
    s.busy = true
    s.draft = ''
    s.error = ''
    s.notice = ''
    this.pendingChat = { buffer: [], stop: false }
    let res
    try {
      res = await this.client.request('chat', { message, ...chatOptions(s.settings) })
    } catch (err) {
      res = { ok: false, error: { code: err.code || 'disconnected', message: err.message } }
    }
    const pending = this.pendingChat
    this.pendingChat = null
    if (!res || !res.ok) {
      // Nothing entered the history: take the bubbles back and give the text back to edit or resend.
      this._removeMessages([userMsg.id, reply.id])
      // Unless the link dropped with the chat in flight: the server may have started it (see _onReady).
      const code = res && res.error && res.error.code
      this.lostChat = code === 'disconnected' || code === 'timeout' ? { message } : null
      s.busy = false
      if (!s.draft) s.draft = message
      return this._fail(errorText(res))
    }
    this.active = { requestId: res.request_id, msgId: reply.id, lastSeq: -1, answer: '', reasoning: '', resumePending: false, stashedDone: null }
    Object.assign(this._msg(reply.id), { status: 'streaming', requestId: res.request_id })
    for (const [name, payload] of pending.buffer) this._route(name, payload)
    if (pending.stop && this.active) this.stop()
    return true
  }

  async stop() {
    if (this.pendingChat) {
      this.pendingChat.stop = true // stop as soon as the request has an id
      return true
    }
    if (!this.active || !this.client) return false
    try {
      const res = await this.client.request('stop', { request_id: this.active.requestId })
      if (!res.ok) this._fail(errorText(res))
      return !!res.stopped
    } catch (err) {
      this._fail(`Could not stop: ${err.message}`)
      return false
    }
  }

  // Empty the conversation on the server (stopping any reply) and on screen.
  async newConversation() {
    if (!this.client || !this.client.connected) return this._fail('Not connected to the server.')
    try {
      const res = await this.client.request('reset', {})
      if (!res.ok) return this._fail(errorText(res))
    } catch (err) {
      return this._fail(err.message)
    }
    this.active = null
    this.state.busy = false
    this.state.messages.splice(0)
    this.state.error = ''
    this.state.notice = ''
    return true
  }

  // Ask again: drop the last question and reply on the server, then send the question anew.
  async regenerate() {
    const msgs = this.state.messages
    const n = msgs.length
    if (this.state.busy || n < 2 || msgs[n - 2].role !== 'user') return false
    const question = msgs[n - 2].content
    if (msgs[n - 1].status === 'error') {
      // A failed reply never entered the server's history: only the screen needs tidying.
      this._removeMessages([msgs[n - 2].id, msgs[n - 1].id])
      return this.send(question)
    }
    if (!this.client || !this.client.connected) return this._fail('Not connected to the server.')
    try {
      const res = await this.client.request('truncate', { keep: n - 2 })
      if (!res.ok) return this._fail(errorText(res))
      this.state.messages = (res.history || []).map(fromHistory)
    } catch (err) {
      return this._fail(err.message)
    }
    return this.send(question)
  }

  // Save the access token the user typed and try again with it.
  setToken(token) {
    this.applySettings({ ...this.state.settings, token: String(token || '').trim() })
  }

  // Validate and store new settings; reconnect when the address or token changed.
  applySettings(next) {
    const prev = this.state.settings
    let serverUrl = ''
    let warning
    if (next.serverUrl) ({ url: serverUrl, warning } = normalizeServerUrl(next.serverUrl))
    const { errors } = cleanParams(next.params)
    const bad = Object.values(errors)
    if (bad.length) throw new Error(bad.join('; '))
    const settings = { ...prev, ...next, serverUrl, params: { ...(next.params || {}) } }
    saveSettings(this.storage, settings)
    this.state.settings = settings
    this.state.needToken = false
    if (settings.serverUrl !== prev.serverUrl || settings.token !== prev.token || !this.client) this.connect()
    return { warning }
  }

  _auth() {
    const auth = { session_id: this.state.sessionId }
    if (this.state.settings.token) auth.token = this.state.settings.token
    return auth
  }

  _onState(state, detail = {}) {
    const s = this.state
    s.conn = state
    if (state === 'reconnecting') {
      const secs = Math.max(1, Math.round((detail.delay || 0) / 1000))
      s.connText = `Connection lost (${detail.reason}). Retrying in ${secs} s…`
    } else if (state === 'refused') {
      s.connText = detail.message === 'unauthorized' ? 'The server wants an access token' : `Refused: ${detail.message}`
    } else if (state === 'connecting' && this.client && this.client.backoff.attempts > 0) {
      s.connText = `Reconnecting (try ${this.client.backoff.attempts + 1})…`
    } else {
      s.connText = STATE_TEXT[state] || state
    }
  }

  _setConn(state) {
    this.state.conn = state
    this.state.connText = STATE_TEXT[state] || state
  }

  _onConnectError(err) {
    if (err.fatal && err.message === 'unauthorized') {
      this.state.needToken = true
      this.state.error = this.state.settings.token
        ? 'The access token was not accepted. Enter the one the server printed at start.'
        : 'This server needs an access token. Enter the one it printed at start.'
    } else if (err.fatal) {
      this.state.error = `The server refused the connection: ${err.message}`
    }
  }

  _onReady(r) {
    const s = this.state
    if (r.session_id) {
      s.sessionId = r.session_id
      saveSessionId(this.storage, r.session_id)
    }
    s.backends = r.backends || []
    s.defaultBackend = r.default_backend || ''
    s.limits = r.limits || {}
    const status = {}
    for (const b of s.backends) status[b.name] = { model_ready: b.model_ready !== false, message: b.status || '' }
    s.modelStatus = status
    s.needToken = false
    if (/token|server|connect/i.test(s.error)) s.error = ''
    const lost = this.lostChat
    this.lostChat = null
    if (this.active) return this._resume()
    if (this.pendingChat) return // the chat's ack is still coming; keep the bubbles
    if (lost && r.active_request_id) return this._adoptLostChat(r, lost)
    const hadLocal = s.messages.length > 0
    s.messages = (r.history || []).map(fromHistory)
    if (hadLocal && s.messages.length === 0) s.notice = 'The server no longer has this conversation (it was restarted, or the conversation expired).'
  }

  // The chat whose ack was lost in a reconnect did start: show it again and replay its reply from the start.
  _adoptLostChat(r, lost) {
    const s = this.state
    const reply = newMessage('assistant', '', { status: 'streaming', requestId: r.active_request_id })
    s.messages = [...(r.history || []).map(fromHistory), newMessage('user', lost.message), reply]
    if (s.draft === lost.message) s.draft = ''
    if (s.error) s.error = ''
    s.busy = true
    this.active = { requestId: r.active_request_id, msgId: reply.id, lastSeq: -1, answer: '', reasoning: '', resumePending: false, stashedDone: null }
    return this._resume()
  }

  // After a reconnect: ask the server to replay what was missed of the streaming reply.
  async _resume() {
    const a = this.active
    a.resumePending = true
    let res
    try {
      res = await this.client.request('resume', { request_id: a.requestId, after_seq: a.lastSeq })
    } catch (err) {
      return // the link dropped again; the next `ready` retries
    }
    if (res.ok || this.active !== a) return
    this._finish(a, { finish_reason: 'error' }, res.error && res.error.message ? `The reply was lost: ${res.error.message}` : 'The reply was lost when the connection dropped.')
    this._syncHistory()
  }

  // token/queued/done/error: all belong to a request; sort them to the right place.
  _route(name, p) {
    if (!p) return
    const a = this.active
    if (!a || p.request_id !== a.requestId) {
      if (this.pendingChat && p.request_id) this.pendingChat.buffer.push([name, p])
      else if (name === 'error' && !p.request_id) this._fail(p.message || 'Server error')
      else if (name === 'done' && !this.state.busy) this._syncHistory() // another device's turn ended
      return
    }
    if (name === 'token') this._onToken(a, p)
    else if (name === 'queued') this._msg(a.msgId).queuePosition = p.position
    else if (name === 'error') Object.assign(this._msg(a.msgId), { error: p.message, errorCode: p.code })
    else if (name === 'done') this._onDone(a, p)
  }

  // Only the next token in order is applied: replays repeat old ones, and live
  // tokens that arrive before the replay are gaps the replay will fill.
  _onToken(a, t) {
    if (t.seq !== a.lastSeq + 1) return
    a.lastSeq = t.seq
    const msg = this._msg(a.msgId)
    if (t.kind === 'reasoning') msg.reasoning = a.reasoning += t.text
    else msg.content = a.answer += t.text
    msg.queuePosition = 0
    if (this.onTokenApplied) this.onTokenApplied(t)
    if (a.stashedDone && a.answer === a.stashedDone.text) this._finish(a, a.stashedDone)
  }

  _onDone(a, d) {
    // A live `done` can overtake the replay after a reconnect: wait for the replay's tokens.
    if (a.resumePending && d.finish_reason !== 'error' && typeof d.text === 'string' && d.text !== a.answer) {
      if (!a.stashedDone) a.stashTimer = setTimeout(() => this.active === a && this._finish(a, a.stashedDone), STASHED_DONE_WAIT_MS)
      a.stashedDone = d
      return
    }
    this._finish(a, d)
  }

  _finish(a, d, error) {
    clearTimeout(a.stashTimer)
    const msg = this._msg(a.msgId)
    if (msg) {
      if (typeof d.text === 'string') msg.content = d.text
      if (typeof d.reasoning === 'string' && d.reasoning) msg.reasoning = d.reasoning
      msg.status = d.finish_reason === 'error' ? 'error' : 'done'
      msg.finishReason = d.finish_reason
      msg.queuePosition = 0
      if (d.usage) msg.usage = d.usage
      if (d.timings) msg.timings = d.timings
      if (d.finish_reason === 'error' && !msg.error) msg.error = error || 'The reply failed.'
    }
    if (this.active === a) this.active = null
    this.state.busy = false
  }

  _onModelStatus(st) {
    if (!st || !st.backend) return
    this.state.modelStatus = {
      ...this.state.modelStatus,
      [st.backend]: { model_ready: !!st.model_ready, progress: st.progress, message: st.message || '', error: st.error || '' },
    }
  }

  async _syncHistory() {
    if (!this.client || !this.client.connected) return
    try {
      const res = await this.client.request('history', {})
      if (res.ok && !this.state.busy) this.state.messages = (res.history || []).map(fromHistory)
    } catch (err) {
      /* the next ready brings the history anyway */
    }
  }

  _fail(message) {
    this.state.error = message
    return false
  }

  // Look a message up through the state so a reactive() proxy sees the change.
  _msg(id) {
    const msgs = this.state.messages
    for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].id === id) return msgs[i]
    return null
  }

  _removeMessages(ids) {
    this.state.messages = this.state.messages.filter((m) => !ids.includes(m.id))
  }

  _dropClient() {
    for (const off of this._offs.splice(0)) off()
    if (this.client) this.client.close()
    this.client = null
  }
}

function newMessage(role, content, extra = {}) {
  return { id: randomId(10), role, content, reasoning: '', status: 'done', finishReason: '', error: '', requestId: '', queuePosition: 0, ...extra }
}

function fromHistory(m) {
  return newMessage(m.role, m.content || '')
}

function errorText(res) {
  const e = res && res.error
  return (e && e.message) || 'The server did not accept the request.'
}
