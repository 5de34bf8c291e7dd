// A scripted server behind a fake uni.connectSocket, for client unit tests that
// need exact control of frames and timing (the live tests use the real server).
export function fakeConnectSocket({ autoOpen = true, autoAccept = true, pingInterval = 200, pingTimeout = 200 } = {}) {
  const tasks = []
  function connectSocket(opts = {}) {
    const task = new FakeTask(opts.url)
    tasks.push(task)
    connectSocket.onTask && connectSocket.onTask(task)
    if (!opts.success && !opts.fail && !opts.complete) return Promise.resolve({})
    if (autoOpen) setTimeout(() => task.open({ pingInterval, pingTimeout }), 0)
    task.autoAccept = autoAccept
    return task
  }
  connectSocket.tasks = tasks
  connectSocket.last = () => tasks[tasks.length - 1]
  return connectSocket
}

export class FakeTask {
  constructor(url) {
    this.url = url
    this.sent = []
    this.closed = null
    this.handlers = { open: [], message: [], close: [], error: [] }
    this.auth = undefined
  }
  onOpen(cb) { this.handlers.open.push(cb) }
  onMessage(cb) { this.handlers.message.push(cb) }
  onClose(cb) { this.handlers.close.push(cb) }
  onError(cb) { this.handlers.error.push(cb) }
  send({ data, fail }) {
    if (this.closed) return fail && fail({ errMsg: 'not connected' })
    this.sent.push(data)
    if (this.autoAccept && data.startsWith('40')) {
      this.auth = data.length > 2 ? JSON.parse(data.slice(2)) : undefined
      setTimeout(() => this.push('40{"sid":"s-' + Math.random().toString(36).slice(2) + '"}'), 0)
    }
    this.onSent && this.onSent(data)
  }
  close({ code } = {}) {
    if (this.closed) return
    this.closed = { code }
  }
  // server side
  open(opts = {}) {
    this.handlers.open.forEach((cb) => cb({}))
    this.push('0' + JSON.stringify({ sid: 'e', upgrades: [], pingInterval: 200, pingTimeout: 200, maxPayload: 1e6, ...opts }))
  }
  push(frame) {
    if (!this.closed) this.handlers.message.forEach((cb) => cb({ data: frame }))
  }
  event(name, data, id) {
    this.push('42' + (id ?? '') + JSON.stringify([name, data]))
  }
  drop(code = 1006) {
    this.closed = { code }
    this.handlers.close.forEach((cb) => cb({ code, reason: '' }))
  }
  frames(prefix) {
    return this.sent.filter((f) => f.startsWith(prefix))
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Polls until fn() is truthy, or fails with `what` after `ms`.
export async function until(fn, what = 'condition', ms = 3000, step = 10) {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(step)
  }
}
