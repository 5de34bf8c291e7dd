// Your chats on another device (protocol 1.2): make a one-time code here, redeem it there, and the
// second device takes this one's client_id, so both list, open and follow the same conversations.
// No DOM, no `uni`: http({method, path, headers, body}) -> {status, data} comes from the shell.
import { CLIENT_ID_RE, randomId } from './ids.js'
import { httpErrorText } from './roles.js'

const CODE_RE = /^[2-9A-HJ-NP-Z]{8}$/ // the server's alphabet: no 0/O, 1/I

/** A typed code ("abcd efgh", "ABCD-EFGH") in the server's form, or '' when it cannot be one. */
export function cleanCode(text) {
  const code = String(text || '').replace(/[\s-]/g, '').toUpperCase()
  return CODE_RE.test(code) ? code : ''
}

/** ABCD-EFGH: easier to read aloud and to type. */
export function formatCode(code) {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code
}

/** The code in a pairing link's fragment (#pair=CODE), or ''. */
export function codeFromHash(hash) {
  const m = /(?:^#|&)pair=([^&]+)/.exec(String(hash || ''))
  return m ? cleanCode(decodeURIComponent(m[1])) : ''
}

/** m:ss left of a code that expires at `expiresAt` (ms); '0:00' once gone. */
export function timeLeft(expiresAt, now = Date.now()) {
  const s = Math.max(0, Math.ceil((expiresAt - now) / 1000))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** A new code for this device: {code, url, qr, expiresAt}; throws an Error with the server's sentence. */
export async function makeCode(http, clientId, now = Date.now()) {
  const res = await http({ method: 'POST', path: '/api/devices/pair', headers: { 'X-Client-Id': clientId }, body: {} })
  const d = res && res.data
  if (!res || res.status !== 200 || !d || !d.ok) throw new Error(httpErrorText(res && res.status, d, 'No code could be made'))
  return { code: d.code, url: d.url, qr: d.qr || '', expiresAt: now + d.expires_in * 1000 }
}

/** Redeem a typed code: the first device's client_id; throws an Error with a sentence. */
export async function redeemCode(http, typed) {
  const code = cleanCode(typed)
  if (!code) throw new Error('A code is 8 letters and digits, as shown on your other device.')
  const res = await http({ method: 'POST', path: '/api/devices/redeem', body: { code } })
  const d = res && res.data
  if (!res || res.status !== 200 || !d || !d.ok || !CLIENT_ID_RE.test(d.client_id || '')) {
    const err = /** @type {Error & {status?: number}} */ (new Error(httpErrorText(res && res.status, d, 'The code could not be used')))
    err.status = (res && res.status) || 0 // 401: this device needs the access token before it may redeem
    throw err
  }
  return d.client_id
}

/**
 * Make this device the owner `clientId` names: a fresh conversation of that owner, the list emptied
 * until the next `ready`. The shell then reconnects (its auth reads core.auth()) and, when `ready`
 * brings the list, calls openNewest().
 */
export function adoptClient(core, clientId) {
  if (!CLIENT_ID_RE.test(clientId)) return false
  core._leaveReply()
  core.state.clientId = clientId
  core.storage.set(core.keys.client, clientId)
  core.storage.remove(core.keys.pending)
  core._setSession(randomId())
  core._setMessages([])
  core.state.list.query = ''
  core.state.list.items = []
  core._changed('list')
  return true
}

/** Open the newest conversation of the list (after adopting: where the other device chats). */
export async function openNewest(core) {
  const first = core.state.list.items[0]
  if (!first || first.session_id === core.state.sessionId) return false
  return core.open(first.session_id)
}
