// Messages as the core keeps them, and how the server's history replaces them.
import { attachmentsOf } from './attachments.js'
import { evidenceOf } from './grounding.js'
import { randomId } from './ids.js'

/**
 * @param {'user'|'assistant'} role
 * @param {string} content
 * @param {Partial<import('./types.js').Message>} [extra]
 * @returns {import('./types.js').Message}
 */
export function newMessage(role, content, extra = {}) {
  return { id: randomId(10), role, content, reasoning: '', status: 'done', finishReason: '', error: '', requestId: '', queuePosition: 0, ...extra }
}

/**
 * The list that shows `history` (the server's truth), or null when `messages` already does.
 * Messages that match keep their ids and details (timings); new replies take their sources and grounding
 * as a `done` gives them; a streaming reply stays last;
 * failed turns (never in the history) go once the history moved on.
 */
export function mergeHistory(messages, history) {
  const hist = (Array.isArray(history) ? history : []).filter((m) => m && (m.role === 'user' || m.role === 'assistant'))
  const shown = messages.filter((m) => m.status === 'done')
  let k = 0
  while (k < hist.length && k < shown.length && shown[k].role === hist[k].role && shown[k].content === String(hist[k].content ?? '')) k++
  if (k === hist.length && k === shown.length) return null
  const live = messages.filter((m) => m.status === 'streaming' || m.status === 'sending')
  const added = hist.slice(k).map((m, i) => newMessage(m.role, String(m.content ?? ''), m.role === 'assistant'
    ? evidenceOf(m, questionBefore(hist, k + i)) : attachmentsOf(m).length ? { attachments: attachmentsOf(m) } : {}))
  return [...shown.slice(0, k), ...added, ...live]
}

/** The text of the user message right before messages[i] (a reply's question), or ''. */
export function questionBefore(messages, i) {
  const q = i > 0 ? messages[i - 1] : null
  return q && q.role === 'user' ? String(q.content ?? '') : ''
}

export function errorText(res) {
  const e = res && res.error
  return (e && e.message) || 'The server did not accept the request.'
}
