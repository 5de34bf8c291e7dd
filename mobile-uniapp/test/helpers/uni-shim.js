// A Node stand-in for the parts of the `uni` global the client uses, over real
// sockets (`ws`) and real HTTP, so tests exercise the same code a phone runs.
import WebSocket from 'ws'
import http from 'node:http'

// uni.connectSocket: returns a SocketTask only when a callback is given, as uni does.
export function makeConnectSocket() {
  const open = new Set()
  function connectSocket({ url, header, protocols, success, fail, complete } = {}) {
    const ws = new WebSocket(url, protocols, { headers: header })
    open.add(ws)
    const on = { open: [], message: [], close: [], error: [] }
    const fire = (kind, arg) => on[kind].forEach((cb) => cb(arg))
    ws.on('open', () => fire('open', {}))
    ws.on('message', (data, isBinary) => fire('message', { data: isBinary ? data : data.toString() }))
    ws.on('error', (err) => fire('error', { errMsg: err.message }))
    ws.on('close', (code, reason) => {
      open.delete(ws)
      fire('close', { code, reason: reason.toString() })
    })
    const task = {
      ws,
      onOpen: (cb) => on.open.push(cb),
      onMessage: (cb) => on.message.push(cb),
      onClose: (cb) => on.close.push(cb),
      onError: (cb) => on.error.push(cb),
      send({ data, success: ok, fail: bad, complete: done } = {}) {
        if (ws.readyState !== WebSocket.OPEN) {
          bad && bad({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' })
        } else {
          ws.send(data)
          ok && ok({})
        }
        done && done({})
      },
      close({ code = 1000, reason = '', success: ok, complete: done } = {}) {
        try {
          if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
          else ws.close(code, reason)
        } catch (err) {
          ws.terminate()
        }
        ok && ok({})
        done && done({})
      },
    }
    if (!success && !fail && !complete) return Promise.resolve({ errMsg: 'connectSocket:ok' })
    queueMicrotask(() => {
      success && success({ errMsg: 'connectSocket:ok' })
      complete && complete({ errMsg: 'connectSocket:ok' })
    })
    return task
  }
  // A dead network: drop every socket without a close handshake.
  connectSocket.killAll = () => {
    for (const ws of open) ws.terminate()
  }
  // A silent network: stop reading, as when Wi-Fi vanishes but no FIN arrives.
  connectSocket.freezeAll = () => {
    for (const ws of open) ws._socket && ws._socket.pause()
  }
  connectSocket.openCount = () => open.size
  return connectSocket
}

// uni storage over a Map; `dump` lets a test read what would survive an app restart.
export function makeStorage(initial = {}) {
  const map = new Map(Object.entries(initial))
  return {
    getStorageSync: (k) => (map.has(k) ? map.get(k) : ''),
    setStorageSync: (k, v) => void map.set(k, v),
    removeStorageSync: (k) => void map.delete(k),
    dump: () => Object.fromEntries(map),
  }
}

// uni.request for GET/POST JSON, with uni's success/fail callback shape and its default timeout (60 s).
export function request({ url, method = 'GET', data, header = {}, timeout = 60000, success, fail, complete }) {
  const body = data === undefined || method === 'GET' ? undefined : JSON.stringify(data)
  const req = http.request(url, { method, timeout, headers: { ...header, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
    let text = ''
    res.setEncoding('utf8')
    res.on('data', (c) => (text += c))
    res.on('end', () => {
      let parsed = text
      try {
        parsed = JSON.parse(text)
      } catch (err) {
        /* keep text */
      }
      success && success({ statusCode: res.statusCode, data: parsed, header: res.headers })
      complete && complete({})
    })
  })
  req.on('timeout', () => req.destroy(new Error('request:fail timeout')))
  req.on('error', (err) => {
    fail && fail({ errMsg: `request:fail ${err.message}` })
    complete && complete({})
  })
  if (body) req.write(body)
  req.end()
}

// Installs a whole fake `uni` global and returns it.
export function installUni(extra = {}) {
  const uni = { connectSocket: makeConnectSocket(), request, ...makeStorage(), ...extra }
  globalThis.uni = uni
  return uni
}
