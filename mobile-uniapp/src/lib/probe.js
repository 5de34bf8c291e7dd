// "Test connection" in Settings: is the server there (HTTP /healthz), does the
// WebSocket get through, and is the token accepted? Each failure gets a hint.
import { SioClient } from './sio-client.js'
import { normalizeServerUrl } from './settings.js'

const HINT_UNREACHABLE =
  'Is the phone on the same Wi-Fi/hotspot as the server, is the server listening on 0.0.0.0 (its default), and is the address its LAN one?'

// uni.request as a promise that never rejects: {statusCode, data} or {errMsg}.
function get(request, url, timeout) {
  return new Promise((resolve) => {
    request({ url, method: 'GET', timeout, success: (res) => resolve(res), fail: (err) => resolve({ errMsg: (err && err.errMsg) || 'request failed' }) })
  })
}

/**
 * Returns {ok, message, ready?, health?}; `message` is what the user reads.
 * The WebSocket is what chatting needs, so it decides; /healthz only tells apart
 * "nothing answers" from "HTTP answers but the WebSocket is blocked". An H5 page
 * on another origin may not read /healthz at all (CORS), which is fine when the socket works.
 * request: uni.request; connectSocket: uni.connectSocket (both injectable).
 */
export async function testConnection(serverUrl, { token = '', sessionId, request, connectSocket, timeout = 6000 } = {}) {
  let url
  try {
    url = normalizeServerUrl(serverUrl).url
  } catch (err) {
    return { ok: false, message: err.message }
  }
  const sock = await trySocket(url, { token, sessionId, connectSocket, timeout })
  if (sock.ok) {
    const ready = sock.ready
    const name = ready.default_backend
    const b = (ready.backends || []).find((x) => x.name === name)
    let model = ''
    if (b && b.model_ready === false) model = `, model still loading${b.status ? ` (${b.status})` : ''}`
    else if (b) model = b.default_model ? `, model ${b.default_model} ready` : ', model ready'
    return { ok: true, ready, message: `Connected: backend ${name}${model}.` }
  }
  if (sock.refused) return { ok: false, message: sock.message }
  const u = typeof uni !== 'undefined' ? uni : globalThis.uni
  const req = request || ((o) => u.request(o))
  const res = await get(req, url + '/healthz', timeout)
  if (res.statusCode === 200 && res.data && res.data.status === 'ok') {
    return { ok: false, health: res.data, message: `The server answers HTTP, but ${sock.message}` }
  }
  if (res.statusCode) return { ok: false, message: `${url} answered HTTP ${res.statusCode}, but it does not look like the chat server.` }
  return { ok: false, message: `No answer from ${url}. ${HINT_UNREACHABLE}` }
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
    const timer = setTimeout(() => finish({ ok: false, message: 'the WebSocket did not connect in time (a proxy or firewall may block it).' }), timeout + 500)
    client.on('ready', (ready) => finish({ ok: true, ready }))
    client.on('connect_error', (err) => {
      if (err.message === 'unauthorized') {
        finish({ ok: false, refused: true, message: token ? 'The server refused this access token.' : 'The server needs an access token: enter the one it printed at start.' })
      } else if (err.fatal) finish({ ok: false, refused: true, message: `The server refused the connection: ${err.message}.` })
      else finish({ ok: false, message: `the WebSocket failed (${err.message}).` })
    })
    client.connect()
  })
}
