// Socket.IO v5 / Engine.IO v4 client over uni.connectSocket (WebSocket only).
// socket.io-client needs browser globals that App and mini-program targets lack,
// so this speaks the protocol itself. Plain JS: only the `uni` global, and even
// that can be injected (`connectSocket`) so Node tests run it over the `ws` package.
import { Emitter } from './emitter.js'
import { Backoff } from './backoff.js'
import { EIO, SIO, socketUrl, decodeEngine, decodeSocket, encodeSocket } from './sio-packets.js'
import { defaultConnectSocket, errText, safeClose } from './uni-socket.js'

// Names the client emits itself; a server event with one of these names is dropped.
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'state'])

export class SioError extends Error {
  constructor(code, message) {
    super(message)
    this.code = code
  }
}

export class SioClient extends Emitter {
  /**
   * url: the server's http(s) address; auth: object or () => object, read at every connect;
   * connectSocket: defaults to uni.connectSocket; sendPongs: false only to prove the heartbeat in tests.
   */
  constructor(opts = {}) {
    super()
    this.url = socketUrl(opts.url, opts.path)
    this.auth = opts.auth
    this.connectSocket = opts.connectSocket || defaultConnectSocket()
    this.reconnection = opts.reconnection !== false
    this.backoff = opts.backoff instanceof Backoff ? opts.backoff : new Backoff(opts.backoff)
    this.connectTimeout = opts.connectTimeout ?? 10000
    this.ackTimeout = opts.ackTimeout ?? 20000
    this.sendPongs = opts.sendPongs !== false
    this.state = 'idle' // idle | connecting | connected | reconnecting | disconnected | refused | closed
    this.sid = null
    this.lastError = null
    this.lastPacketAt = 0
    this._link = null
    this._acks = new Map()
    this._nextId = 0
    this._retryTimer = null
  }

  get connected() {
    return this.state === 'connected'
  }

  // Start (or restart after a refusal or clean close) connecting.
  connect() {
    if (this.state === 'connected' || this.state === 'connecting') return this
    clearTimeout(this._retryTimer)
    this._open()
    return this
  }

  // The app came back to the foreground: retry now instead of after the backoff,
  // and replace a link that went silent while timers were frozen.
  wake() {
    if (this.state === 'reconnecting') {
      clearTimeout(this._retryTimer)
      this._open()
    } else if (this.state === 'connected' && this._link && Date.now() - this.lastPacketAt > this._deadAfter(this._link)) {
      this._lost(this._link, 'no heartbeat while in background', { immediate: true })
    }
  }

  // Clean close: tell the server, stop retrying, fail what is waiting for an answer.
  close() {
    clearTimeout(this._retryTimer)
    const link = this._link
    const wasConnected = this.state === 'connected'
    this._link = null
    if (link) {
      this._stopTimers(link)
      if (wasConnected) this._write(link, encodeSocket({ type: SIO.DISCONNECT }))
      safeClose(link.task, 1000, 'client closed')
    }
    this._failAcks('disconnected', 'The connection was closed.')
    this._setState('closed')
    if (wasConnected) this.emit('disconnect', 'io client disconnect')
  }

  // Fire-and-forget event; with onAck, called once with the server's answer or an SioError.
  send(event, data, onAck) {
    if (!this.connected || !this._link) {
      if (onAck) onAck(new SioError('disconnected', 'Not connected to the server.'))
      return false
    }
    let id
    if (onAck) {
      id = this._nextId++
      const timer = setTimeout(() => {
        this._acks.delete(id)
        onAck(new SioError('timeout', `The server did not answer "${event}" in time.`))
      }, this.ackTimeout)
      this._acks.set(id, { onAck, timer })
    }
    const args = data === undefined ? [event] : [event, data]
    this._write(this._link, encodeSocket({ type: SIO.EVENT, id, data: args }))
    return true
  }

  // Event with acknowledgement as a promise: resolves with the server's ack payload.
  request(event, data) {
    return new Promise((resolve, reject) => {
      this.send(event, data, (res) => (res instanceof SioError ? reject(res) : resolve(res)))
    })
  }

  _open() {
    const link = { task: null, open: null, connected: false, early: [], timers: {} }
    this._link = link
    this.sid = null
    this._setState('connecting')
    const fail = (err) => this._lost(link, `cannot open the socket: ${errText(err)}`)
    try {
      // uni.connectSocket returns a SocketTask only when given a callback.
      link.task = this.connectSocket({ url: this.url, complete: () => {}, fail })
    } catch (err) {
      link.task = null
      setTimeout(() => fail(err), 0)
      return
    }
    if (!link.task || typeof link.task.onMessage !== 'function') {
      setTimeout(() => fail(new Error('connectSocket returned no SocketTask')), 0)
      return
    }
    link.timers.connect = setTimeout(() => this._lost(link, 'connection timed out'), this.connectTimeout)
    link.task.onMessage((res) => this._onFrame(link, res && res.data))
    link.task.onClose((res) => this._lost(link, `socket closed${res && res.code ? ` (${res.code})` : ''}`))
    link.task.onError((err) => this._lost(link, `socket error: ${errText(err)}`))
  }

  _onFrame(link, frame) {
    if (link !== this._link) return
    const pkt = decodeEngine(frame)
    if (!pkt) return // binary frames are not part of this protocol
    this.lastPacketAt = Date.now()
    if (link.open) this._armWatchdog(link) // any packet proves the link is alive
    switch (pkt.type) {
      case EIO.OPEN:
        return this._onOpen(link, pkt.data)
      case EIO.PING:
        if (this.sendPongs) this._write(link, EIO.PONG)
        return
      case EIO.CLOSE:
        return this._lost(link, 'server closed the transport')
      case EIO.MESSAGE:
        return this._onSocketPacket(link, pkt.data)
      default:
        return // pong, noop, upgrade: nothing to do on a WebSocket-only link
    }
  }

  _onOpen(link, json) {
    try {
      link.open = JSON.parse(json)
    } catch (err) {
      return this._lost(link, 'bad open packet')
    }
    this._armWatchdog(link)
    const auth = typeof this.auth === 'function' ? this.auth() : this.auth
    this._write(link, encodeSocket({ type: SIO.CONNECT, data: auth || undefined }))
  }

  _onSocketPacket(link, text) {
    let pkt
    try {
      pkt = decodeSocket(text)
    } catch (err) {
      console.warn('dropping bad packet:', err.message)
      return
    }
    if (pkt.nsp !== '/') return
    switch (pkt.type) {
      case SIO.CONNECT:
        return this._onConnected(link, pkt.data)
      case SIO.CONNECT_ERROR:
        return this._onRefused(link, pkt.data)
      case SIO.DISCONNECT:
        return this._lost(link, 'io server disconnect', { retry: false })
      case SIO.EVENT:
        // python-socketio may send events from its connect handler before CONNECT: hold them.
        if (!link.connected) link.early.push(pkt)
        else this._dispatch(link, pkt)
        return
      case SIO.ACK:
        return this._onAck(pkt)
    }
  }

  _onConnected(link, data) {
    clearTimeout(link.timers.connect)
    link.connected = true
    this.sid = (data && data.sid) || null
    this.lastError = null
    this.backoff.reset()
    this._setState('connected')
    this.emit('connect')
    for (const pkt of link.early.splice(0)) if (link === this._link) this._dispatch(link, pkt)
  }

  // The server's connect handler said no (e.g. "unauthorized"): retrying the same auth is useless.
  _onRefused(link, data) {
    const message = (data && data.message) || 'connection refused'
    this.lastError = message
    this._link = null
    this._stopTimers(link)
    safeClose(link.task, 1000, 'refused')
    this._setState('refused', { message })
    this.emit('connect_error', { message, data: data && data.data, fatal: true })
  }

  _dispatch(link, pkt) {
    const [name, ...args] = pkt.data
    if (RESERVED.has(name)) return
    if (pkt.id !== undefined) {
      let answered = false
      args.push((...reply) => {
        if (answered || link !== this._link) return
        answered = true
        this._write(link, encodeSocket({ type: SIO.ACK, id: pkt.id, data: reply }))
      })
    }
    this.emit(name, ...args)
  }

  _onAck(pkt) {
    const pending = this._acks.get(pkt.id)
    if (!pending) return
    this._acks.delete(pkt.id)
    clearTimeout(pending.timer)
    pending.onAck(pkt.data[0])
  }

  // The link is gone (closed, errored, silent or refused to open): tidy up, maybe retry.
  _lost(link, reason, { retry = this.reconnection, immediate = false } = {}) {
    if (link !== this._link) return // a stale socket's late callback
    this._link = null
    this._stopTimers(link)
    safeClose(link.task, 4000, reason)
    const wasConnected = this.state === 'connected'
    this.lastError = reason
    this._failAcks('disconnected', 'The connection dropped before the server answered.')
    if (wasConnected) this.emit('disconnect', reason)
    else this.emit('connect_error', { message: reason, fatal: false })
    if (!retry) return this._setState('disconnected', { reason })
    const delay = immediate ? 0 : this.backoff.next()
    this._setState('reconnecting', { reason, delay, attempt: this.backoff.attempts })
    clearTimeout(this._retryTimer)
    this._retryTimer = setTimeout(() => this._open(), delay)
  }

  _deadAfter(link) {
    const o = link.open || {}
    return (o.pingInterval || 25000) + (o.pingTimeout || 20000)
  }

  // No packet within pingInterval + pingTimeout means the link died without a close.
  _armWatchdog(link) {
    clearTimeout(link.timers.watchdog)
    link.timers.watchdog = setTimeout(() => this._lost(link, 'heartbeat timed out'), this._deadAfter(link))
  }

  _stopTimers(link) {
    for (const t of Object.values(link.timers)) clearTimeout(t)
  }

  _failAcks(code, message) {
    const pending = [...this._acks.values()]
    this._acks.clear()
    for (const p of pending) {
      clearTimeout(p.timer)
      p.onAck(new SioError(code, message))
    }
  }

  _write(link, frame) {
    if (!link.task) return
    try {
      link.task.send({ data: frame, fail: (err) => this._lost(link, `send failed: ${errText(err)}`) })
    } catch (err) {
      this._lost(link, `send failed: ${errText(err)}`)
    }
  }

  _setState(state, detail = {}) {
    this.state = state
    this.emit('state', state, detail)
  }
}
