// Facts a build proposed (not trusted enough to store), reviewed in the graph sheet: accept, drop, or accept
// every one from a confidence up. Admin only, as every write to the graph.
import { proposalPath, proposalRow, proposalsFrom, proposalsPath } from './core/graph.js'
import { h } from './util.js'

export class FactReview {
  /** `call(path, options, fallback)` is the sheet's fetch (headers, role, errors); `say(text, bad)` its status. */
  constructor(doc, call, say) {
    const $ = (id) => doc.getElementById(id)
    this.call = call
    this.say = say
    this.list = $('graph-review')
    this.min = $('graph-review-min')
    this.items = []
    $('graph-review-load').addEventListener('click', () => this.load())
    $('graph-review-all').addEventListener('click', () => this.acceptFrom(this.min.value))
  }

  async load() {
    try {
      this.items = (await this.call(proposalsPath(200), { method: 'GET' })).proposals // admin only: the role's header
      this.paint()
      this.say(this.items.length ? `${this.items.length} proposed facts.` : 'No fact is waiting for review.')
    } catch (err) {
      this.say(err.message, true)
    }
  }

  paint() {
    this.list.replaceChildren(...this.items.map((p) => {
      const row = proposalRow(p)
      return h('li', { class: 'graph-proposal', 'data-id': p.id },
        h('span', { class: 'graph-fact', text: row.text }),
        h('span', { class: 'graph-sure', text: row.sure }),
        h('span', { class: 'graph-sources', text: row.sentence }),
        h('button', { type: 'button', class: 'text-btn', text: 'Accept', onclick: () => this.decide(p, true) }),
        h('button', { type: 'button', class: 'text-btn danger', text: 'Drop', onclick: () => this.decide(p, false) }))
    }))
  }

  /** Accept (store as a fact) or drop one proposal; it leaves the list either way. */
  async decide(p, accept) {
    try {
      await this.call(proposalPath(p.id, accept), { method: accept ? 'POST' : 'DELETE' },
        accept ? 'The fact was not stored' : 'The proposal was not dropped')
      this.items = this.items.filter((x) => x.id !== p.id)
      this.paint()
      this.say(`${accept ? 'Stored' : 'Dropped'}: ${proposalRow(p).text}.`)
      return true
    } catch (err) {
      this.say(err.message, true)
      return false
    }
  }

  async acceptFrom(min) {
    const chosen = proposalsFrom(this.items, min)
    let stored = 0
    for (const p of chosen) {
      if (!await this.decide(p, true)) return
      stored += 1
    }
    this.say(`Stored ${stored} proposed facts from ${min} up.`)
  }
}
