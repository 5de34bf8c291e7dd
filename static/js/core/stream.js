// How the events of a reply reach its message: in seq order, exactly once, whoever started it
// (this client, another tab, this client before a reload) and across reconnects.

import { evidenceOf } from './grounding.js'
import { newMessage, questionBefore } from './messages.js'

// How long a `done` that overtook the resume replay waits for the missing tokens.
const STASHED_DONE_WAIT_MS = 3000

/**
 * A reply being followed: the request, its message and how far it has been applied.
 * @param {string} requestId
 * @param {string} msgId
 * @param {Partial<import('./types.js').Reply>} [extra]
 * @returns {import('./types.js').Reply}
 */
export function newReply(requestId, msgId, extra = {}) {
  return { requestId, msgId, lastSeq: -1, answer: '', reasoning: '', resumePending: false, stashedDone: null, syncOnDone: false, ...extra }
}

/**
 * Routes token/queued/done/error to the reply they belong to. `core` supplies the state and
 * the few actions this needs (message look-up, follow, finish, history sync).
 */
export function route(core, name, p) {
  if (!p || typeof p !== 'object') return
  const id = p.request_id
  if (name === 'error' && !id) return core._fail(p.message || 'The server reported an error.')
  if (!id || core.ended.has(id)) return
  let a = core.active
  if (!a || a.requestId !== id) {
    // Our chat's ack has not come yet: keep the event until it says which request is ours.
    if (core.pending) return void core.pending.buffer.push([name, p])
    if (a || name === 'error') return
    // Another tab of this conversation (or another device) started this reply: show it live.
    a = follow(core, id)
  }
  if (name === 'token') applyToken(core, a, p)
  else if (name === 'queued') core._patch(a.msgId, { queuePosition: Number(p.position) || 1 })
  else if (name === 'error') core._patch(a.msgId, { error: p.message || 'The reply failed.', errorCode: p.code || '' })
  else if (name === 'done') onDone(core, a, p)
}

// Only the next token in order is applied: replays repeat old ones, and live tokens that
// arrive before the replay are gaps the replay will fill.
/** @param {import('./types.js').Reply} a @param {import('./types.js').Token} t */
function applyToken(core, a, t) {
  if (t.seq !== a.lastSeq + 1) {
    // We missed the start (a reply another tab began): have it replayed from the first token.
    if (a.lastSeq === -1 && t.seq > 0 && !a.resumePending) resume(core, a, -1)
    return
  }
  a.lastSeq = t.seq
  const text = typeof t.text === 'string' ? t.text : ''
  if (t.kind === 'reasoning') a.reasoning += text
  else a.answer += text
  core._patch(a.msgId, { content: a.answer, reasoning: a.reasoning, queuePosition: 0, status: 'streaming' })
  if (core.onTokenApplied) core.onTokenApplied(t)
  if (a.stashedDone && a.answer === a.stashedDone.text) finish(core, a, a.stashedDone)
}

/** @param {import('./types.js').Reply} a @param {import('./types.js').Done} d */
function onDone(core, a, d) {
  // A live `done` can overtake the replay after a reconnect: wait for the replay's tokens.
  if (a.resumePending && d.finish_reason !== 'error' && typeof d.text === 'string' && d.text !== a.answer) {
    if (!a.stashedDone) a.stashTimer = setTimeout(() => core.active === a && finish(core, a, a.stashedDone), STASHED_DONE_WAIT_MS)
    a.stashedDone = d
    return
  }
  finish(core, a, d)
}

/**
 * The reply ended: its message takes the server's final text, and the client is idle again.
 * @param {import('./types.js').Reply} a
 * @param {import('./types.js').Done} d
 * @param {string} [error] the message's error when the server gave none
 */
export function finish(core, a, d, error) {
  clearTimeout(a.stashTimer)
  core.ended.add(a.requestId)
  const failed = d.finish_reason === 'error'
  const patch = { status: failed ? 'error' : 'done', finishReason: d.finish_reason || '', queuePosition: 0 }
  if (typeof d.text === 'string') patch.content = d.text
  if (typeof d.reasoning === 'string' && d.reasoning) patch.reasoning = d.reasoning
  if (d.usage) patch.usage = d.usage
  if (d.timings) patch.timings = d.timings
  // A grounded reply's sources and check, as a history message of it will have them.
  Object.assign(patch, evidenceOf(d, questionOf(core, a.msgId)))
  const msg = core._msg(a.msgId)
  if (failed && !(msg && msg.error)) patch.error = error || 'The reply failed.'
  core._patch(a.msgId, patch)
  // A failed turn never entered the server's history: its question is marked so.
  if (failed && a.userId) core._patch(a.userId, { status: 'failed' })
  if (core.active === a) core.active = null
  core.storage.remove(core.keys.pending)
  core._setBusy(false)
  if (a.syncOnDone) core.syncHistory()
  else if (!failed) core.list.touchCurrent()
}

/** The question a reply answers: the user message right before it. */
function questionOf(core, msgId) {
  const msgs = core.state.messages
  return questionBefore(msgs, msgs.findIndex((m) => m.id === msgId))
}

/** Follow reply `id` that this client did not start; `replayFrom` -1 asks for all of it again. */
export function follow(core, id, replayFrom = null, question = null) {
  const msgs = []
  let userId = null
  // Its question is shown when this client knows it (sent before a reload) and the history lacks it.
  const pending = core.storage.get(core.keys.pending, null)
  if (pending && pending.request_id === id && pending.session_id === core.state.sessionId) question = pending.message
  const last = core.state.messages[core.state.messages.length - 1]
  if (last && last.role === 'user' && last.content === question) question = null
  if (question) {
    const q = newMessage('user', question)
    userId = q.id
    msgs.push(q)
    if (core.state.draft === question) core.state.draft = ''
  }
  const reply = newMessage('assistant', '', { status: 'streaming', requestId: id })
  msgs.push(reply)
  core.state.messages.push(...msgs)
  core._changed('messages')
  // The history is the truth once it ends (the question came from elsewhere).
  const a = newReply(id, reply.id, { userId, syncOnDone: true })
  core.active = a
  core._setBusy(true)
  if (replayFrom !== null) resume(core, a, replayFrom)
  return a
}

/** Ask the server to replay what was missed; a reply it no longer knows is marked lost. */
export async function resume(core, a, afterSeq, history) {
  a.resumePending = true
  const res = await core.call('resume', { request_id: a.requestId, after_seq: afterSeq })
  if (res.ok || core.active !== a || (res.error && res.error.code === 'disconnected')) return
  const why = res.error && res.error.message ? `The reply was lost: ${res.error.message}` : 'The reply was lost when the connection dropped.'
  a.syncOnDone = true
  finish(core, a, { finish_reason: 'error' }, why)
  if (history) core.loadHistory(history)
}
