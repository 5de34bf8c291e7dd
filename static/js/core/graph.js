// The knowledge graph's words both clients show, DOM-free: a fact, where it came from, an entity search.

/** A fact as a person reads it: head —relation→ tail. */
export function factText(f) {
  return `${f.head.name} —${f.relation}→ ${f.tail.name}`
}

/** Where a fact came from: a library passage or an imported file. */
export function sourceLine(s) {
  return s.document ? `${s.title}${s.passage ? `, passage ${s.passage.split('-').pop()}` : ''}` : `imported from ${s.file}`
}

/** The path of an entity search (GET /api/graph/entities). */
export function searchPath(q, limit = 30) {
  return `/api/graph/entities?q=${encodeURIComponent(String(q || '').trim())}&limit=${limit}`
}
