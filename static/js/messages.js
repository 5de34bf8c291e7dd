// The conversation on screen: one <li> per message of the core's state, kept by id, so only
// what changed is redrawn; a streaming reply is redrawn at most once per frame interval.
import { h, icon, formatMs } from './util.js'
import { StreamRenderer, copyButton } from './render.js'
import { autosize, isSendKey } from './composer.js'
import { linkCitations, paintSources } from './knowledge.js'
import { paintAttachments } from './attach.js'

const FRAME_MS = 50 // at most one repaint of the streaming reply per this many ms

export class MessagesView {
  constructor({ list, empty, core, scroller, composer, announce, loadAttachment }) {
    this.loadAttachment = loadAttachment || (() => Promise.resolve(''))
    this.list = list
    this.empty = empty
    this.core = core
    this.scroller = scroller
    this.composer = composer
    this.announce = announce
    this.views = new Map() // message id -> {li, body, renderer, ...}
    this.dirty = new Set()
    this.frameTimer = null
    this.lastPaint = 0
  }

  /** The list's structure follows the state: new messages built, gone ones removed. */
  sync() {
    const msgs = this.core.state.messages
    const ids = new Set(msgs.map((m) => m.id))
    for (const [id, v] of this.views) {
      if (!ids.has(id)) {
        v.li.remove()
        this.views.delete(id)
        this.dirty.delete(id)
      }
    }
    let prev = null
    for (const m of msgs) {
      let v = this.views.get(m.id)
      if (!v) {
        v = this.build(m)
        this.views.set(m.id, v)
      }
      const want = prev ? prev.nextSibling : this.list.firstChild
      if (want !== v.li) this.list.insertBefore(v.li, want)
      prev = v.li
    }
    this.empty.hidden = msgs.length > 0
    this.paintAllActions()
    this.scroller.toEnd()
  }

  /** One message changed: its status now, its text at the next frame while it streams. */
  update(m) {
    const v = this.views.get(m.id)
    if (!v) return
    if (m.role === 'user') {
      this.paintUser(m, v)
    } else if (m.status === 'streaming' || m.status === 'sending') {
      // Per token only the text changes: the status line and buttons are redrawn when they would differ.
      const key = `${m.status}|${m.queuePosition}|${!!(m.content || m.reasoning)}|${m.error}`
      if (key !== v.statusKey) {
        v.statusKey = key
        this.paintStatus(m, v)
        this.paintActions(m, v)
      }
      this.schedule(m.id)
      return
    } else {
      this.dirty.delete(m.id)
      this.paintAssistant(m, v, true)
      if (m.status === 'done') this.announce(m.finishReason === 'cancelled' ? 'Reply stopped.' : 'Reply finished.')
      else if (m.status === 'error') this.announce(m.error || 'The reply failed.')
    }
    this.paintActions(m, v)
    this.scroller.toEnd()
  }

  /** The renderer of the newest message (the browser tests watch its tail). */
  last() {
    const msgs = this.core.state.messages
    return msgs.length ? this.views.get(msgs[msgs.length - 1].id) : null
  }

  build(m) {
    const v = { li: h('li', { class: `msg ${m.role}` }), editing: false }
    v.actions = h('div', { class: 'actions' })
    if (m.role === 'user') {
      v.bubble = h('div', { class: 'bubble' })
      v.li.append(v.bubble, v.actions)
      this.paintUser(m, v)
    } else {
      v.body = h('div', { class: 'md' })
      v.renderer = new StreamRenderer(v.body)
      v.statusEl = h('div', { class: 'reply-status', role: 'status' })
      // Sources under a grounded reply (the knowledge base, #14) go between the status and the actions.
      v.extras = h('div', { class: 'reply-extras' })
      v.li.append(v.body, v.statusEl, v.extras, v.actions)
      this.paintAssistant(m, v, m.status !== 'streaming')
    }
    this.paintActions(m, v)
    return v
  }

  paintUser(m, v) {
    if (!v.editing) v.bubble.textContent = m.content // user text is never parsed as HTML
    paintAttachments(v.li, m, this.loadAttachment)
    v.li.classList.toggle('failed', m.status === 'failed')
  }

  paintAssistant(m, v, final) {
    const streaming = m.status === 'streaming' || m.status === 'sending'
    if (m.reasoning) {
      this.ensureThink(v)
      const thinking = streaming && !m.content
      v.think.classList.toggle('live', thinking)
      v.thinkLabel.textContent = thinking ? 'Thinking…' : 'Thoughts'
      if (streaming) v.thinkRenderer.update(m.reasoning)
      else v.thinkRenderer.finish(m.reasoning)
    } else if (v.think) {
      v.think.remove()
      v.think = null
    }
    if (streaming && !final) v.renderer.update(m.content)
    else v.renderer.finish(m.content)
    v.li.classList.toggle('streaming', streaming)
    v.li.classList.toggle('failed', m.status === 'error')
    paintSources(v.extras, m)
    if (!streaming) linkCitations(v.body, m, v.extras)
    this.paintStatus(m, v)
  }

  ensureThink(v) {
    if (v.think) return
    const summary = h('summary', {}, icon('spark'), h('span', { class: 'think-label' }, 'Thinking…'))
    const body = h('div', { class: 'think-body md' })
    v.think = h('details', { class: 'thinking' }, summary, body)
    v.thinkLabel = summary.querySelector('.think-label')
    v.thinkRenderer = new StreamRenderer(body)
    v.li.insertBefore(v.think, v.body)
  }

  paintStatus(m, v) {
    const el = v.statusEl
    el.replaceChildren()
    v.li.classList.toggle('streaming', m.status === 'streaming' || m.status === 'sending')
    if (m.status === 'streaming' || m.status === 'sending') {
      if (m.queuePosition) {
        el.append(h('span', { class: 'pill' }, m.queuePosition <= 1 ? 'Waiting in line: you are next' : `Waiting in line: position ${m.queuePosition}`))
      } else if (!m.content && !m.reasoning) {
        const st = this.modelStatus()
        if (st && st.model_ready === false) el.append(h('span', { class: 'pill' }, st.message || 'Loading the model…'))
        else el.append(h('span', { class: 'typing', 'aria-label': 'Writing' }, h('i'), h('i'), h('i')))
      }
      if (m.error) el.append(errorBox(m.error))
    } else if (m.status === 'error') {
      el.append(errorBox(m.error || 'The reply failed.'))
    }
  }

  modelStatus() {
    const s = this.core.state
    return s.modelStatus[s.chat.backend || s.defaultBackend] || null
  }

  /** Model status changed: the waiting reply may say "Loading the model" instead of dots. */
  paintStreamingStatus() {
    for (const m of this.core.state.messages) {
      if (m.status === 'streaming' && this.views.has(m.id)) this.paintStatus(m, this.views.get(m.id))
    }
  }

  paintAllActions() {
    for (const m of this.core.state.messages) {
      const v = this.views.get(m.id)
      if (v && !v.editing) this.paintActions(m, v)
    }
  }

  paintActions(m, v) {
    const a = v.actions
    a.replaceChildren()
    const core = this.core
    const busy = core.state.busy
    if (m.role === 'user') {
      if (m.status === 'done' && !busy) {
        a.append(h('button', { type: 'button', class: 'act-btn', 'aria-label': 'Edit and resend', title: 'Edit', onclick: () => this.startEdit(m.id) }, icon('edit')))
      }
      a.append(copyButton(() => m.content, 'Copy message'))
      return
    }
    if (m.status === 'streaming' || m.status === 'sending') return
    if (m.status === 'error') {
      const msgs = core.state.messages
      if (msgs[msgs.length - 1] === m) {
        a.append(h('button', { type: 'button', class: 'act-btn wide', onclick: () => this.regenerate(), disabled: busy }, icon('retry'), h('span', {}, 'Try again')))
      }
      return
    }
    a.append(copyButton(() => m.content.trim(), 'Copy reply'))
    const hist = core.historyMessages()
    if (!busy && hist[hist.length - 1] === m && hist.length >= 2 && hist[hist.length - 2].role === 'user') {
      a.append(h('button', { type: 'button', class: 'act-btn', 'aria-label': 'Regenerate reply', title: 'Regenerate', onclick: () => this.regenerate() }, icon('regen')))
    }
    const meta = replyMeta(m)
    if (meta.length) a.append(h('span', { class: 'meta' }, meta.join(' · ')))
  }

  async regenerate() {
    if (!(await this.core.regenerate())) this.composer.takeBack()
  }

  startEdit(id) {
    const m = this.core._msg(id)
    const v = this.views.get(id)
    if (!m || !v || this.core.state.busy || v.editing) return
    v.editing = true
    const ta = h('textarea', { class: 'edit-input', 'aria-label': 'Edit message', rows: 1 })
    ta.value = m.content
    const max = this.core.state.limits.max_message_chars
    if (max) ta.maxLength = max
    const cancel = h('button', { type: 'button', class: 'ghost-btn' }, 'Cancel')
    const save = h('button', { type: 'submit', class: 'primary-btn' }, 'Send')
    const form = h('form', { class: 'edit-form' }, ta, h('div', { class: 'edit-actions' }, cancel, save))
    const finish = () => {
      v.editing = false
      form.replaceWith(v.bubble)
      v.actions.hidden = false
      this.paintUser(m, v)
      this.paintActions(m, v)
    }
    cancel.addEventListener('click', finish)
    ta.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault()
        finish()
      } else if (isSendKey(ev)) {
        ev.preventDefault()
        form.requestSubmit()
      }
    })
    ta.addEventListener('input', () => autosize(ta, 320))
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      const text = ta.value
      if (!text.trim() || this.core.state.busy) return
      save.disabled = true
      const ok = await this.core.edit(id, text)
      if (form.isConnected) finish()
      if (!ok) this.composer.takeBack()
      this.scroller.toEnd(true)
    })
    v.bubble.replaceWith(form)
    v.actions.hidden = true
    autosize(ta, 320)
    ta.focus()
    ta.setSelectionRange(ta.value.length, ta.value.length)
  }

  schedule(id) {
    this.dirty.add(id)
    if (this.frameTimer !== null) return
    const wait = Math.max(0, FRAME_MS - (performance.now() - this.lastPaint))
    this.frameTimer = setTimeout(() => requestAnimationFrame(() => this.flush()), wait)
  }

  flush() {
    this.frameTimer = null
    this.lastPaint = performance.now()
    for (const id of this.dirty) {
      const m = this.core._msg(id)
      const v = this.views.get(id)
      if (m && v && m.status === 'streaming') this.paintAssistant(m, v, false)
    }
    this.dirty.clear()
    this.scroller.toEnd()
  }
}

function errorBox(message) {
  return h('div', { class: 'error-box' }, icon('alert'), h('span', {}, message || 'Something went wrong.'))
}

function replyMeta(m) {
  const out = []
  if (m.finishReason === 'cancelled') out.push('Stopped')
  else if (m.finishReason === 'length') out.push('Cut at max tokens')
  const t = m.timings
  if (t && Number.isFinite(t.tokens_per_s)) out.push(`${t.tokens_per_s.toFixed(t.tokens_per_s < 10 ? 1 : 0)} tok/s`)
  if (t && Number.isFinite(t.ttft_ms)) out.push(`${formatMs(t.ttft_ms)} to first token`)
  if (m.usage && Number.isFinite(m.usage.completion_tokens)) out.push(`${m.usage.completion_tokens} tokens`)
  return out
}
