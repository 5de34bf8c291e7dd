// A grounded reply's evidence, DOM-free (the page and the uni-app share it): what its message keeps, the note
// under a reply the server could not check against its evidence (grounding), and a passage cut around the
// sentences used.

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/

/**
 * 'zh' for a question with Chinese characters, else 'en': the language the note speaks.
 * @returns {'zh'|'en'}
 */
export function noteLanguage(question) {
  return CJK.test(question || '') ? 'zh' : 'en'
}

/**
 * What a reply's message keeps of its evidence, from its `done` or from its message in a history (the
 * server keeps them with the turn): the sources (#14) and the check against them (#25), whose note
 * speaks the language of `question`.
 * @param {import('./types.js').Done|import('./types.js').HistoryMessage} d
 * @param {string} question
 * @returns {{sources?: import('./types.js').Source[], grounding?: import('./types.js').Grounding}}
 */
export function evidenceOf(d, question) {
  const kept = {}
  if (Array.isArray(d.sources)) kept.sources = d.sources
  if (d.grounding && typeof d.grounding === 'object') kept.grounding = { ...d.grounding, lang: noteLanguage(question) }
  return kept
}

/** An end of a fact as a name (a quote gives names, a source gives {id, name, type}). */
const endName = (e) => (e && typeof e === 'object' ? e.name : String(e ?? ''))

/**
 * The note under a reply whose numbers or names are not in its evidence, or null when there is none.
 * @param {import('./types.js').Message} m
 */
export function groundingNote(m) {
  const g = m && m.status === 'done' ? m.grounding : null
  if (!g || g.supported !== false) return null
  const zh = g.lang === 'zh'
  const warning = zh ? '这个回答可能有误。' : 'This answer may be wrong.'
  const q = g.quote
  if (!q) return { warning, from: '', sentence: '', n: null, text: warning }
  let from = zh ? `${q.title} 原文 [${q.n}]：` : `From ${q.title} [${q.n}]:`
  let sentence = q.sentence
  if (q.kind === 'fact') { // a fact of the knowledge graph: head -relation-> tail
    from = zh ? `知识图谱 [${q.n}]：` : `From the knowledge graph [${q.n}]:`
    sentence = `${endName(q.head)} —${q.relation}→ ${endName(q.tail)}`
  }
  return { warning, from, sentence, n: q.n, text: `${warning} ${from} ${sentence}` }
}

/** A passage as [{text, mark}] pieces: mark = one of the evidence sentences used, to highlight. */
export function passageParts(text, sentences) {
  const marks = []
  for (const s of Array.isArray(sentences) ? sentences : []) {
    const at = s ? text.indexOf(s) : -1
    if (at >= 0) marks.push([at, at + s.length])
  }
  marks.sort((a, b) => a[0] - b[0])
  const parts = []
  let pos = 0
  for (const [from, to] of marks) {
    if (from < pos) continue // overlapping sentences: the first one wins
    if (from > pos) parts.push({ text: text.slice(pos, from), mark: false })
    parts.push({ text: text.slice(from, to), mark: true })
    pos = to
  }
  if (pos < text.length) parts.push({ text: text.slice(pos), mark: false })
  return parts
}

/** The reply text cut at its [n] citations: [{text}] and [{n}] pieces, n only where a source n exists. */
export function citationParts(text, sources) {
  const known = new Set((sources || []).map((s) => s.n))
  const parts = []
  let pos = 0
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    const n = Number(m[1])
    if (!known.has(n)) continue
    if (m.index > pos) parts.push({ text: text.slice(pos, m.index) })
    parts.push({ n })
    pos = m.index + m[0].length
  }
  if (pos < text.length) parts.push({ text: text.slice(pos) })
  return parts
}
