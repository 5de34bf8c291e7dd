// The protocol's Params and the settings kept with a conversation, checked before sending.

export const PARAM_SPECS = {
  temperature: { label: 'Temperature', min: 0, max: 2, hint: '0-2' },
  top_p: { label: 'Top-p', min: 0, max: 1, minExclusive: true, hint: '(0-1]' },
  top_k: { label: 'Top-k', min: 0, int: true, hint: 'integer >= 0' },
  max_tokens: { label: 'Max tokens', min: 1, int: true, hint: 'integer >= 1' },
  repetition_penalty: { label: 'Repetition penalty', min: 1, max: 2, hint: '1-2' },
  do_sample: { label: 'Sample', bool: true, hint: 'on/off' },
}

/**
 * Form values (strings, numbers, booleans) -> {params, errors}; '' or null means "server default".
 * @returns {{params: import('./types.js').Params, errors: Object<string, string>}}
 */
export function cleanParams(raw = {}) {
  const params = {}
  /** @type {Object<string, string>} */
  const errors = {}
  for (const [name, spec] of Object.entries(PARAM_SPECS)) {
    const v = raw ? raw[name] : undefined
    if (v === undefined || v === null || v === '') continue
    if (spec.bool) {
      if (typeof v === 'boolean') params[name] = v
      else if (v === 'true' || v === 'false') params[name] = v === 'true'
      else errors[name] = `${spec.label} must be on or off`
      continue
    }
    const text = String(v).trim()
    if (text === '') continue
    const n = typeof v === 'number' ? v : Number(text)
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

/**
 * A conversation's settings in one shape, whatever storage or the server handed over.
 * @returns {import('./types.js').ChatSettings}
 */
export function normalizeChatSettings(raw) {
  const o = raw && typeof raw === 'object' ? raw : {}
  const str = (v) => (typeof v === 'string' ? v : '')
  // Older pages kept one model per backend in `models`.
  const model = str(o.model) || (o.models && typeof o.models === 'object' ? str(o.models[o.backend]) : '')
  const out = { backend: str(o.backend), model, system: str(o.system), params: {} }
  if (o.params && typeof o.params === 'object') {
    for (const [k, v] of Object.entries(o.params)) if (k in PARAM_SPECS && v !== null && v !== undefined && v !== '') out.params[k] = v
  }
  // A per-chat switch a later capability adds (the knowledge base, #14) travels the same way.
  if (typeof o.knowledge === 'boolean') out.knowledge = o.knowledge
  if (typeof o.graph === 'boolean') out.graph = o.graph
  return out
}

/** The optional parts of a `chat` or `settings` payload; empty ones left out. */
export function chatOptions(settings) {
  const s = normalizeChatSettings(settings)
  const out = {}
  if (s.backend) out.backend = s.backend
  if (s.model) out.model = s.model
  if (s.system.trim()) out.system = s.system
  const { params } = cleanParams(s.params)
  if (Object.keys(params).length) out.params = params
  if (typeof s.knowledge === 'boolean') out.knowledge = s.knowledge
  if (typeof s.graph === 'boolean') out.graph = s.graph
  return out
}

/** What the backend picker says: the server's label (#11), else the name; and its one-line hint. */
export function backendLabel(b) {
  return (b && (b.label || b.name)) || ''
}

export function backendHint(b) {
  return (b && typeof b.hint === 'string' && b.hint) || ''
}
