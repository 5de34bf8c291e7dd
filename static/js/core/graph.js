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

// --- facts a build proposed for review (GET /api/graph/proposals, admin) -------------------------------

/** The path of the proposals list, most confident first. */
export function proposalsPath(limit = 100) {
  return `/api/graph/proposals?limit=${limit}`
}

/** Accept (POST) or drop (DELETE) one proposal. */
export function proposalPath(id, accept = false) {
  return `/api/graph/proposals/${encodeURIComponent(id)}${accept ? '/accept' : ''}`
}

/** A proposal as a person reviews it: the fact, how sure the build was, and the sentence it came from. */
export function proposalRow(p) {
  const s = p.sources[0] || {}
  return {
    key: p.id,
    text: `${p.head} —${p.relation}→ ${p.tail}`,
    sure: `${Math.round(p.confidence * 100)}% · ${p.extractor}`,
    sentence: s.sentence ? `“${s.sentence}” (${sourceLine(s)})` : sourceLine(s),
  }
}

/** The proposals "accept all above a confidence" takes: from `min` (0-1) up. */
export function proposalsFrom(proposals, min) {
  const floor = Number(min)
  return Number.isFinite(floor) ? proposals.filter((p) => p.confidence >= floor) : []
}
