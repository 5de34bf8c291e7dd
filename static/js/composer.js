// The message box: grows with its text, Enter sends (Shift+Enter or a touch keyboard's
// Enter is a new line), Escape stops, the draft survives a reload.
import { store } from './util.js'

const DRAFT_KEY = 'chat.draft'

export function coarse() {
  return window.matchMedia('(pointer: coarse)').matches
}

export function autosize(ta, maxPx) {
  ta.style.height = 'auto'
  ta.style.height = `${Math.min(ta.scrollHeight + 2, maxPx)}px`
}

/** Enter without Shift, not while composing CJK text, on a keyboard with keys. */
export function isSendKey(ev) {
  return ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229 && !coarse()
}

export class Composer {
  constructor(els, core, { beforeSend } = {}) {
    this.els = els
    this.core = core
    this.beforeSend = beforeSend || (() => {})
    this.draftTimer = null
    const input = els.input
    if (coarse()) {
      input.setAttribute('enterkeyhint', 'enter')
      els.hint.classList.add('touch')
    }
    const draft = store.get(DRAFT_KEY, '')
    if (typeof draft === 'string' && draft) this.setText(draft)
    input.addEventListener('input', () => {
      autosize(input, this.maxHeight())
      this.paint()
      this.saveDraft()
    })
    input.addEventListener('keydown', (ev) => {
      if (isSendKey(ev)) {
        ev.preventDefault()
        els.form.requestSubmit()
      } else if (ev.key === 'Escape' && core.state.busy) {
        ev.preventDefault()
        core.stop()
      }
    })
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      this.submit()
    })
    els.stop.addEventListener('click', () => {
      els.stop.disabled = true
      core.stop().finally(() => { els.stop.disabled = false })
    })
  }

  async submit() {
    const text = this.els.input.value
    if (!text.trim() || this.core.state.busy) return
    if (this.core.connected) this.beforeSend()
    const attached = this.tray ? this.tray.take() : []
    const ok = await this.core.send(text, attached)
    if (!ok && this.tray) this.tray.restore(attached)
    this.core.state.draft = '' // the box still holds the text when it was not sent
    if (ok && this.els.input.value === text) this.setText('')
  }

  /** Text the core gave back (an edit or regenerate that could not be sent) goes into the box. */
  takeBack() {
    const text = this.core.state.draft
    this.core.state.draft = ''
    if (text) this.setText(text)
  }

  /** Put text back in the box (an edit or regenerate that could not be sent). */
  setText(text) {
    this.els.input.value = text
    autosize(this.els.input, this.maxHeight())
    this.paint()
    this.saveDraft()
  }

  maxHeight() {
    return Math.max(96, Math.round(this.els.app.clientHeight * 0.4))
  }

  setLimit(max) {
    if (max) this.els.input.maxLength = max
  }

  paint() {
    const { els, core } = this
    const busy = core.state.busy
    els.send.hidden = busy
    els.stop.hidden = !busy
    els.send.disabled = !els.input.value.trim() || !core.connected
    const max = core.state.limits.max_message_chars
    const n = els.input.value.length
    els.counter.hidden = !(max && n > max * 0.8)
    if (!els.counter.hidden) {
      els.counter.textContent = `${n} / ${max}`
      els.counter.classList.toggle('over', n >= max)
    }
  }

  saveDraft() {
    clearTimeout(this.draftTimer)
    this.draftTimer = setTimeout(() => {
      if (this.els.input.value) store.set(DRAFT_KEY, this.els.input.value)
      else store.remove(DRAFT_KEY)
    }, 300)
  }
}
