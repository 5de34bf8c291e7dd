// The settings sheet: backend, model, system prompt and sampling of the current conversation.
// Each change goes to the core, which keeps it with the conversation (and as this device's default).
import { PARAM_SPECS, cleanParams, backendLabel, backendHint } from './core/params.js'

// The number fields of the sheet; do_sample has no field here.
const FIELDS = Object.keys(PARAM_SPECS).filter((name) => !PARAM_SPECS[name].bool)
const SAVE_MS = 400 // typing in a field sends one `settings` after a pause, not one per key

export class SettingsForm {
  constructor(doc, core) {
    this.core = core
    const $ = (id) => doc.getElementById(id)
    this.backendSel = $('set-backend')
    this.modelSel = $('set-model')
    this.backendNote = $('backend-status')
    this.backendHint = $('backend-hint')
    this.system = $('set-system')
    this.inputs = Object.fromEntries(FIELDS.map((name) => [name, $(`set-${name}`)]))
    this.saveTimer = null
    doc.getElementById('settings').addEventListener('close', () => this.flush())
    window.addEventListener('pagehide', () => this.flush())

    this.system.addEventListener('input', () => this.changed())
    for (const name of FIELDS) {
      const input = this.inputs[name]
      input.addEventListener('input', () => {
        input.setAttribute('aria-invalid', name in cleanParams({ [name]: input.value }).errors ? 'true' : 'false')
        this.changed()
      })
    }
    this.backendSel.addEventListener('change', () => {
      this.fillModels('')
      this.changed(true)
    })
    this.modelSel.addEventListener('change', () => this.changed(true))
    $('reset-params').addEventListener('click', () => {
      for (const name of FIELDS) {
        this.inputs[name].value = ''
        this.inputs[name].setAttribute('aria-invalid', 'false')
      }
      this.changed(true)
    })
  }

  /** What the form holds, as chat settings (params as typed: a half-typed "0." survives a reload). */
  values() {
    const params = {}
    for (const name of FIELDS) {
      const v = this.inputs[name].value.trim()
      if (v) params[name] = v
    }
    const out = { ...this.core.state.chat, backend: this.backendSel.value, model: this.modelSel.value, system: this.system.value, params }
    return out
  }

  /** Kept on this device at once; sent to the server after a pause in typing (or `now`). */
  changed(now = false) {
    clearTimeout(this.saveTimer)
    this.saveTimer = null
    if (now) {
      this.core.setChatSettings(this.values())
      return
    }
    this.core.setChatSettings(this.values(), { remote: false })
    this.saveTimer = setTimeout(() => this.flush(), SAVE_MS)
  }

  /** Send what is still waiting (the sheet closes, the page goes away). */
  flush() {
    if (this.saveTimer === null) return
    clearTimeout(this.saveTimer)
    this.saveTimer = null
    this.core.setChatSettings(this.values())
  }

  /** Show the current conversation's settings (after ready, open, or a switch). */
  load() {
    clearTimeout(this.saveTimer)
    this.saveTimer = null
    const c = this.core.state.chat
    this.fillBackends()
    this.fillModels(c.model)
    this.system.value = c.system || ''
    for (const name of FIELDS) {
      const v = c.params[name]
      this.inputs[name].value = v === null || v === undefined ? '' : String(v)
      this.inputs[name].setAttribute('aria-invalid', name in cleanParams({ [name]: v }).errors ? 'true' : 'false')
    }
  }

  fillBackends() {
    const s = this.core.state
    const sel = this.backendSel
    sel.replaceChildren()
    for (const b of s.backends) {
      const opt = document.createElement('option')
      opt.value = b.name
      opt.textContent = backendLabel(b) + (b.name === s.defaultBackend && s.backends.length > 1 ? ' (default)' : '')
      sel.append(opt)
    }
    const wanted = s.chat.backend
    sel.value = s.backends.some((b) => b.name === wanted) ? wanted : s.defaultBackend
  }

  fillModels(wanted) {
    const b = this.backend()
    const sel = this.modelSel
    sel.replaceChildren()
    const models = b && Array.isArray(b.models) && b.models.length ? b.models : (b && b.default_model ? [b.default_model] : [])
    for (const m of models) {
      const opt = document.createElement('option')
      opt.value = m
      opt.textContent = m + (b && m === b.default_model && models.length > 1 ? ' (default)' : '')
      sel.append(opt)
    }
    sel.value = models.includes(wanted) ? wanted : ((b && b.default_model) || models[0] || '')
    sel.disabled = models.length < 2
    this.paintNotes()
  }

  /** Under the backend: whether its model still loads, and the server's one-line hint (#11). */
  paintNotes() {
    const b = this.backend()
    const st = b ? this.core.state.modelStatus[b.name] : null
    this.backendNote.textContent = st && !st.model_ready ? st.message || 'The model is loading.' : ''
    this.backendHint.textContent = backendHint(b)
  }

  /** The chosen entry of `ready.backends`, or null before `ready`. */
  backend() {
    const name = this.backendSel.value
    return this.core.state.backends.find((b) => b.name === name) || null
  }

  model() {
    return this.modelSel.value || null
  }

  /** Names of fields holding a value that will not be sent. */
  invalid() {
    const raw = Object.fromEntries(FIELDS.map((name) => [name, this.inputs[name].value]))
    return Object.keys(cleanParams(raw).errors)
  }
}
