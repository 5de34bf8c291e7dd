// The settings panel: backend, model, system prompt and sampling parameters, kept in localStorage.
import { store } from './util.js';

const KEY = 'chat.settings.v1';

// Bounds from PROTOCOL.md's Params; a value outside them is not sent (the field shows as invalid).
export const PARAMS = [
  { name: 'temperature', min: 0, max: 2, int: false },
  { name: 'top_p', min: 0, max: 1, int: false, minExclusive: true },
  { name: 'top_k', min: 0, int: true },
  { name: 'max_tokens', min: 1, int: true },
  { name: 'repetition_penalty', min: 1, max: 2, int: false },
];

/** The number a field holds, or null when empty; NaN when it is not a valid value. */
export function parseParam(spec, raw) {
  const text = String(raw ?? '').trim();
  if (text === '') return null;
  const n = Number(text);
  if (!Number.isFinite(n)) return NaN;
  if (spec.int && !Number.isInteger(n)) return NaN;
  if (spec.minExclusive ? n <= spec.min : n < spec.min) return NaN;
  if (spec.max !== undefined && n > spec.max) return NaN;
  return n;
}

export class Settings {
  constructor(doc = document) {
    this.backendSel = doc.getElementById('set-backend');
    this.modelSel = doc.getElementById('set-model');
    this.backendNote = doc.getElementById('backend-status');
    this.system = doc.getElementById('set-system');
    this.inputs = Object.fromEntries(PARAMS.map((p) => [p.name, doc.getElementById(`set-${p.name}`)]));
    this.resetBtn = doc.getElementById('reset-params');
    this.listeners = [];
    this.backends = [];
    this.defaultBackend = null;

    const saved = store.get(KEY, {}) || {};
    this.values = {
      backend: typeof saved.backend === 'string' ? saved.backend : null,
      models: saved.models && typeof saved.models === 'object' ? saved.models : {},
      system: typeof saved.system === 'string' ? saved.system : '',
      params: saved.params && typeof saved.params === 'object' ? saved.params : {},
    };

    this.system.value = this.values.system;
    for (const p of PARAMS) {
      const v = this.values.params[p.name];
      this.inputs[p.name].value = v === null || v === undefined ? '' : String(v);
    }

    this.system.addEventListener('input', () => {
      this.values.system = this.system.value;
      this.save();
    });
    for (const p of PARAMS) {
      const input = this.inputs[p.name];
      input.addEventListener('input', () => {
        const n = parseParam(p, input.value);
        input.setAttribute('aria-invalid', Number.isNaN(n) ? 'true' : 'false');
        // keep what was typed, even if invalid, so a half-typed "0." survives a reload
        this.values.params[p.name] = input.value.trim() === '' ? null : input.value.trim();
        this.save();
      });
    }
    this.backendSel.addEventListener('change', () => {
      this.values.backend = this.backendSel.value;
      this.fillModels();
      this.save();
    });
    this.modelSel.addEventListener('change', () => {
      this.values.models[this.backendSel.value] = this.modelSel.value;
      this.save();
    });
    this.resetBtn.addEventListener('click', () => {
      for (const p of PARAMS) {
        this.inputs[p.name].value = '';
        this.inputs[p.name].setAttribute('aria-invalid', 'false');
      }
      this.values.params = {};
      this.save();
    });
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  save() {
    store.set(KEY, this.values);
    for (const fn of this.listeners) fn(this);
  }

  /** Fill the backend and model lists from `ready.backends`, keeping the saved choice when it still exists. */
  setBackends(backends, defaultBackend) {
    this.backends = Array.isArray(backends) ? backends : [];
    this.defaultBackend = defaultBackend || (this.backends[0] && this.backends[0].name) || null;
    const sel = this.backendSel;
    sel.replaceChildren();
    for (const b of this.backends) {
      const opt = document.createElement('option');
      opt.value = b.name;
      opt.textContent = b.name + (b.name === this.defaultBackend ? ' (default)' : '');
      sel.append(opt);
    }
    const wanted = this.values.backend;
    sel.value = this.backends.some((b) => b.name === wanted) ? wanted : (this.defaultBackend || '');
    this.fillModels();
    this.paintBackendNote();
  }

  /** Update one backend's loading state from a `status` event. */
  updateStatus(s) {
    const b = this.backends.find((x) => x.name === s.backend);
    if (!b) return;
    b.model_ready = s.model_ready;
    b.status = s.message || '';
    b.progress = s.progress;
    this.paintBackendNote();
  }

  fillModels() {
    const b = this.backend();
    const sel = this.modelSel;
    sel.replaceChildren();
    const models = b && Array.isArray(b.models) && b.models.length ? b.models : (b && b.default_model ? [b.default_model] : []);
    for (const m of models) {
      const opt = document.createElement('option');
      opt.value = m;
      opt.textContent = m + (b && m === b.default_model && models.length > 1 ? ' (default)' : '');
      sel.append(opt);
    }
    const wanted = b ? this.values.models[b.name] : null;
    sel.value = models.includes(wanted) ? wanted : ((b && b.default_model) || models[0] || '');
    sel.disabled = models.length < 2;
    this.paintBackendNote();
  }

  paintBackendNote() {
    const b = this.backend();
    let note = '';
    if (b && b.model_ready === false) note = b.status || 'The model is loading.';
    this.backendNote.textContent = note;
  }

  /** The chosen backend entry of `ready.backends`, or null before `ready`. */
  backend() {
    const name = this.backendSel.value;
    return this.backends.find((b) => b.name === name) || null;
  }

  model() {
    return this.modelSel.value || null;
  }

  /** The fields of a `chat` payload other than `message`. */
  payload() {
    const out = {};
    const b = this.backend();
    if (b) {
      out.backend = b.name;
      const m = this.model();
      if (m) out.model = m;
    }
    const system = this.system.value.trim();
    if (system) out.system = system;
    const params = {};
    for (const p of PARAMS) {
      const n = parseParam(p, this.inputs[p.name].value);
      if (n !== null && !Number.isNaN(n)) params[p.name] = n;
    }
    if (Object.keys(params).length) out.params = params;
    return out;
  }

  /** Names of fields holding a value that will not be sent. */
  invalid() {
    return PARAMS.filter((p) => Number.isNaN(parseParam(p, this.inputs[p.name].value))).map((p) => p.name);
  }
}
