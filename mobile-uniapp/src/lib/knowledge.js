// The knowledge base in the app: request options for /api/kb, readable errors, and the sources under a reply.
import { groundingNote, passageParts } from '@core/grounding.js'
import { docLine } from '@core/ingest.js'
import { httpErrorText, jsonBody } from '@core/roles.js'

// No uni here (the pages call uni.request / uni.uploadFile with what these build), so Node tests reach it.
import { factChip } from './graph.js'

export const KB_EXTENSIONS = ['.txt', '.md', '.pdf', '.docx', '.html', '.png', '.jpg', '.jpeg', '.webp']

/** Headers for the server's /api/ routes: the access token where one is kept. */
export function kbHeaders(token) {
  return token ? { Authorization: `Bearer ${token}` } : {}
}

/** What an upload answered: {ok, text} to show (uni.uploadFile hands the body over as a string). */
export function uploadOutcome(statusCode, data, name) {
  const body = jsonBody(data)
  if (statusCode === 200 && body && body.ok) {
    const d = body.document
    return { ok: true, text: d.duplicate ? `${d.title} is already in the library.` : `Added ${d.title} (${d.chunks} passages).` }
  }
  return { ok: false, text: httpErrorText(statusCode, body, `${name} was not added`) }
}

export { groundingNote, docLine }

/** The sources of a finished reply as chips, or null when the reply was not grounded; [] = nothing found.
 *  `parts` is the passage cut around the evidence sentences used (mark = highlight). */
export function sourceChips(m) {
  if (!m || m.status !== 'done' || !Array.isArray(m.sources)) return null
  return m.sources.map((s) => (s.kind === 'fact' ? factChip(s) : {
    key: s.chunk_id,
    n: s.n,
    label: `[${s.n}] ${s.title}`,
    heading: `[${s.n}] ${s.title}${s.page ? `, page ${s.page}` : ''}`,
    text: s.text,
    parts: passageParts(s.text, s.sentences),
  }))
}

/** A grounded reply's HTML with each [n] of a known source as a link "#kb-n" (code left alone), for mp-html's linktap. */
export function linkCitationsHtml(html, sources) {
  const known = new Set((sources || []).map((s) => s.n))
  if (!known.size) return html
  let inCode = 0
  return html.split(/(<[^>]+>)/).map((part) => {
    if (part.startsWith('<')) {
      if (/^<(pre|code)\b/i.test(part)) inCode++
      else if (/^<\/(pre|code)>/i.test(part)) inCode--
      return part
    }
    return inCode ? part : part.replace(/\[(\d+)\]/g, (all, n) => (known.has(Number(n)) ? `<a href="#kb-${n}">${all}</a>` : all))
  }).join('')
}

/** The source n a tapped link "#kb-n" names, or null. */
export function citedSource(href) {
  const m = /^#kb-(\d+)$/.exec(String(href || ''))
  return m ? Number(m[1]) : null
}
