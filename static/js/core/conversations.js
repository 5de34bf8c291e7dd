// The conversation list of a 1.1 server: pages of summaries, newest first, fetched with
// `before` as the user scrolls (500 saved chats never load at once), search, rename, delete,
// and export/import over HTTP.

const PAGE = 50

export function emptyList() {
  return { items: [], more: false, query: '', loading: false }
}

export class Conversations {
  constructor(core) {
    this.core = core
    this._seq = 0 // answers to an older query are dropped
  }

  get state() {
    return this.core.state.list
  }

  fromReady(items, more) {
    const l = this.state
    if (l.query) return // the user is searching: ready does not replace the results
    l.items = items.map(clean).filter(Boolean)
    l.more = typeof more === 'boolean' ? more : l.items.length > 0
    this._changed()
  }

  /** The first page for `query` ('' = all). */
  async search(query = this.state.query) {
    const l = this.state
    l.query = String(query || '')
    return this._fetch(true)
  }

  /** The next page, older than the last one shown. */
  async loadMore() {
    const l = this.state
    if (!l.more || l.loading) return false
    return this._fetch(false)
  }

  async _fetch(first) {
    const l = this.state
    const seq = ++this._seq
    const last = l.items[l.items.length - 1]
    const q = { limit: PAGE }
    if (l.query) q.query = l.query
    if (!first && last) q.before = last.updated_at
    l.loading = true
    this._changed()
    const res = await this.core.call('list', q)
    if (seq !== this._seq) return false
    l.loading = false
    if (!res.ok) {
      this._changed()
      return this.core._fail(res.error && res.error.message ? res.error.message : 'Could not load the conversations.')
    }
    const page = (res.conversations || []).map(clean).filter(Boolean)
    if (first) l.items = page
    else {
      const seen = new Set(l.items.map((c) => c.session_id))
      l.items = [...l.items, ...page.filter((c) => !seen.has(c.session_id))]
    }
    l.more = !!res.more
    this._changed()
    return true
  }

  async rename(sessionId, title) {
    const t = String(title || '').trim()
    if (!t) return this.core._fail('A title needs at least one character.')
    const res = await this.core.call('rename', { session_id: sessionId, title: t.slice(0, 200) })
    if (!res.ok) return this.core._fail(res.error && res.error.message ? res.error.message : 'Could not rename it.')
    this._update(sessionId, { title: t.slice(0, 200) })
    return true
  }

  /** Delete for good; the current conversation is replaced by a fresh one first. */
  async remove(sessionId) {
    if (sessionId === this.core.state.sessionId && !(await this.core.newConversation())) return false
    const res = await this.core.call('delete', { session_id: sessionId })
    if (!res.ok) return this.core._fail(res.error && res.error.message ? res.error.message : 'Could not delete it.')
    this.state.items = this.state.items.filter((c) => c.session_id !== sessionId)
    this._changed()
    return true
  }

  /** A conversation made here: first in the list. */
  added(summary) {
    const c = clean({ created_at: now(), updated_at: now(), ...summary })
    if (!c) return
    this.state.items = [c, ...this.state.items.filter((x) => x.session_id !== c.session_id)]
    this._changed()
  }

  /** The current conversation moved: first in the list, titled by its first question if untitled. */
  touchCurrent(question) {
    if (this.core.state.protocol < 1.1) return
    const id = this.core.state.sessionId
    const old = this.state.items.find((c) => c.session_id === id)
    const title = (old && old.title) || (question ? question.trim().split('\n')[0].slice(0, 80) : '')
    const messages = this.core.historyMessages().length
    this.added({ ...(old || { created_at: now() }), session_id: id, title, messages, updated_at: now() })
  }

  /** GET export of one conversation as 'json' (a document) or 'md' (text), through the shell's http(). */
  async exportOne(http, sessionId, format = 'json') {
    const res = await http({ method: 'GET', path: `/api/conversations/${encodeURIComponent(sessionId)}/export?format=${format}`, headers: this.headers() })
    if (res.status !== 200) throw new Error(httpError(res, 'Could not export the conversation.'))
    return res.data
  }

  /** POST import of documents as exported; the new summaries join the list. */
  async importDocs(http, docs) {
    const res = await http({ method: 'POST', path: '/api/conversations/import', headers: this.headers(), body: docs })
    if (res.status !== 200 || !res.data || !res.data.ok) throw new Error(httpError(res, 'Could not import the file.'))
    const added = (res.data.conversations || []).map(clean).filter(Boolean)
    for (const c of added.reverse()) this.added(c)
    return added
  }

  headers() {
    return { 'X-Client-Id': this.core.state.clientId }
  }

  _update(sessionId, patch) {
    const c = this.state.items.find((x) => x.session_id === sessionId)
    if (c) Object.assign(c, patch)
    this._changed()
  }

  _changed() {
    this.core._changed('list')
  }
}

function clean(c) {
  if (!c || typeof c !== 'object' || typeof c.session_id !== 'string') return null
  return {
    session_id: c.session_id,
    title: typeof c.title === 'string' ? c.title : '',
    created_at: c.created_at || '',
    updated_at: c.updated_at || '',
    messages: Number(c.messages) || 0,
    active_request_id: c.active_request_id || null,
  }
}

function now() {
  return new Date().toISOString()
}

function httpError(res, fallback) {
  const e = res && res.data && res.data.error
  return (e && e.message) || fallback
}
