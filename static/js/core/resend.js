// Asking again in one conversation: regenerate the last reply, or edit a question and resend from there.
// Both cut the server's history first (`truncate`), then send; ChatCore's regenerate() and edit() call these.
import { errorText } from './messages.js'

/** Messages the server's history holds (failed and streaming ones are only on screen). */
export function historyMessages(core) {
  return core.state.messages.filter((m) => m.status === 'done')
}

/** Ask again: drop the last turn on the server, then send its question anew. */
export async function regenerate(core) {
  const msgs = core.state.messages
  const last = msgs[msgs.length - 1]
  const question = msgs[msgs.length - 2]
  if (core.state.busy || !last || last.role !== 'assistant' || !question || question.role !== 'user') return false
  if (last.status === 'error') {
    // A failed reply never entered the server's history: only the screen needs tidying.
    core._removeMessages([question.id, last.id])
    return core.send(question.content)
  }
  return resendFrom(core, question, question.content)
}

/** Edit and resend: cut the history at `msgId` (a question) and send `text` instead. */
export function edit(core, msgId, text) {
  const msg = core._msg(msgId)
  if (!msg || msg.role !== 'user' || core.state.busy || !String(text || '').trim()) return Promise.resolve(false)
  return resendFrom(core, msg, text)
}

async function resendFrom(core, msg, text) {
  const keep = historyMessages(core).indexOf(msg)
  if (keep < 0) return false
  if (!core.connected) return core._fail('Not connected to the server.')
  const res = await core.call('truncate', { keep })
  if (!res.ok) return core._fail(errorText(res))
  core.loadHistory(res.history)
  return core.send(text)
}
