// The conversation list: a sidebar on wide screens, a drawer on phones. Pages of 50 load as
// the list is scrolled (so 500 saved chats stay fast); search, switch, rename, delete with
// undo, export as Markdown or JSON, import JSON.
import { h } from './util.js'

const UNDO_MS = 6000 // how long a deleted conversation can be brought back
const SEARCH_MS = 250 // typing pauses this long before the list is asked again

export class ConversationsView {
  constructor(els, core, chrome, http) {
    this.els = els
    this.core = core
    this.chrome = chrome
    this.http = http
    this.hidden = new Set() // deleted, waiting out the undo time
    this.commits = new Map() // id -> commit now
    this.searchTimer = null
    this.renaming = null
    this.rows = new Map() // session id -> {key, li} of the rows shown
    els.openList.addEventListener('click', () => this.setOpen(true))
    els.closeList.addEventListener('click', () => this.setOpen(false))
    els.scrim.addEventListener('click', () => this.setOpen(false))
    els.sidebar.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !this.renaming) this.setOpen(false)
    })
    els.sideNew.addEventListener('click', () => this.newChat())
    els.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer)
      this.searchTimer = setTimeout(() => core.list.search(els.search.value.trim()), SEARCH_MS)
    })
    els.convList.addEventListener('click', (ev) => this.onClick(ev))
    els.importBtn.addEventListener('click', () => els.importFile.click())
    els.importFile.addEventListener('change', () => this.importFile())
    // The next page loads when the end of the list comes into view.
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) core.list.loadMore()
    }, { root: els.convScroll, rootMargin: '200px' }).observe(els.convMore)
    window.addEventListener('pagehide', () => { for (const commit of [...this.commits.values()]) commit() })
  }

  setOpen(open) {
    this.els.app.classList.toggle('list-open', open)
    this.els.scrim.hidden = !open
    this.els.openList.setAttribute('aria-expanded', String(open))
    if (open) this.els.search.focus({ preventScroll: true })
  }

  /** Conversations live on 1.1 servers only: elsewhere the list stays out of the way. */
  paintAvailable() {
    this.els.app.classList.toggle('no-list', this.core.state.protocol < 1.1)
  }

  async newChat() {
    if (await this.core.newConversation()) this.setOpen(false)
  }

  render() {
    const { items, more, loading, query } = this.core.state.list
    const current = this.core.state.sessionId
    const shown = items.filter((c) => !this.hidden.has(c.session_id))
    // Rows that did not change are kept: with hundreds loaded, a reply's end redraws one row, not all.
    const rows = new Map()
    for (const c of shown) {
      const key = `${c.title}|${c.updated_at}|${c.session_id === current}`
      const old = this.rows.get(c.session_id)
      rows.set(c.session_id, old && old.key === key ? old : { key, li: this.row(c, c.session_id === current) })
    }
    this.rows = rows
    const list = this.els.convList
    let at = list.firstChild
    for (const { li } of rows.values()) {
      if (at === li) at = at.nextSibling
      else list.insertBefore(li, at)
    }
    while (at) {
      const next = at.nextSibling
      at.remove()
      at = next
    }
    this.els.convEmpty.hidden = shown.length > 0 || loading
    this.els.convEmpty.textContent = query ? 'No conversation matches.' : 'No conversations yet.'
    this.els.convMore.textContent = loading ? 'Loading…' : ''
    this.els.convMore.dataset.more = String(more)
    document.title = titleOf(items.find((c) => c.session_id === current)) || 'Chat'
  }

  row(c, current) {
    const title = titleOf(c) || 'New chat'
    const open = h('button', { type: 'button', class: 'conv-open', 'data-act': 'open' },
      h('span', { class: 'conv-title' }, title), h('span', { class: 'conv-when' }, when(c.updated_at)))
    const menu = h('button', { type: 'button', class: 'conv-menu', 'data-act': 'menu', 'aria-label': `Actions for ${title}`, 'aria-expanded': 'false' }, '⋯')
    const acts = h('div', { class: 'conv-actions', hidden: true },
      h('button', { type: 'button', 'data-act': 'rename' }, 'Rename'),
      h('button', { type: 'button', 'data-act': 'md' }, 'Export Markdown'),
      h('button', { type: 'button', 'data-act': 'json' }, 'Export JSON'),
      h('button', { type: 'button', 'data-act': 'delete', class: 'danger' }, 'Delete'))
    const li = h('li', { class: 'conv', 'data-id': c.session_id }, open, menu, acts)
    if (current) li.setAttribute('aria-current', 'true')
    return li
  }

  onClick(ev) {
    const btn = ev.target.closest('button[data-act]')
    const li = btn && btn.closest('li.conv')
    if (!li) return
    const id = li.dataset.id
    const act = btn.dataset.act
    const acts = li.querySelector('.conv-actions')
    const menu = li.querySelector('button[data-act=menu]')
    acts.hidden = act === 'menu' ? !acts.hidden : true // an action closes its menu
    menu.setAttribute('aria-expanded', String(!acts.hidden))
    if (act === 'open') this.open(id)
    else if (act === 'rename') this.startRename(li, id)
    else if (act === 'md' || act === 'json') this.exportOne(id, act)
    else if (act === 'delete') this.remove(id)
  }

  async open(id) {
    if (id !== this.core.state.sessionId && !(await this.core.open(id))) return
    this.setOpen(false)
  }

  startRename(li, id) {
    const c = this.core.state.list.items.find((x) => x.session_id === id)
    const input = h('input', { type: 'text', class: 'conv-rename', maxlength: 200, 'aria-label': 'New title' })
    input.value = titleOf(c)
    this.renaming = id
    const done = async (save) => {
      if (this.renaming !== id) return
      this.renaming = null
      if (save && input.value.trim() && input.value.trim() !== titleOf(c)) await this.core.list.rename(id, input.value)
      this.rows.delete(id) // its row holds the input: draw it anew
      this.render()
    }
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault()
        done(true)
      } else if (ev.key === 'Escape') {
        ev.preventDefault()
        done(false)
      }
    })
    input.addEventListener('blur', () => done(true))
    li.querySelector('.conv-open').replaceWith(input)
    li.querySelector('.conv-actions').hidden = true
    input.focus()
    input.select()
  }

  /** Gone from the list at once; deleted on the server when the undo time is over. */
  async remove(id) {
    this.hidden.add(id)
    this.render()
    if (id === this.core.state.sessionId) await this.core.newConversation()
    let timer = null
    const commit = async () => {
      clearTimeout(timer)
      if (!this.commits.delete(id)) return
      await this.core.list.remove(id)
      this.hidden.delete(id)
      this.render()
    }
    this.commits.set(id, commit)
    timer = setTimeout(commit, UNDO_MS)
    this.chrome.toast('Conversation deleted.', {
      label: 'Undo',
      run: () => {
        clearTimeout(timer)
        this.commits.delete(id)
        this.hidden.delete(id)
        this.render()
      },
    }, UNDO_MS)
  }

  async exportOne(id, format) {
    try {
      const data = await this.core.list.exportOne(this.http, id, format)
      const c = this.core.state.list.items.find((x) => x.session_id === id)
      const text = typeof data === 'string' ? data : JSON.stringify(data, null, 2)
      const type = format === 'md' ? 'text/markdown' : 'application/json'
      const a = h('a', { href: URL.createObjectURL(new Blob([text], { type })), download: `${fileName(titleOf(c))}.${format}` })
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(a.href), 10000)
    } catch (err) {
      this.chrome.toast(err.message)
    }
  }

  async importFile() {
    const file = this.els.importFile.files[0]
    this.els.importFile.value = ''
    if (!file) return
    try {
      let docs
      try {
        docs = JSON.parse(await file.text())
      } catch (err) {
        throw new Error('That file is not a conversation exported as JSON.', { cause: err })
      }
      const added = await this.core.list.importDocs(this.http, docs)
      this.chrome.toast(added.length === 1 ? 'Imported 1 conversation.' : `Imported ${added.length} conversations.`)
    } catch (err) {
      this.chrome.toast(err.message)
    }
  }
}

function titleOf(c) {
  return (c && c.title) || ''
}

function when(iso) {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const today = new Date().toDateString() === d.toDateString()
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString()
}

function fileName(title) {
  return (title || 'conversation').replace(/[\\/:*?"<>|\s]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'conversation'
}
