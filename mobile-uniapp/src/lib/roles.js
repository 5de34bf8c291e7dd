// Roles and devices in the app: the core's Role and pairing calls (static/js/core, DOM-free) over
// uni.request. No uni here (the request function is handed in), so Node tests reach it.
import { Role, httpErrorText, jsonBody } from '@core/roles.js'
import { adoptClient, openNewest, cleanCode, codeFromHash } from '@core/devices.js'

export const ADMIN_KEY = 'llmchat.admin_token'

/** http({method, path, headers, body}) -> {status, data} for the core, over a uni.request-like function. */
export function uniHttp(request, settings) {
  return ({ method = 'GET', path, headers = {}, body }) => new Promise((resolve) => {
    const { serverUrl, token } = settings()
    if (!serverUrl) return resolve({ status: 0, data: { error: { message: 'Set the server address in Settings first.' } } })
    const header = { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers }
    if (body !== undefined) header['Content-Type'] = 'application/json'
    request({
      url: serverUrl + path,
      method,
      header,
      data: body,
      success: (res) => resolve({ status: res.statusCode, data: jsonBody(res.data) }),
      fail: () => resolve({ status: 0, data: null }),
    })
  })
}

/** The app's Role: the admin token kept in uni storage, asked of the server the settings name. */
export function makeRole(storage, request, settings) {
  return new Role({ storage, http: uniHttp(request, settings), key: ADMIN_KEY })
}

/** What a scan (uni.scanCode) found: a pairing link (…#pair=CODE) or the bare code; '' for anything else. */
export function codeFromScan(text) {
  const s = String(text || '')
  return s.includes('#') ? codeFromHash(s.slice(s.indexOf('#'))) : cleanCode(s)
}

/** The controller now speaks for the first device: its client_id, a reconnect, then its newest chat. */
export function adoptInto(chat, clientId) {
  if (!adoptClient(chat, clientId)) return false
  chat.openNewestOnReady = true
  chat.connect()
  return true
}

/** After `ready` (the controller calls it): open the first device's newest chat once it has adopted. */
export function afterReady(chat) {
  if (!chat.openNewestOnReady) return
  chat.openNewestOnReady = false
  openNewest(chat)
}

export { httpErrorText }
