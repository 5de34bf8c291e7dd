// Settings > Manage this server: unlock this device with the admin token (kept in localStorage),
// or forget it; or take the admin link the server prints at start (/#admin=TOKEN) once. What the device
// may do lives in core/roles.js; this only draws and asks.
import { adminFromLink } from './core/roles.js'

export class ManagePanel {
  constructor(doc, role, toast) {
    const $ = (id) => doc.getElementById(id)
    this.role = role
    this.toast = toast
    this.status = $('manage-status')
    this.unlockBox = $('manage-unlock')
    this.input = $('admin-input')
    this.unlockBtn = $('admin-unlock')
    this.forgetBtn = $('admin-forget')
    this.unlockBtn.addEventListener('click', () => this.unlock())
    // Enter in the field would submit the settings form, which closes the sheet.
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault()
        this.unlock()
      }
    })
    this.forgetBtn.addEventListener('click', async () => {
      await role.forget()
      toast('The admin token is forgotten on this device.')
    })
    role.on(() => this.paint())
    this.paint()
    window.addEventListener('hashchange', () => this.unlockFromLink()) // the link pasted into an open tab
  }

  /** The admin link opened this page (/#admin=TOKEN): the token leaves the address bar at once (Back does not
   * bring it back), then unlocks this browser as the field would. */
  async unlockFromLink(win = window) {
    if (!win.location.hash.includes('admin=')) return
    const token = adminFromLink(win.location.hash)
    win.history.replaceState(null, '', win.location.pathname + win.location.search)
    const res = token ? await this.role.unlock(token) : { ok: false, message: 'That admin link holds no token.' }
    this.status.textContent = res.message
    this.status.classList.toggle('bad', !res.ok)
    this.toast(res.ok ? res.message : `The admin link did not unlock this browser: ${res.message}`)
  }

  async unlock() {
    this.unlockBtn.disabled = true
    const res = await this.role.unlock(this.input.value)
    this.unlockBtn.disabled = false
    if (res.ok) this.input.value = ''
    this.status.textContent = res.message
    this.status.classList.toggle('bad', !res.ok)
    if (res.ok) this.toast(res.message)
  }

  paint() {
    const r = this.role
    const locked = r.known && r.adminTokenSet && !r.admin
    this.unlockBox.hidden = !locked
    this.unlockBtn.hidden = !locked
    this.forgetBtn.hidden = !r.token
    this.status.classList.remove('bad')
    if (!r.known) this.status.textContent = 'Checking what this device may do…'
    else if (!r.adminTokenSet) this.status.textContent = 'Anyone who may use this server may manage it: it has no admin token.'
    else if (r.admin) this.status.textContent = 'This device may manage the server: add and delete documents.'
    else this.status.textContent = 'Adding and deleting documents needs the admin token, or the admin link the server printed when it started. Ask whoever runs the server.'
  }
}
