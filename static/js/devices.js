// Settings > Your chats on another device: show a one-time code (QR, code, link, time left), or use
// a code from another device. The protocol part is in core/devices.js; this draws and wires it.
import { adoptClient, codeFromHash, formatCode, makeCode, openNewest, redeemCode, timeLeft } from './core/devices.js'

export class DevicesPanel {
  /** `http` is the page's /api fetch; `reconnect()` opens the socket again with the core's auth. */
  constructor(doc, core, http, { toast, reconnect }) {
    const $ = (id) => doc.getElementById(id)
    this.core = core
    this.http = http
    this.toast = toast
    this.reconnect = reconnect
    this.dialog = $('pair-dialog')
    this.qr = $('pair-qr')
    this.code = $('pair-code')
    this.link = $('pair-link')
    this.left = $('pair-left')
    this.again = $('pair-again')
    this.input = $('pair-input')
    this.status = $('pair-status')
    this.timer = null
    this.adopted = false // the next `ready` brings the other device's list: open its newest chat
    this.pendingCode = '' // a code that waits for the access token
    $('open-pair').addEventListener('click', () => this.show())
    this.again.addEventListener('click', () => this.show())
    $('pair-redeem').addEventListener('click', () => this.redeem(this.input.value))
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault() // not a submit of the settings form
        this.redeem(this.input.value)
      }
    })
    this.dialog.addEventListener('close', () => clearInterval(this.timer))
    window.addEventListener('hashchange', () => this.redeemFromLink()) // a link opened in this very tab
    this.dialog.addEventListener('click', (ev) => { if (ev.target === this.dialog) this.dialog.close() })
  }

  async show() {
    if (!this.dialog.open) this.dialog.showModal()
    this.again.hidden = true
    this.left.textContent = 'Making a code…'
    let made
    try {
      made = await makeCode(this.http, this.core.state.clientId)
    } catch (err) {
      this.left.textContent = err.message
      this.again.hidden = false
      return
    }
    this.qr.src = made.qr
    this.qr.hidden = !made.qr
    this.code.textContent = formatCode(made.code)
    this.link.href = made.url
    this.link.textContent = made.url
    const tick = () => {
      const left = timeLeft(made.expiresAt)
      this.left.textContent = left === '0:00' ? 'This code has expired.' : `Works once, for ${left} more.`
      if (left === '0:00') {
        clearInterval(this.timer)
        this.again.hidden = false
        this.qr.hidden = true
      }
    }
    clearInterval(this.timer)
    this.timer = setInterval(tick, 1000)
    tick()
  }

  /** Use a code from another device: this one then lists and follows that device's chats. */
  async redeem(typed) {
    this.status.classList.remove('bad')
    this.status.textContent = 'Checking the code…'
    let clientId
    try {
      clientId = await redeemCode(this.http, typed)
    } catch (err) {
      if (err.status === 401) {
        // A phone that scanned the code on a server with an access token: redeem once it is let in.
        this.pendingCode = typed
        this.status.textContent = 'Enter the access token first; the code is used right after.'
        return false
      }
      this.status.textContent = err.message
      this.status.classList.add('bad')
      this.toast(err.message)
      return false
    }
    this.input.value = ''
    this.status.textContent = 'This device now shows the chats of your other device.'
    this.toast(this.status.textContent)
    this.adopted = adoptClient(this.core, clientId)
    this.reconnect()
    return true
  }

  /** A pairing link opened this page (/#pair=CODE): redeem it, and take the code out of the address bar. */
  redeemFromLink() {
    const code = codeFromHash(window.location.hash)
    if (!window.location.hash.includes('pair=')) return
    history.replaceState(null, '', window.location.pathname + window.location.search)
    if (code) this.redeem(code)
    else this.toast('That link holds no valid code: make a new one on your other device.')
  }

  /** After `ready`: a code that waited for the access token is used; once the other device's list is here,
   * its newest chat opens. */
  onReady() {
    if (this.pendingCode) {
      const code = this.pendingCode
      this.pendingCode = ''
      this.redeem(code)
      return
    }
    if (!this.adopted) return
    this.adopted = false
    openNewest(this.core)
  }
}
