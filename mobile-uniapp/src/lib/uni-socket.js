// uni.connectSocket's task, handled the same on H5, App and mini-programs: open, close, error text.
export function defaultConnectSocket() {
  const u = typeof uni !== 'undefined' ? uni : globalThis.uni
  if (!u || typeof u.connectSocket !== 'function') return () => { throw new Error('uni.connectSocket is not available') }
  return (opts) => u.connectSocket(opts)
}

export function safeClose(task, code, reason) {
  if (!task) return
  try {
    // 4000-4999 are the only codes besides 1000 a client may send.
    task.close({ code, reason: String(reason).slice(0, 100), fail: () => {} })
  } catch (err) {
    /* already closed */
  }
}

export function errText(err) {
  if (!err) return 'unknown error'
  return err.errMsg || err.message || String(err)
}
