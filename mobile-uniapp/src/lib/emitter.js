// Minimal event emitter: uni-app targets have no Node 'events' module.
export class Emitter {
  constructor() {
    this._handlers = new Map()
  }

  on(name, fn) {
    if (!this._handlers.has(name)) this._handlers.set(name, new Set())
    this._handlers.get(name).add(fn)
    return () => this.off(name, fn)
  }

  once(name, fn) {
    const off = this.on(name, (...args) => {
      off()
      fn(...args)
    })
    return off
  }

  off(name, fn) {
    const set = this._handlers.get(name)
    if (set) set.delete(fn)
  }

  // A throwing listener must not break the socket's packet loop.
  emit(name, ...args) {
    const set = this._handlers.get(name)
    if (!set) return false
    for (const fn of [...set]) {
      try {
        fn(...args)
      } catch (err) {
        console.error(`listener for "${name}" failed:`, err)
      }
    }
    return set.size > 0
  }
}
