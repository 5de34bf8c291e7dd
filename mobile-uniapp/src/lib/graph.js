// The knowledge graph in the app: entity search and an entity's facts as a list, and fact chips under a
// reply. No uni here, so Node tests reach it.

/** One line under an entity's name in the search results. */
export function entityLine(e) {
  const names = e.aliases && e.aliases.length ? ` · also ${e.aliases.slice(0, 3).join(', ')}` : ''
  return `${e.type || 'entity'} · ${e.facts} facts${names}`
}

/** Where a fact came from, as a person reads it. */
export function sourceLine(s) {
  return s.document ? `${s.title}${s.passage ? `, passage ${s.passage.split('-').pop()}` : ''}` : `imported from ${s.file}`
}

/** A fact of an entity's list: {key, text, sources}. */
export function factRow(f) {
  return { key: f.id, text: `${f.head.name} —${f.relation}→ ${f.tail.name}`, sources: f.sources.map(sourceLine).join('; ') }
}

/** A fact source under a reply, shaped like a passage chip (key, label, heading, text) and naming its entity. */
export function factChip(s) {
  return {
    key: s.id,
    label: `[${s.n}] ${s.head.name} → ${s.tail.name}`,
    heading: `[${s.n}] ${s.head.name} —${s.relation}→ ${s.tail.name}`,
    text: s.sources.map(sourceLine).join('; '),
    entity: s.head.id,
  }
}

/** The query string of an entity search. */
export function searchPath(q) {
  return `/api/graph/entities?q=${encodeURIComponent(String(q || '').trim())}&limit=30`
}
