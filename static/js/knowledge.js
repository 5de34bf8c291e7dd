// The knowledge base on the page: the library sheet (upload with progress, list, delete), the per-chat
// "Use knowledge base" switch, and the sources under a grounded reply (tap [n] for the passage).
import { factChip } from './graph.js'
import { citationParts, groundingNote, passageParts } from './core/grounding.js'
import { INGEST_POLL_MS, docLine, ingestLine } from './core/ingest.js'
import { h } from './util.js'
import { httpErrorText as errorText } from './core/roles.js'

const ACCEPT = '.txt,.md,.pdf,.docx,.html,.htm,.png,.jpg,.jpeg,.webp'

// The access header for a source's picture (set by the panel; paintSources is called by the messages view).
let pictureHeaders = () => ({})
const pictures = new Map() // document id -> Promise of an object URL ('' when there is none)
const PICTURE_TITLE = /\.(png|jpe?g|webp)$/i

/** The photo a library document was read from (OCR), as an object URL: its GET needs the access header. */
function pictureOf(documentId) {
  if (!pictures.has(documentId)) {
    pictures.set(documentId, fetch(`/api/kb/documents/${encodeURIComponent(documentId)}/picture`, { headers: pictureHeaders() })
      .then((res) => (res.ok ? res.blob() : null))
      .then((blob) => (blob ? URL.createObjectURL(blob) : ''))
      .catch(() => ''))
  }
  return pictures.get(documentId)
}

export class KnowledgePanel {
  /** `headers()` gives the access token header; `toast(text)` tells the user something; `role` (core/roles.js)
   * says whether this device may add and delete, and gives the admin header. */
  constructor(doc, core, headers, toast, role) {
    const $ = (id) => doc.getElementById(id)
    this.core = core
    this.headers = headers
    pictureHeaders = headers
    this.toast = toast
    this.dialog = $('knowledge')
    this.list = $('kb-list')
    this.empty = $('kb-empty')
    this.status = $('kb-status')
    this.progress = $('kb-progress')
    this.file = $('kb-file')
    this.toggle = $('set-knowledge')
    this.role = role
    this.uploadBtn = $('kb-upload')
    this.locked = $('kb-locked')
    this.docs = []
    this.file.accept = ACCEPT
    role.on(() => this.paint(this.docs))
    $('open-knowledge').addEventListener('click', () => this.open())
    $('kb-upload').addEventListener('click', () => this.file.click())
    this.file.addEventListener('change', () => this.uploadAll([...this.file.files]))
    this.dialog.addEventListener('click', (ev) => { if (ev.target === this.dialog) this.dialog.close() })
    this.toggle.addEventListener('change', () => {
      this.core.setChatSettings({ ...this.core.state.chat, knowledge: this.toggle.checked })
    })
  }

  /** Show the current conversation's switch (after ready, open, or a change of settings). */
  load() {
    this.toggle.checked = this.core.state.chat.knowledge === true
  }

  async open() {
    if (!this.dialog.open) this.dialog.showModal()
    await this.refresh()
  }

  async refresh() {
    try {
      const res = await fetch('/api/kb/documents', { headers: this.headers() })
      const data = await res.json().catch(() => null)
      if (!res.ok || !data || !data.ok) throw new Error(errorText(res.status, data, 'The library could not be listed'))
      this.paint(data.documents)
    } catch (err) {
      this.say(err.message, true)
    }
  }

  paint(docs) {
    // Adding and deleting change what everyone shares: only an admin device sees those controls.
    const admin = this.role.admin
    this.docs = docs
    this.uploadBtn.hidden = !admin
    this.locked.hidden = admin
    this.locked.textContent = this.role.reason()
    this.list.replaceChildren(...docs.map((d) => h('li', { class: 'kb-doc', 'data-id': d.id },
      h('span', { class: 'kb-title', text: d.title }),
      h('span', { class: 'kb-meta', text: docLine(d) }),
      admin && h('button', { type: 'button', class: 'text-btn danger', 'aria-label': `Delete ${d.title}`, text: 'Delete',
        onclick: () => this.remove(d) }))))
    this.empty.hidden = docs.length > 0
  }

  /** The headers of an add or a delete: the access token's and, once unlocked, the admin token. */
  adminHeaders() {
    return { ...this.headers(), ...this.role.headers() }
  }

  /** A refused add or delete: its sentence in the sheet; a 403 is also toasted and locks the controls. */
  refused(status, text) {
    this.say(text, true)
    if (status !== 403) return
    this.toast(text)
    this.role.refused()
  }

  say(text, bad = false) {
    this.status.textContent = text
    this.status.classList.toggle('bad', bad)
  }

  async uploadAll(files) {
    this.file.value = ''
    for (const f of files) await this.upload(f)
    await this.refresh()
  }

  /** One file through XMLHttpRequest, whose upload events drive the progress bar (fetch has none). */
  upload(file) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest()
      const form = new FormData()
      form.append('file', file, file.name)
      xhr.open('POST', '/api/kb/documents')
      for (const [k, v] of Object.entries(this.adminHeaders())) xhr.setRequestHeader(k, v)
      this.progress.hidden = false
      this.progress.value = 0
      this.say(`Uploading ${file.name}…`)
      let poll = null
      const stopPolling = () => clearInterval(poll)
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) this.progress.value = ev.loaded / ev.total
        if (ev.loaded === ev.total && !poll) {
          this.say(ingestLine(file.name, null).text)
          // The server reads and embeds the file now: its progress moves the bar again from 0.
          poll = setInterval(() => this.showIngest(file.name), INGEST_POLL_MS)
        }
      }
      xhr.onload = () => {
        stopPolling()
        let data = null
        try { data = JSON.parse(xhr.responseText) } catch { /* not JSON: said below */ }
        if (xhr.status === 200 && data && data.ok) {
          const d = data.document
          this.say(d.duplicate ? `${d.title} is already in the library.` : `Added ${d.title} (${d.chunks} passages).`)
        } else {
          this.refused(xhr.status, errorText(xhr.status, data, `${file.name} was not added`))
        }
        this.progress.hidden = true
        resolve()
      }
      xhr.onerror = () => {
        stopPolling()
        this.say(errorText(0, null, `${file.name} was not added`), true)
        this.progress.hidden = true
        resolve()
      }
      xhr.send(form)
    })
  }

  async showIngest(name) {
    try {
      const res = await fetch('/api/kb/progress', { headers: this.headers() })
      const data = await res.json()
      if (this.progress.hidden || !data.ok) return
      const line = ingestLine(name, data.progress)
      if (line.fraction !== null) this.progress.value = line.fraction
      this.say(line.text)
    } catch { /* the upload's own answer says what happened */ }
  }

  async remove(doc) {
    try {
      const res = await fetch(`/api/kb/documents/${encodeURIComponent(doc.id)}`, { method: 'DELETE', headers: this.adminHeaders() })
      const data = await res.json().catch(() => null)
      if (!res.ok || !data || !data.ok) this.refused(res.status, errorText(res.status, data, `${doc.title} was not deleted`))
      else this.say(`Deleted ${doc.title}.`)
    } catch (err) {
      this.refused(0, errorText(0, null, `${doc.title} was not deleted`))
    }
    await this.refresh()
  }
}

/** Under a reply: its sources as [n] chips, each opening its passage with the sentences used marked; the note
 *  when the reply's numbers or names are not in its evidence; a line when nothing was found. */
export function paintSources(box, m) {
  const sources = m.status === 'done' && Array.isArray(m.sources) ? m.sources : null
  const key = sources ? JSON.stringify([sources.map((s) => s.chunk_id || s.id), m.grounding || null]) : ''
  if (box.dataset.sources === key) return
  box.dataset.sources = key
  box.replaceChildren()
  box.openSource = null
  if (!sources) return
  if (!sources.length) {
    box.append(h('p', { class: 'kb-none', text: 'No passage of the knowledge base matched.' }))
    return
  }
  const passage = h('div', { class: 'kb-passage', hidden: true, role: 'region', 'aria-live': 'polite' })
  const show = (s, chip, toggle) => {
    const open = !toggle || chip.getAttribute('aria-expanded') !== 'true'
    for (const c of chips) c.setAttribute('aria-expanded', 'false')
    chip.setAttribute('aria-expanded', String(open))
    passage.hidden = !open
    const text = h('p', { class: 'kb-passage-text' },
      ...passageParts(s.text, s.sentences).map((p) => (p.mark ? h('mark', { class: 'kb-used', text: p.text }) : p.text)))
    passage.replaceChildren(h('p', { class: 'kb-passage-title', text: `[${s.n}] ${s.title}${s.page ? `, page ${s.page}` : ''}` }), text)
    if (s.document_id && PICTURE_TITLE.test(s.title || '')) { // a photo read by OCR: show it beside what was read
      const img = h('img', { class: 'kb-picture', alt: `The picture ${s.title}` })
      pictureOf(s.document_id).then((url) => { if (url) img.src = url; else img.remove() })
      passage.append(img)
    }
  }
  const chips = sources.map((s) => (s.kind === 'fact' ? factChip(s) : h('button', {
    type: 'button', class: 'kb-chip', 'aria-expanded': 'false', title: s.title, 'data-n': String(s.n),
    onclick: (ev) => show(s, ev.currentTarget, true),
  }, `[${s.n}] ${s.title}`)))
  // [n] in the reply text opens the same passage (never closes it).
  box.openSource = (n) => {
    const i = sources.findIndex((s) => s.n === n)
    if (i >= 0) show(sources[i], chips[i], false)
  }
  const note = groundingNote(m)
  if (note) {
    box.append(h('div', { class: 'kb-warning', role: 'note' }, h('strong', { text: note.warning }), ' ',
      note.from ? h('span', { text: note.from }) : '', note.sentence ? h('q', { class: 'kb-quote', text: note.sentence }) : ''))
  }
  box.append(h('div', { class: 'kb-sources' }, h('span', { class: 'kb-label', text: 'Sources' }), chips), passage)
}

/** [n] in a grounded reply's text as buttons that open source n under it; code is left alone. */
export function linkCitations(body, m, box) {
  if (!box.openSource || !Array.isArray(m.sources) || body.querySelector('.kb-cite')) return
  const walker = body.ownerDocument.createTreeWalker(body, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.parentElement.closest('pre, code') || !/\[\d+\]/.test(n.data) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  })
  const nodes = []
  while (walker.nextNode()) nodes.push(walker.currentNode)
  for (const node of nodes) {
    const parts = citationParts(node.data, m.sources)
    if (!parts.some((p) => p.n)) continue
    node.replaceWith(...parts.map((p) => (p.n ? h('button', {
      type: 'button', class: 'kb-cite', 'aria-label': `Source ${p.n}`, onclick: () => box.openSource(p.n),
    }, `[${p.n}]`) : p.text)))
  }
}
