// Everything around the conversation: the header (model and connection), the banner, toasts,
// the screen-reader announcer, the settings and token dialogs, and the on-screen keyboard.
import { h } from './util.js'
import { backendLabel } from './core/params.js'

const CONN_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  unauthorized: 'Access token needed',
  refused: 'Not connected',
}
const RECONNECT_QUIET_MS = 1200 // a blip shorter than this shows no banner

export class Chrome {
  constructor(els, core) {
    this.els = els
    this.core = core
    this.conn = 'connecting'
    this.connMessage = ''
    this.reconnectShownAt = 0
    this.announceTimer = null
    this.settings = null // the SettingsForm, once made
    els.openSettings.addEventListener('click', () => this.openSettings())
    els.chip.addEventListener('click', () => this.openSettings())
    els.settings.addEventListener('click', (ev) => {
      if (ev.target === els.settings) els.settings.close() // a tap on the backdrop
    })
    els.settings.addEventListener('close', () => this.paintHeader()) // the dialog gives focus back by itself
  }

  openSettings() {
    if (!this.els.settings.open) this.els.settings.showModal()
  }

  setConn(conn, message = '') {
    if (conn === 'reconnecting' && this.conn !== 'reconnecting') {
      this.reconnectShownAt = Date.now()
      setTimeout(() => this.paintBanner(), RECONNECT_QUIET_MS + 100)
    }
    this.conn = conn
    this.connMessage = message
    this.paintHeader()
    this.paintBanner()
  }

  paintHeader() {
    const { els } = this
    const b = this.settings && this.settings.backend()
    const model = this.settings && this.settings.model()
    // A backend the server labels (the built-in demo model, #11) is named by its label while its default model runs.
    const labelled = b && b.label && (!model || model === b.default_model)
    els.modelName.textContent = (labelled ? b.label : model) || backendLabel(b) || 'Chat'
    els.chip.title = b ? `${backendLabel(b)} · ${model || b.default_model || ''}` : 'Settings'
    els.conn.dataset.state = this.conn
    els.connText.textContent = CONN_TEXT[this.conn] || this.conn
    els.chip.setAttribute('aria-label', `Model ${els.modelName.textContent}, ${els.connText.textContent}. Open settings`)
  }

  paintBanner() {
    const { els } = this
    let text = ''
    let progress = null
    let kind = 'info'
    if (this.conn === 'unauthorized') {
      text = 'This server needs an access token.'
      kind = 'warn'
    } else if (this.conn === 'refused') {
      text = this.connMessage || 'The server refused the connection. Retrying…'
      kind = 'warn'
    } else if (this.conn === 'reconnecting' && Date.now() - this.reconnectShownAt > RECONNECT_QUIET_MS) {
      text = 'Connection lost. Reconnecting…'
      kind = 'warn'
    } else if (this.conn === 'connected') {
      const b = this.settings && this.settings.backend()
      const st = b ? this.core.state.modelStatus[b.name] : null
      if (st && st.model_ready === false) {
        text = st.message || 'Loading the model…'
        if (Number.isFinite(st.progress)) progress = Math.max(0, Math.min(1, st.progress))
      }
    }
    els.bannerAction.hidden = this.conn !== 'unauthorized'
    els.banner.hidden = !text
    els.banner.dataset.kind = kind
    els.bannerText.textContent = text
    els.bannerProgress.hidden = progress === null
    if (progress !== null) els.bannerBar.style.width = `${Math.round(progress * 100)}%`
  }

  /** A message at the top for a few seconds; `action` {label, run} adds a button (Undo). */
  toast(message, action = null, ms = 7000) {
    const { toasts } = this.els
    const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×')
    const t = h('div', { class: 'toast' }, h('span', {}, message))
    const remove = () => t.remove()
    if (action) {
      t.append(h('button', { type: 'button', class: 'toast-action', onclick: () => { remove(); action.run() } }, action.label))
    }
    t.append(close)
    close.addEventListener('click', remove)
    toasts.append(t)
    setTimeout(remove, ms)
    while (toasts.children.length > 3) toasts.firstElementChild.remove()
    return remove
  }

  announce(text) {
    clearTimeout(this.announceTimer)
    this.els.announce.textContent = ''
    this.announceTimer = setTimeout(() => { this.els.announce.textContent = text }, 50)
  }

  /** The page cannot start: say so where the banner is. */
  fatal(message) {
    const { els } = this
    els.banner.hidden = false
    els.banner.dataset.kind = 'warn'
    els.bannerText.textContent = message
    els.connText.textContent = 'Not started'
    els.send.disabled = true
  }
}

/** Keep the composer above the on-screen keyboard: the app takes the visual viewport's size. */
export function fitViewport(onResize) {
  const vv = window.visualViewport
  if (!vv) return
  const fit = () => {
    if (vv.scale > 1.01) return // pinch zoom: leave the layout alone
    const root = document.documentElement.style
    root.setProperty('--app-h', `${Math.round(vv.height)}px`)
    root.setProperty('--app-top', `${Math.round(vv.offsetTop)}px`)
    onResize()
  }
  vv.addEventListener('resize', fit)
  vv.addEventListener('scroll', fit)
  fit()
}
