// This device's settings (server address, token), their validation and their place in storage.
// The settings of each chat (backend, model, system prompt, params) live in the chat core.
import { cleanParams, normalizeChatSettings } from '@core/params.js'

export { PARAM_SPECS, cleanParams, chatOptions } from '@core/params.js'

export const KEYS = { settings: 'llmchat.settings', session: 'llmchat.session_id', client: 'llmchat.client_id', chat: 'llmchat.chat', pending: 'llmchat.pending' }

export const DEFAULT_SETTINGS = Object.freeze({ serverUrl: '', token: '' })

const LOOPBACK = /^(127\.|localhost$|\[?::1\]?$)/i

// "192.168.43.1:5000" -> {url: "http://192.168.43.1:5000", warning?}; throws a readable Error.
export function normalizeServerUrl(input) {
  let s = String(input || '').trim()
  if (!s) throw new Error('Enter the server address, e.g. http://192.168.43.1:5000')
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = 'http://' + s
  s = s.replace(/^ws:/i, 'http:').replace(/^wss:/i, 'https:')
  const m = /^(https?):\/\/([^/?#\s]+)(\/[^?#\s]*)?$/i.exec(s)
  if (!m) throw new Error('The address must look like http://192.168.43.1:5000')
  const hostPort = m[2]
  const hm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort)
  if (!hm) throw new Error(`"${hostPort}" is not a host and port`)
  const host = hm[1]
  if (hm[2] !== undefined && (+hm[2] < 1 || +hm[2] > 65535)) throw new Error(`Port ${hm[2]} is out of range`)
  if (host === '0.0.0.0') throw new Error('0.0.0.0 is where the server listens, not an address to reach it: use its LAN address, e.g. 192.168.43.1')
  const path = (m[3] || '').replace(/\/+$/, '')
  const url = `${m[1].toLowerCase()}://${hostPort}${path}`
  const warning = LOOPBACK.test(host)
    ? `${host} is this device itself. On a phone, use the server computer's LAN address (e.g. http://192.168.43.1:5000).`
    : undefined
  return warning ? { url, warning } : { url }
}

export function loadSettings(storage) {
  const saved = storage.get(KEYS.settings, null)
  const obj = saved && typeof saved === 'object' ? saved : {}
  return { serverUrl: typeof obj.serverUrl === 'string' ? obj.serverUrl : '', token: typeof obj.token === 'string' ? obj.token : '' }
}

export function saveSettings(storage, settings) {
  storage.set(KEYS.settings, { serverUrl: settings.serverUrl || '', token: settings.token || '' })
}

// One settings object -> {device: {serverUrl, token}, chat: the chat's part or null}; throws on bad params.
export function splitSettings(next) {
  const device = { serverUrl: next.serverUrl || '', token: String(next.token || '').trim() }
  const hasChat = ['backend', 'model', 'system', 'params', 'knowledge', 'graph'].some((k) => k in next)
  if (!hasChat) return { device, chat: null }
  const bad = Object.values(cleanParams(next.params).errors)
  if (bad.length) throw new Error(bad.join('; '))
  return { device, chat: normalizeChatSettings(next) }
}
