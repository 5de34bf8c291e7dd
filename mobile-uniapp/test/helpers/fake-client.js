// Stands in for SioClient in controller tests: records requests, lets the test
// answer them and push server events.
import { Emitter } from '../../src/lib/emitter.js'
import { SioError } from '../../src/lib/sio-client.js'

export class FakeClient extends Emitter {
  constructor(opts) {
    super()
    this.opts = opts
    this.connected = false
    this.requests = [] // {event, data, resolve, reject}
    this.handlers = {} // event -> (data) => ack payload (auto-answer)
    this.closed = false
    this.backoff = { attempts: 0 }
    this.woken = 0
  }
  connect() {
    this.emit('state', 'connecting', {})
    return this
  }
  // Test side: complete the handshake and send `ready`.
  accept(ready) {
    this.connected = true
    this.emit('state', 'connected', {})
    this.emit('connect')
    if (ready) this.emit('ready', ready)
  }
  drop(reason = 'socket closed (1006)') {
    this.connected = false
    for (const r of this.requests.splice(0)) r.reject(new SioError('disconnected', 'The connection dropped before the server answered.'))
    this.emit('disconnect', reason)
    this.emit('state', 'reconnecting', { reason, delay: 1000 })
  }
  refuse(message) {
    this.emit('state', 'refused', { message })
    this.emit('connect_error', { message, fatal: true })
  }
  wake() {
    this.woken++
  }
  close() {
    this.closed = true
    this.connected = false
  }
  request(event, data) {
    if (!this.connected) return Promise.reject(new SioError('disconnected', 'Not connected to the server.'))
    return new Promise((resolve, reject) => {
      const auto = this.handlers[event]
      if (auto) return Promise.resolve().then(() => resolve(auto(data)))
      this.requests.push({ event, data, resolve, reject })
    })
  }
  // The oldest unanswered request for `event`.
  take(event) {
    const i = this.requests.findIndex((r) => r.event === event)
    if (i < 0) throw new Error(`no pending ${event}; pending: ${this.requests.map((r) => r.event)}`)
    return this.requests.splice(i, 1)[0]
  }
  server(name, payload) {
    this.emit(name, payload)
  }
}

// A controller factory hook that keeps every client it made.
export function clientFactory() {
  const made = []
  const create = (opts) => {
    const c = new FakeClient(opts)
    made.push(c)
    return c
  }
  create.made = made
  create.last = () => made[made.length - 1]
  return create
}

export const tick = () => new Promise((r) => setTimeout(r, 0))
