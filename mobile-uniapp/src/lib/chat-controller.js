// The uni-app's shell around the shared chat core (static/js/core, through the @core alias):
// the connection (SioClient over uni.connectSocket), what the status bar says, and the
// settings this device keeps (server address, token). Node tests run it with a fake client.
import { ChatCore, createCoreState } from '@core/chat.js'
import { normalizeChatSettings } from '@core/params.js'
import { SioClient } from './sio-client.js'
import { afterReady } from './roles.js'
import { KEYS, loadSettings, saveSettings, normalizeServerUrl, splitSettings } from './settings.js'

export function createChatState() {
  return {
    ...createCoreState(),
    conn: 'idle', // idle | unconfigured | connecting | connected | reconnecting | disconnected | refused | closed
    connText: 'Not connected',
    needToken: false,
    settings: loadSettings({ get: () => null }), // this device's: server address and token
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

export class ChatController extends ChatCore {
  constructor({ state = createChatState(), storage, createClient, clientOptions = {}, onTokenApplied } = {}) {
    super({ state, storage, keys: KEYS, onTokenApplied })
    // Settings of the chat used to live beside the address: carry them over once.
    if (storage.get(KEYS.chat, null) === null) state.chat = normalizeChatSettings(storage.get(KEYS.settings, null))
    this.createClient = createClient || ((opts) => new SioClient(opts))
    this.clientOptions = clientOptions
    this.client = null
    this._offs = []
  }

  // Read the settings from storage and connect if an address is set.
  start() {
    this.state.settings = loadSettings(this.storage)
    if (!this.state.settings.serverUrl) return this._setConn('unconfigured')
    this.connect()
  }

  connect() {
    this._dropClient()
    const { serverUrl, token } = this.state.settings
    if (!serverUrl) return this._setConn('unconfigured')
    let client
    try {
      client = this.createClient({ url: serverUrl, auth: () => this.auth(this.state.settings.token), ...this.clientOptions })
    } catch (err) {
      this.state.error = err.message
      return this._setConn('disconnected')
    }
    this.client = client
    this.attach(client)
    const on = (name, fn) => this._offs.push(client.on(name, fn))
    on('state', (s, detail) => this._onState(s, detail))
    on('connect_error', (err) => this._onConnectError(err))
    for (const name of ['ready', 'token', 'queued', 'done', 'error', 'status']) on(name, (p) => this.handle(name, p))
    client.connect()
    return token
  }

  handle(name, payload) {
    super.handle(name, payload)
    if (name === 'ready') afterReady(this) // after a pairing code: open the first device's newest chat
  }

  // App back in the foreground: reconnect now rather than after the backoff.
  wake() {
    if (this.client) this.client.wake()
  }

  dispose() {
    this._dropClient()
  }

  // Save the access token the user typed and try again with it.
  setToken(token) {
    this.applySettings({ ...this.state.settings, token: String(token || '').trim() })
  }

  // Validate and store new settings: the device's (reconnect when the address or token changed)
  // and, when given, this conversation's (backend, model, system prompt, params).
  applySettings(next) {
    const prev = this.state.settings
    let serverUrl = ''
    let warning
    if (next.serverUrl) ({ url: serverUrl, warning } = normalizeServerUrl(next.serverUrl))
    const { device, chat } = splitSettings({ ...next, serverUrl })
    saveSettings(this.storage, device)
    this.state.settings = device
    this.state.needToken = false
    if (chat) this.setChatSettings(chat)
    if (device.serverUrl !== prev.serverUrl || device.token !== prev.token || !this.client) this.connect()
    return { warning }
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
    if (state === 'connected') {
      s.needToken = false
      if (/token|server|connect/i.test(s.error)) s.error = ''
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

  _dropClient() {
    for (const off of this._offs.splice(0)) off()
    if (this.client) this.client.close()
    this.client = null
    this.attach(null)
  }
}
