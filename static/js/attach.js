// Attaching files to a message on the page: the composer's button (a phone's camera), paste and drop;
// the tray of what rides on the next message; thumbnails of a sent message's pictures.
import { h } from './util.js'
import { addPending, attachOutcome, attachmentHeaders, attachmentPath, attachmentsOf, isImage } from './core/attachments.js'

/** A picture of this device's attachment as an object URL (its GET needs the device's header, which an <img> cannot send). */
export function attachmentLoader(core, headers) {
  const urls = new Map()
  return (id) => {
    if (!urls.has(id)) {
      urls.set(id, fetch(attachmentPath(id), { headers: attachmentHeaders(core.state.clientId, headers()) })
        .then((res) => (res.ok ? res.blob() : null))
        .then((blob) => (blob ? URL.createObjectURL(blob) : ''))
        .catch(() => ''))
    }
    return urls.get(id)
  }
}

/** The attachments under a user's message: a thumbnail for a picture, its name for anything else. */
export function paintAttachments(li, m, load) {
  const list = attachmentsOf(m)
  let box = li.querySelector(':scope > .attachments')
  if (!list.length) {
    if (box) box.remove()
    return
  }
  if (box && box.dataset.ids === list.map((a) => a.id).join(',')) return
  if (box) box.remove()
  box = h('div', { class: 'attachments', 'data-ids': list.map((a) => a.id).join(',') })
  for (const a of list) {
    if (isImage(a)) {
      const img = h('img', { class: 'thumb', alt: a.name, title: a.name })
      load(a.id).then((url) => { if (url) img.src = url })
      box.append(img)
    } else {
      box.append(h('span', { class: 'file-chip', title: a.name }, a.name))
    }
  }
  li.insertBefore(box, li.firstChild)
}

/** The composer's attachments: uploads them as they are chosen, pasted or dropped; `take()` hands them to a send. */
export class AttachTray {
  constructor({ button, file, tray, form, input }, core, headers, toast) {
    this.els = { button, file, tray }
    this.core = core
    this.headers = headers
    this.toast = toast
    this.pending = [] // [{id, name, type, preview}]
    this.uploading = 0
    button.addEventListener('click', () => file.click())
    file.addEventListener('change', () => {
      this.addFiles([...file.files])
      file.value = ''
    })
    input.addEventListener('paste', (ev) => {
      const files = [...(ev.clipboardData ? ev.clipboardData.files : [])]
      if (files.length) {
        ev.preventDefault()
        this.addFiles(files)
      }
    })
    form.addEventListener('dragover', (ev) => {
      if (ev.dataTransfer && [...ev.dataTransfer.types].includes('Files')) ev.preventDefault()
    })
    form.addEventListener('drop', (ev) => {
      const files = [...(ev.dataTransfer ? ev.dataTransfer.files : [])]
      if (files.length) {
        ev.preventDefault()
        this.addFiles(files)
      }
    })
  }

  addFiles(files) {
    for (const f of files) this.upload(f)
  }

  async upload(f) {
    const form = new FormData()
    form.append('file', f, f.name || 'pasted.png')
    this.uploading += 1
    this.paint()
    let outcome
    try {
      const res = await fetch('/api/attachments', { method: 'POST', body: form, headers: attachmentHeaders(this.core.state.clientId, this.headers()) })
      outcome = attachOutcome(res.status, await res.json().catch(() => null))
    } catch {
      outcome = attachOutcome(0, null)
    }
    this.uploading -= 1
    if (outcome.error) this.toast(`${f.name || 'The file'}: ${outcome.error}`)
    else {
      const preview = isImage(outcome.attachment) ? URL.createObjectURL(f) : ''
      const next = addPending(this.pending, { ...outcome.attachment, preview })
      if (next.error) this.toast(next.error)
      this.pending = next.pending
    }
    this.paint()
  }

  /** What rides on the message being sent: [{id, name, type}]; the tray empties. */
  take() {
    const taken = this.pending.map(({ id, name, type }) => ({ id, name, type }))
    this.pending = []
    this.paint()
    return taken
  }

  /** Put them back (the message was not sent). */
  restore(list) {
    if (!this.pending.length) this.pending = list
    this.paint()
  }

  paint() {
    const { tray } = this.els
    tray.replaceChildren()
    for (const a of this.pending) {
      const remove = h('button', { type: 'button', class: 'tray-remove', 'aria-label': `Remove ${a.name}`, title: 'Remove' }, '×')
      remove.addEventListener('click', () => {
        this.pending = this.pending.filter((p) => p.id !== a.id)
        this.paint()
      })
      const face = a.preview ? h('img', { class: 'thumb', alt: a.name, src: a.preview }) : h('span', { class: 'file-chip' }, a.name)
      tray.append(h('span', { class: 'tray-item', 'data-id': a.id }, face, remove))
    }
    if (this.uploading) tray.append(h('span', { class: 'tray-busy', role: 'status' }, 'Reading the file…'))
    tray.hidden = !this.pending.length && !this.uploading
  }
}
