// The Settings page's form: settings <-> input strings, and what the pickers offer.
import { PARAM_SPECS, cleanParams, backendLabel, backendHint } from '@core/params.js'
import { normalizeServerUrl } from './settings.js'

export const SAMPLE_CHOICES = [
  { label: 'Server default', value: '' },
  { label: 'On', value: true },
  { label: 'Off', value: false },
]

// s: this device's settings and the chat's, in one object ({...state.settings, ...state.chat}).
export function formFromSettings(s) {
  const params = {}
  for (const name of Object.keys(PARAM_SPECS)) {
    const v = s.params ? s.params[name] : undefined
    params[name] = v === undefined || v === null ? '' : PARAM_SPECS[name].bool ? v : String(v)
  }
  return { serverUrl: s.serverUrl || '', token: s.token || '', backend: s.backend || '', model: s.model || '', system: s.system || '', params, knowledge: s.knowledge === true, graph: s.graph === true }
}

// Form -> {settings, errors, warning}; errors map field names to sentences.
export function settingsFromForm(form) {
  const errors = {}
  let serverUrl = ''
  let warning
  if (String(form.serverUrl || '').trim()) {
    try {
      ({ url: serverUrl, warning } = normalizeServerUrl(form.serverUrl))
    } catch (err) {
      errors.serverUrl = err.message
    }
  } else {
    errors.serverUrl = 'Enter the server address, e.g. http://192.168.43.1:5000'
  }
  const { params, errors: paramErrors } = cleanParams(form.params)
  Object.assign(errors, paramErrors)
  const settings = { serverUrl, token: String(form.token || '').trim(), backend: form.backend || '', model: form.model || '', system: form.system || '', params, knowledge: !!form.knowledge, graph: !!form.graph }
  return { settings, errors, warning }
}

// Picker rows for the backend: "server default" first, then each backend by its label (#11) and readiness.
export function backendChoices(backends = [], defaultBackend = '') {
  const d = backends.find((b) => b.name === defaultBackend)
  const rows = [{ label: defaultBackend ? `Server default (${backendLabel(d) || defaultBackend})` : 'Server default', value: '' }]
  for (const b of backends) rows.push({ label: b.model_ready === false ? `${backendLabel(b)} (loading)` : backendLabel(b), value: b.name })
  return rows
}

// The one line under the picker that says how to get a stronger model, if the server gives one.
export function backendHintOf(backends = [], backendName = '', defaultBackend = '') {
  return backendHint(backends.find((x) => x.name === (backendName || defaultBackend)))
}

// Models of the chosen backend (or of the default one when none is chosen).
export function modelChoices(backends = [], backendName = '', defaultBackend = '') {
  const b = backends.find((x) => x.name === (backendName || defaultBackend))
  const rows = [{ label: b && b.default_model ? `Backend default (${b.default_model})` : 'Backend default', value: '' }]
  for (const m of (b && b.models) || []) rows.push({ label: m, value: m })
  return rows
}

export function indexOfValue(rows, value) {
  const i = rows.findIndex((r) => r.value === value)
  return i < 0 ? 0 : i
}
