// The chat core both clients share: one conversation's messages, the reply streaming into it,
// per-chat settings and the conversation list, spoken over the protocol (docs/PROTOCOL.md).
// No DOM, no `uni`: a shell hands in a transport ({connected, request(event, data) -> Promise})
// with attach(), feeds server events to handle(), reads `state` and hears onChange(kind, detail).
import { SESSION_ID_RE, CLIENT_ID_RE, keptId } from './ids.js'
import { chatOptions, normalizeChatSettings } from './params.js'
import { route, newReply, follow } from './stream.js'
import { onReady, onModelStatus } from './ready.js'
import { newMessage, mergeHistory, errorText } from './messages.js'
import { attachmentField } from './attachments.js'
import { Conversations, emptyList } from './conversations.js'
import { historyMessages, regenerate, edit } from './resend.js'

export const PAGE_KEYS = { session: 'chat.session_id', client: 'chat.client_id', chat: 'chat.settings.v1', pending: 'chat.pending' }

export function createCoreState() {
  return {
    sessionId: '',
    clientId: '',
    protocol: 1, // 1.1 once `ready` names a client_id: conversations live on the server
    messages: [], // {id, role, content, reasoning, status, finishReason, error, requestId, queuePosition, usage, timings}
    busy: false, // a chat awaits its ack or its reply streams
    draft: '',
    error: '', // what went wrong, in a sentence
    notice: '',
    backends: [],
    defaultBackend: '',
    limits: {},
    modelStatus: {}, // backend -> {model_ready, progress, message, error}
    chat: normalizeChatSettings(null), // this conversation's settings
    list: emptyList(),
  }
}

/**
 * @typedef {object} CoreOptions
 * @property {ReturnType<typeof createCoreState>} [state]
 * @property {import('./types.js').Storage} storage
 * @property {typeof PAGE_KEYS} [keys] the storage keys of the session, client, settings and pending chat
 * @property {(kind: string, detail?: any) => void} [onChange]
 * @property {(token: import('./types.js').Token) => void} [onTokenApplied]
 */

export class ChatCore {
  /** @param {CoreOptions} options */
  constructor({ state = createCoreState(), storage, keys = PAGE_KEYS, onChange, onTokenApplied }) {
    this.state = state
    this.storage = storage
    this.keys = keys
    this.onChange = onChange || (() => {})
    this.onTokenApplied = onTokenApplied // tests watch the exact tokens that reach the screen
    this.transport = null
    this.active = null // the reply being followed (see stream.js)
    this.pending = null // a chat awaiting its ack; events that overtake the ack wait here
    this.lostChat = null // {message} of a chat whose ack a dropped link swallowed
    this.ended = new Set() // request ids whose done is handled: later events of theirs are ignored
    this.list = new Conversations(this)
    state.sessionId = keptId(storage, keys.session, SESSION_ID_RE)
    state.clientId = keptId(storage, keys.client, CLIENT_ID_RE, 32)
    state.chat = normalizeChatSettings(storage.get(keys.chat, null))
  }

  attach(transport) {
    this.transport = transport
  }

  get connected() {
    return !!(this.transport && this.transport.connected)
  }

  /** The auth object of a (re)connect. */
  auth(token) {
    const a = { client_id: this.state.clientId, session_id: this.state.sessionId }
    if (token) a.token = token
    return a
  }

  /** A server event: ready, token, queued, done, error or status. */
  handle(name, payload) {
    if (name === 'ready') onReady(this, payload || {})
    else if (name === 'status') onModelStatus(this, payload)
    else route(this, name, payload)
  }

  /** Emit with an acknowledgement; always resolves, to the ack or an {ok: false} saying why. */
  async call(event, data) {
    if (!this.connected) return { ok: false, error: { code: 'disconnected', message: 'Not connected to the server.' } }
    try {
      const res = await this.transport.request(event, data)
      if (res && typeof res === 'object') return res
      return { ok: false, error: { code: 'internal', message: 'The server sent an unexpected answer.' } }
    } catch (err) {
      return { ok: false, error: { code: (err && err.code) || 'disconnected', message: (err && err.message) || 'The connection dropped.' } }
    }
  }

  /** Send a message (with attachments already uploaded: [{id, name, type}], core/attachments.js). */
  async send(text = this.state.draft, attachments = []) {
    const s = this.state
    const message = String(text ?? '').replace(/\s+$/, '')
    if (!message.trim()) return this._fail('Type a message first.')
    if (s.busy) return this._fail('Wait for the reply to finish, or press Stop.')
    if (!this.connected) return this._fail('Not connected to the server. Your message is kept.')
    const max = s.limits && s.limits.max_message_chars
    if (max && message.length > max) return this._fail(`The message is too long: ${message.length} characters, the server takes at most ${max}.`)
    const userMsg = newMessage('user', message, attachments.length ? { attachments } : {})
    const reply = newMessage('assistant', '', { status: 'sending' })
    s.messages.push(userMsg, reply)
    this._changed('messages')
    this._setBusy(true)
    s.draft = ''
    s.error = ''
    s.notice = ''
    this.pending = { buffer: [], stop: false }
    const res = await this.call('chat', { message, ...chatOptions(s.chat), ...attachmentField(attachments) })
    const pending = this.pending
    if (!pending) return !!res.ok // the user switched conversations meanwhile: the reply goes on there
    this.pending = null
    if (!res.ok) {
      // Nothing entered the history: take the bubbles back and give the text back to edit or resend.
      this._removeMessages([userMsg.id, reply.id])
      // Unless the link dropped with the chat in flight: the server may have started it (see ready.js).
      const code = res.error && res.error.code
      this.lostChat = code === 'disconnected' || code === 'timeout' ? { message } : null
      this._setBusy(false)
      if (!s.draft) s.draft = message
      return this._fail(errorText(res))
    }
    const rid = String(res.request_id)
    this.active = newReply(rid, reply.id, { userId: userMsg.id })
    this._patch(reply.id, { status: 'streaming', requestId: rid })
    // A reload in the middle of the reply shows its question again while the reply replays.
    this.storage.set(this.keys.pending, { session_id: s.sessionId, request_id: rid, message })
    this.list.touchCurrent(message)
    for (const [name, payload] of pending.buffer) route(this, name, payload)
    if (pending.stop && this.active) this.stop()
    return true
  }

  async stop() {
    if (this.pending) {
      this.pending.stop = true // stop as soon as the request has an id
      return true
    }
    if (!this.active) return false
    const res = await this.call('stop', { request_id: this.active.requestId })
    if (!res.ok) this._fail(errorText(res))
    return !!res.stopped
  }

  /** Messages the server's history holds (failed and streaming ones are only on screen). */
  historyMessages() {
    return historyMessages(this)
  }

  /** Ask again: drop the last turn on the server, then send its question anew. */
  regenerate() {
    return regenerate(this)
  }

  /** Edit and resend: cut the history at `msgId` (a question) and send `text` instead. */
  edit(msgId, text) {
    return edit(this, msgId, text)
  }

  /** A fresh conversation; on a 1.1 server the old one stays in the list. */
  async newConversation() {
    if (!this.connected) return this._fail('Not connected to the server.')
    const res = await this.call(this.state.protocol > 1 ? 'new' : 'reset', {})
    if (!res.ok) return this._fail(errorText(res))
    this._leaveReply()
    if (res.session_id) this._setSession(res.session_id)
    this._setMessages([])
    if (this.state.protocol > 1) {
      this.list.added({ session_id: this.state.sessionId, title: '', messages: 0 })
      // A new chat starts with the settings of the one before.
      const opts = chatOptions(this.state.chat)
      if (Object.keys(opts).length) this.call('settings', opts)
    }
    return true
  }

  /** Switch to a saved conversation (1.1): its history, its settings, its reply if one runs. */
  async open(sessionId) {
    if (!this.connected) return this._fail('Not connected to the server.')
    const res = await this.call('open', { session_id: sessionId })
    if (!res.ok) return this._fail(errorText(res))
    this._leaveReply()
    this._setSession(res.session_id || sessionId)
    this._setMessages(mergeHistory([], res.history) || [])
    if (res.settings) this._setChat(res.settings)
    // A reply left running when the user switched away is followed again, replayed from its start.
    if (res.active_request_id) {
      this.ended.delete(res.active_request_id)
      follow(this, String(res.active_request_id), -1)
    }
    return true
  }

  /** New settings for this conversation: kept on the server (1.1, unless `remote` is false) and as this device's default. */
  setChatSettings(next, { remote = true } = {}) {
    this.state.chat = normalizeChatSettings(next)
    this._changed('chat', 'local')
    this.storage.set(this.keys.chat, this.state.chat)
    if (remote && this.state.protocol > 1 && this.connected) {
      // Fields left empty are cleared (null) rather than left as they were.
      const opts = chatOptions(this.state.chat)
      return this.call('settings', { system: null, backend: null, model: null, params: null, ...opts })
    }
    return Promise.resolve({ ok: true })
  }

  /** Make the messages show `history` (the server's truth); matching ones keep their details. */
  loadHistory(history) {
    const next = mergeHistory(this.state.messages, history)
    if (next) this._setMessages(next)
  }

  async syncHistory() {
    const res = await this.call('history', {})
    if (res.ok && !this.state.busy) this.loadHistory(res.history)
  }

  /** Stop showing the current reply (a switch of conversation); the server keeps it going. */
  _leaveReply() {
    if (this.active) {
      clearTimeout(this.active.stashTimer)
      this.ended.add(this.active.requestId)
    }
    this.active = null
    this.pending = null
    this._setBusy(false)
    this.state.error = ''
    this.state.notice = ''
  }

  // ---------- state helpers ----------

  _setSession(id) {
    if (!SESSION_ID_RE.test(id)) return
    const changed = id !== this.state.sessionId
    this.state.sessionId = id
    this.storage.set(this.keys.session, id)
    if (changed) this._changed('session')
  }

  _setChat(raw) {
    // A conversation with no settings of its own keeps what this device used last.
    if (!raw || typeof raw !== 'object' || !Object.keys(raw).length) return
    this.state.chat = normalizeChatSettings(raw)
    this._changed('chat')
  }

  _setMessages(list) {
    this.state.messages = list
    this._changed('messages')
  }

  _setBusy(busy) {
    if (this.state.busy === busy) return
    this.state.busy = busy
    this._changed('busy')
  }

  _fail(message) {
    this.state.error = message
    this._changed('error', message)
    return false
  }

  _changed(kind, detail) {
    try {
      this.onChange(kind, detail)
    } catch (err) {
      console.error(`onChange(${kind}) failed:`, err)
    }
  }

  // Look a message up through the state so a reactive() proxy sees the change.
  _msg(id) {
    const msgs = this.state.messages
    for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].id === id) return msgs[i]
    return null
  }

  _patch(id, patch) {
    const msg = this._msg(id)
    if (!msg) return
    Object.assign(msg, patch)
    this._changed('message', msg)
  }

  _removeMessages(ids) {
    this._setMessages(this.state.messages.filter((m) => !ids.includes(m.id)))
  }
}
