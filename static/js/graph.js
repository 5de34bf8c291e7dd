// The knowledge graph on the page: the graph sheet (search an entity, its neighbourhood drawn with
// cytoscape, expand a node, a fact's sources, delete a fact, merge proposals), the per-chat "Use knowledge
// graph" switch, and the fact chips under a reply (they open the sheet at the fact).
import { factText, searchPath, sourceLine } from './core/graph.js'
import { FactReview } from './graph_review.js'
import { httpErrorText as errorText } from './core/roles.js'
import { h } from './util.js'

export class GraphPanel {
  /** `headers()` gives the access token header; `role` (core/roles.js) says whether this device may build,
   * merge and delete, and gives the admin header of those writes. */
  constructor(doc, core, headers, role) {
    const $ = (id) => doc.getElementById(id)
    this.core = core
    this.headers = headers
    this.dialog = $('graph')
    this.query = $('graph-q')
    this.results = $('graph-results')
    this.canvas = $('graph-canvas')
    this.detail = $('graph-detail')
    this.status = $('graph-status')
    this.candidates = $('graph-candidates')
    this.role = role
    this.locked = $('graph-locked')
    this.buildBtn = $('graph-build')
    this.fact = null
    this.cands = []
    this.toggle = $('set-graph')
    this.cy = null
    $('open-graph').addEventListener('click', () => this.open())
    $('graph-search').addEventListener('click', () => this.search())
    $('graph-proposals').addEventListener('click', () => this.proposals())
    this.buildStatus = $('graph-build-status')
    this.stop = $('graph-stop')
    $('graph-build').addEventListener('click', () => this.build())
    this.stop.addEventListener('click', () => this.cancel())
    this.query.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); this.search() } })
    this.dialog.addEventListener('click', (ev) => { if (ev.target === this.dialog) this.dialog.close() })
    this.toggle.addEventListener('change', () => {
      this.core.setChatSettings({ ...this.core.state.chat, graph: this.toggle.checked })
    })
    this.review = new FactReview(doc, (...args) => this.call(...args), (text, bad) => this.say(text, bad))
    doc.addEventListener('open-graph', (ev) => this.open(ev.detail))
    role.on(() => this.paint())
    this.paint()
  }

  /** Building, merging and deleting change what everyone shares: only an admin device sees those controls. */
  paint() {
    const admin = this.role.admin
    this.buildBtn.hidden = !admin
    if (!admin) this.stop.hidden = true
    this.locked.hidden = admin
    this.locked.textContent = this.role.reason()
    if (this.fact) this.showFact(this.fact)
    this.paintCandidates()
  }

  load() {
    this.toggle.checked = this.core.state.chat.graph === true
  }

  /** Open the sheet; with {entity, fact} show that entity's neighbourhood and the fact's sources. */
  async open(at = null) {
    if (!this.dialog.open) this.dialog.showModal()
    if (at && at.entity) await this.show(at.entity, at.fact)
  }

  say(text, bad = false) {
    this.status.textContent = text
    this.status.classList.toggle('bad', bad)
  }

  async call(path, options = {}, fallback = 'The graph could not be read') {
    const headers = { ...this.headers(), ...(options.method ? this.role.headers() : {}), ...(options.headers || {}) }
    const res = await fetch(path, { ...options, headers }).catch(() => null)
    const data = res && await res.json().catch(() => null)
    if (res && res.ok && data && data.ok) return data
    if (res && res.status === 403) this.role.refused() // the server took the role away: lock the controls
    throw new Error(errorText(res ? res.status : 0, data, fallback))
  }

  async search() {
    try {
      const data = await this.call(searchPath(this.query.value))
      this.results.replaceChildren(...data.entities.map((e) => h('li', { class: 'graph-entity' },
        h('button', { type: 'button', class: 'text-btn', onclick: () => this.show(e.id) },
          `${e.name}${e.type ? ` · ${e.type}` : ''} (${e.facts})`))))
      this.say(data.entities.length ? '' : 'No entity matches.')
    } catch (err) {
      this.say(err.message, true)
    }
  }

  /** Draw an entity's 1-hop neighbourhood (replacing the drawing unless `expand`). */
  async show(id, factId = null, expand = false) {
    let data
    try {
      data = await this.call(`/api/graph/entities/${encodeURIComponent(id)}?hops=1`)
    } catch (err) {
      this.say(err.message, true)
      return
    }
    this.facts = expand ? { ...this.facts, ...Object.fromEntries(data.facts.map((f) => [f.id, f])) }
      : Object.fromEntries(data.facts.map((f) => [f.id, f]))
    const nodes = new Map([[data.entity.id, data.entity]])
    for (const f of Object.values(this.facts)) { nodes.set(f.head.id, f.head); nodes.set(f.tail.id, f.tail) }
    const elements = [...nodes.values()].map((n) => ({ data: { id: n.id, label: n.name, type: n.type || '' } }))
      .concat(Object.values(this.facts).map((f) => ({ data: { id: f.id, source: f.head.id, target: f.tail.id, label: f.relation } })))
    this.draw(elements, data.entity.id)
    this.say(`${data.entity.name}: ${data.facts.length} facts.`)
    this.detail.replaceChildren()
    this.fact = null
    if (factId && this.facts[factId]) this.showFact(this.facts[factId])
  }

  draw(elements, centre) {
    if (!window.cytoscape) {
      this.canvas.textContent = 'The graph drawing library did not load.'
      return
    }
    if (this.cy) this.cy.destroy()
    this.cy = window.cytoscape({
      container: this.canvas,
      elements,
      layout: { name: 'concentric', concentric: (n) => (n.id() === centre ? 2 : 1), levelWidth: () => 1, minNodeSpacing: 30 },
      style: [
        { selector: 'node', style: { label: 'data(label)', 'font-size': 11, 'background-color': '#6b8fd6', width: 18, height: 18 } },
        { selector: `node[id = "${centre.replace(/"/g, '')}"]`, style: { 'background-color': '#d6716b' } },
        { selector: 'edge', style: { label: 'data(label)', 'font-size': 9, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', width: 1.5 } },
      ],
    })
    this.cy.on('tap', 'node', (ev) => this.show(ev.target.id(), null, true))
    this.cy.on('tap', 'edge', (ev) => this.showFact(this.facts[ev.target.id()]))
  }

  showFact(f) {
    if (!f) return
    this.fact = f
    this.detail.replaceChildren(
      h('p', { class: 'graph-fact', text: factText(f) }),
      h('ul', { class: 'graph-sources' }, ...f.sources.map((s) => h('li', { text: sourceLine(s) }))),
      this.role.admin && h('button', { type: 'button', class: 'text-btn danger', text: 'Delete this fact', onclick: () => this.removeFact(f) }))
  }

  async removeFact(f) {
    try {
      await this.call(`/api/graph/facts/${encodeURIComponent(f.id)}`, { method: 'DELETE' }, 'The fact was not deleted')
      delete this.facts[f.id]
      if (this.cy) this.cy.getElementById(f.id).remove()
      this.detail.replaceChildren()
      this.fact = null
      this.say('Fact deleted.')
    } catch (err) {
      this.say(err.message, true)
    }
  }

  /** Build the graph from the library's passages not yet built, with this conversation's backend and model. */
  async build() {
    const { backend, model } = this.core.state.chat
    const body = {}
    if (backend) body.backend = backend
    if (model) body.model = model
    try {
      const data = await this.call('/api/graph/build', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body) }, 'The build did not start')
      this.job = data.job.id
      this.progress(data.job)
    } catch (err) {
      this.buildStatus.textContent = err.message
    }
  }

  async cancel() {
    try {
      await this.call(`/api/graph/jobs/${encodeURIComponent(this.job)}`, { method: 'DELETE' }, 'The build was not stopped')
    } catch (err) {
      this.buildStatus.textContent = err.message
    }
  }

  /** A `graph_progress` event (or the build's answer): the line under the button. */
  progress(job) {
    if (!job || (this.job && job.job !== this.job)) return
    this.job = job.job
    const running = job.status === 'queued' || job.status === 'running'
    this.stop.hidden = !running || !this.role.admin
    const counts = `${job.done} of ${job.total} passages, ${job.facts} facts`
    this.buildStatus.textContent = running ? `Building: ${counts}…`
      : `Build ${job.status}: ${counts}.${job.error ? ` ${job.error}` : ''}`
  }

  async proposals() {
    try {
      const data = await this.call('/api/graph/candidates')
      this.cands = data.candidates.slice(0, 30)
      this.paintCandidates()
      this.say(data.candidates.length ? '' : 'No merge to propose.')
    } catch (err) {
      this.say(err.message, true)
    }
  }

  /** The proposals; each one's Merge (then Undo) only on an admin device. */
  paintCandidates() {
    const admin = this.role.admin
    this.candidates.replaceChildren(...this.cands.map((c) => h('li', { class: 'graph-candidate' },
      h('span', { text: `${c.a.name} ≈ ${c.b.name} (${c.score}, ${c.reason})` }),
      c.undone ? h('span', { text: 'undone' })
        : admin && (c.merge ? h('button', { type: 'button', class: 'text-btn', text: 'Undo', onclick: () => this.undo(c) })
          : h('button', { type: 'button', class: 'text-btn', text: `Merge into ${c.a.name}`, onclick: () => this.merge(c) })),
      admin && !c.merge && h('button', { type: 'button', class: 'text-btn danger', text: 'Not the same',
        onclick: () => this.reject(c) }))))
  }

  /** A pair a person says are two things: never proposed again (a merge by hand undoes that). */
  async reject(c) {
    try {
      await this.call('/api/graph/candidates/reject', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ a: c.a.id, b: c.b.id }) }, 'The pair was not rejected')
      this.cands = this.cands.filter((x) => x !== c)
      this.paintCandidates()
      this.say(`${c.a.name} and ${c.b.name} will not be proposed again.`)
    } catch (err) {
      this.say(err.message, true)
    }
  }

  async merge(c) {
    try {
      const data = await this.call('/api/graph/merge', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ keep: c.a.id, merge: [c.b.id] }) }, 'The merge was not made')
      c.merge = data.merge.id
      this.paintCandidates()
      this.say(`Merged ${c.b.name} into ${c.a.name}.`)
    } catch (err) {
      this.say(err.message, true)
    }
  }

  async undo(c) {
    try {
      await this.call(`/api/graph/merges/${encodeURIComponent(c.merge)}`, { method: 'DELETE' }, 'The merge was not undone')
      c.undone = true
      this.paintCandidates()
      this.say(`${c.b.name} stands alone again.`)
    } catch (err) {
      this.say(err.message, true)
    }
  }
}

/** A fact chip's look and what it does: it opens the graph sheet at the fact. */
export function factChip(s) {
  return h('button', {
    type: 'button', class: 'kb-chip fact-chip', title: `${s.head.name} ${s.relation} ${s.tail.name}`,
    onclick: (ev) => ev.currentTarget.ownerDocument.dispatchEvent(new CustomEvent('open-graph', { detail: { entity: s.head.id, fact: s.id } })),
  }, `[${s.n}] ${s.head.name} → ${s.tail.name}`)
}
