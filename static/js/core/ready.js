// What `ready` and `status` tell the core: ids, backends, limits, the list, this conversation's
// settings, and whether a reply runs that this client should follow.
import { SESSION_ID_RE, CLIENT_ID_RE } from './ids.js'
import { follow, resume } from './stream.js'

/** @param {import('./types.js').Ready} r */
export function onReady(core, r) {
  const s = core.state
  if (typeof r.session_id === 'string' && SESSION_ID_RE.test(r.session_id)) core._setSession(r.session_id)
  if (typeof r.client_id === 'string' && CLIENT_ID_RE.test(r.client_id)) {
    s.clientId = r.client_id
    core.storage.set(core.keys.client, r.client_id)
  }
  s.protocol = r.client_id ? 1.1 : 1
  s.backends = Array.isArray(r.backends) ? r.backends : []
  s.defaultBackend = r.default_backend || (s.backends[0] && s.backends[0].name) || ''
  s.limits = r.limits || {}
  const status = {}
  for (const b of s.backends) status[b.name] = { model_ready: b.model_ready !== false, message: b.status || '' }
  s.modelStatus = status
  if (Array.isArray(r.conversations)) core.list.fromReady(r.conversations, r.conversations_more)
  if (r.settings && typeof r.settings === 'object') core._setChat(r.settings)
  else if (s.protocol > 1) fetchSettings(core)
  core._changed('ready')
  const lost = core.lostChat
  core.lostChat = null
  if (core.active) return resume(core, core.active, core.active.lastSeq, r.history)
  if (core.pending) return // the chat's ack is still coming; keep the bubbles
  const activeId = r.active_request_id && !core.ended.has(r.active_request_id) ? String(r.active_request_id) : null
  const hadLocal = s.messages.length > 0
  core.loadHistory(r.history)
  if (hadLocal && !s.messages.length && !activeId) s.notice = 'The server no longer has this conversation (it was restarted, or the conversation expired).'
  // A reply runs that this client is not following: ours whose ack was lost, ours before a
  // reload, or another tab's.
  if (activeId) follow(core, activeId, -1, lost ? lost.message : null)
}

// `ready` names no settings: `open` of the same conversation brings them (and changes nothing else).
async function fetchSettings(core) {
  const sid = core.state.sessionId
  const res = await core.call('open', { session_id: sid })
  if (res.ok && res.settings && core.state.sessionId === sid) core._setChat(res.settings)
}

/** @param {import('./types.js').ModelStatus} st */
export function onModelStatus(core, st) {
  if (!st || !st.backend) return
  const entry = { model_ready: !!st.model_ready, progress: st.progress, message: st.message || '', error: st.error || '' }
  core.state.modelStatus = { ...core.state.modelStatus, [st.backend]: entry }
  const b = core.state.backends.find((x) => x.name === st.backend)
  if (b) Object.assign(b, { model_ready: entry.model_ready, status: entry.message, progress: entry.progress })
  core._changed('status', st)
}
