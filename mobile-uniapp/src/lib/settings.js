// User settings (server address, token, backend, model, parameters), their
// validation and their place in storage. No uni-app imports: unit-tested in Node.
import { randomId, SESSION_ID_RE } from './ids.js'

export const KEYS = { settings: 'llmchat.settings', session: 'llmchat.session_id' }

export const DEFAULT_SETTINGS = Object.freeze({
  serverUrl: '',
  token: '',
  backend: '', // '' = the server's default_backend
  model: '', // '' = that backend's default_model
  system: '',
  params: {},
})

// The protocol's Params ranges, checked here so the user sees the problem before sending.
export const PARAM_SPECS = {
  temperature: { label: 'Temperature', min: 0, max: 2, hint: '0-2' },
  top_p: { label: 'Top-p', min: 0, max: 1, minExclusive: true, hint: '(0-1]' },
  top_k: { label: 'Top-k', min: 0, int: true, hint: 'integer >= 0' },
  max_tokens: { label: 'Max tokens', min: 1, int: true, hint: 'integer >= 1' },
  repetition_penalty: { label: 'Repetition penalty', min: 1, max: 2, hint: '1-2' },
  do_sample: { label: 'Sample', bool: true, hint: 'on/off' },
}

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

// Form values (strings from inputs, booleans from switches) -> {params, errors}; '' means "server default".
export function cleanParams(raw = {}) {
  const params = {}
  const errors = {}
  for (const [name, spec] of Object.entries(PARAM_SPECS)) {
    const v = raw[name]
    if (v === undefined || v === null || v === '') continue
    if (spec.bool) {
      if (typeof v === 'boolean') params[name] = v
      else if (v === 'true' || v === 'false') params[name] = v === 'true'
      else errors[name] = `${spec.label} must be on or off`
      continue
    }
    const n = typeof v === 'number' ? v : Number(String(v).trim())
    const bad =
      !Number.isFinite(n) ||
      (spec.int && !Number.isInteger(n)) ||
      (spec.minExclusive ? n <= spec.min : n < spec.min) ||
      (spec.max !== undefined && n > spec.max)
    if (bad) errors[name] = `${spec.label} must be ${spec.hint}`
    else params[name] = n
  }
  return { params, errors }
}

// The optional parts of a `chat` payload, taken from the settings; empty ones left out.
export function chatOptions(settings) {
  const out = {}
  if (settings.backend) out.backend = settings.backend
  if (settings.model) out.model = settings.model
  if (settings.system && settings.system.trim()) out.system = settings.system
  const { params } = cleanParams(settings.params)
  if (Object.keys(params).length) out.params = params
  return out
}

export function loadSettings(storage) {
  const saved = storage.get(KEYS.settings, null)
  const obj = saved && typeof saved === 'object' ? saved : {}
  return { ...DEFAULT_SETTINGS, ...obj, params: { ...(obj.params || {}) } }
}

export function saveSettings(storage, settings) {
  storage.set(KEYS.settings, { ...DEFAULT_SETTINGS, ...settings, params: { ...(settings.params || {}) } })
}

// The conversation's id, made once and kept, so a reconnect finds the same history.
export function loadSessionId(storage) {
  const id = storage.get(KEYS.session, null)
  if (typeof id === 'string' && SESSION_ID_RE.test(id)) return id
  const fresh = randomId()
  storage.set(KEYS.session, fresh)
  return fresh
}

export function saveSessionId(storage, id) {
  if (typeof id === 'string' && SESSION_ID_RE.test(id)) storage.set(KEYS.session, id)
}
