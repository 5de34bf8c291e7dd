// The knowledge graph in the app: entity search and an entity's facts as a list, and fact chips under a
// reply. No uni here, so Node tests reach it.
import { factText, sourceLine, searchPath, proposalsPath, proposalPath, proposalRow, proposalsFrom } from '@core/graph.js'

export { sourceLine, searchPath, proposalsPath, proposalPath, proposalRow, proposalsFrom }

/** One line under an entity's name in the search results. */
export function entityLine(e) {
  const names = e.aliases && e.aliases.length ? ` · also ${e.aliases.slice(0, 3).join(', ')}` : ''
  return `${e.type || 'entity'} · ${e.facts} facts${names}`
}

/** A fact of an entity's list: {key, text, sources}. */
export function factRow(f) {
  return { key: f.id, text: factText(f), sources: f.sources.map(sourceLine).join('; ') }
}

/** A fact source under a reply, shaped like a passage chip (key, label, heading, text) and naming its entity. */
export function factChip(s) {
  return {
    key: s.id,
    label: `[${s.n}] ${s.head.name} → ${s.tail.name}`,
    heading: `[${s.n}] ${factText(s)}`,
    text: s.sources.map(sourceLine).join('; '),
    entity: s.head.id,
  }
}
