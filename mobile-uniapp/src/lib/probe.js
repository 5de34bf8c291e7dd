// "Test connection" in Settings: is the server there (HTTP /healthz), does the
// WebSocket get through, and is the token accepted? Each failure gets a hint.
import { SioClient } from './sio-client.js'
import { normalizeServerUrl } from './settings.js'

const HINT_UNREACHABLE =
  'Is the phone on the same Wi-Fi/hotspot as the server, was the server started with --host 0.0.0.0, and is the address its LAN one?'

// uni.request as a promise that never rejects: {statusCode, data} or {errMsg}.
function get(request, url, timeout) {
  return new Promise((resolve) => {
    request({ url, method: 'GET', timeout, success: (res) => resolve(res), fail: (err) => resolve({ errMsg: (err && err.errMsg) || 'request failed' }) })
  })
}

/**
 * Returns {ok, message, health?, ready?}; `message` is what the user reads.
 * request: uni.request; connectSocket: uni.connectSocket (both injectable for tests).
 */
export async function testConnection(serverUrl, { token = '', sessionId, request, connectSocket, timeout = 6000 } = {}) {
  let url
  try {
    url = normalizeServerUrl(serverUrl).url
  } catch (err) {
    return { ok: false, message: err.message }
  }
  const u = typeof uni !== 'undefined' ? uni : globalThis.uni
  const req = request || ((o) => u.request(o))
  const res = await get(req, url + '/healthz', timeout)
  if (res.errMsg || !res.statusCode) return { ok: false, message: `No answer from ${url} (${res.errMsg}). ${HINT_UNREACHABLE}` }
  if (res.statusCode !== 200 || !res.data || res.data.status !== 'ok') {
    return { ok: false, message: `${url} answered HTTP ${res.statusCode}, but it does not look like the chat server.` }
  }
  const health = res.data
  const sock = await trySocket(url, { token, sessionId, connectSocket, timeout })
  if (!sock.ok) return { ok: false, health, message: sock.message }
  const model = health.model_ready ? 'model ready' : 'model still loading'
  return { ok: true, health, ready: sock.ready, message: `Connected: backend ${health.backend}, ${model}.` }
}

// One connection attempt, no retries: resolves on `ready` or on the first failure.
function trySocket(url, { token, sessionId, connectSocket, timeout }) {
  return new Promise((resolve) => {
    const auth = {}
    if (sessionId) auth.session_id = sessionId
    if (token) auth.token = token
    const client = new SioClient({ url, auth, connectSocket, reconnection: false, connectTimeout: timeout })
    const finish = (result) => {
      clearTimeout(timer)
      client.close()
      resolve(result)
    }
    const timer = setTimeout(() => finish({ ok: false, message: 'HTTP works but the WebSocket did not connect in time (a proxy or firewall may block it).' }), timeout + 500)
    client.on('ready', (ready) => finish({ ok: true, ready }))
    client.on('connect_error', (err) => {
      if (err.message === 'unauthorized') finish({ ok: false, message: token ? 'The server refused this access token.' : 'The server needs an access token: enter the one it printed at start.' })
      else finish({ ok: false, message: `HTTP works but the WebSocket failed: ${err.message}.` })
    })
    client.connect()
  })
}
