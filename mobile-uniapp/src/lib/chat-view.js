// What the chat page shows for each message and for the connection, as plain
// functions of the state, so the wording is unit-tested and the .vue stays thin.
import { renderMarkdown } from './markdown.js'

// Markdown is re-rendered only for messages whose text changed since last time.
export function createHtmlCache(render = renderMarkdown) {
  const cache = new Map()
  return {
    html(m) {
      const hit = cache.get(m.id)
      if (hit && hit.src === m.content) return hit.html
      const html = render(m.content)
      cache.set(m.id, { src: m.content, html })
      return html
    },
    // Drop entries of messages no longer on screen.
    prune(ids) {
      const keep = new Set(ids)
      for (const id of cache.keys()) if (!keep.has(id)) cache.delete(id)
    },
    get size() {
      return cache.size
    },
  }
}

// The grey line under an assistant message: what it is waiting for, or why it ended.
export function statusLine(m) {
  if (m.role !== 'assistant') return ''
  switch (m.status) {
    case 'sending':
      return 'Sending…'
    case 'streaming':
      if (m.queuePosition > 0) return m.queuePosition === 1 ? 'Waiting for the model: next in line' : `Waiting for the model: ${m.queuePosition} in line`
      return m.content || m.reasoning ? '' : 'Thinking…'
    case 'error':
      return m.error || 'The reply failed.'
    default:
      if (m.finishReason === 'cancelled') return 'Stopped.'
      if (m.finishReason === 'length') return 'Cut off at the token limit.'
      return ''
  }
}

// "128 tokens · 23.5 tok/s · first token 310 ms", from whatever the server reported.
export function statsLine(m) {
  const parts = []
  if (m.usage && m.usage.completion_tokens) parts.push(`${m.usage.completion_tokens} tokens`)
  const t = m.timings || {}
  if (t.tokens_per_s) parts.push(`${Number(t.tokens_per_s).toFixed(1)} tok/s`)
  if (t.ttft_ms !== undefined && t.ttft_ms !== null) parts.push(`first token ${Math.round(t.ttft_ms)} ms`)
  return parts.join(' · ')
}

// A model that is still loading explains the wait before the first token.
export function modelBanner(state) {
  const name = (state.settings && state.settings.backend) || state.defaultBackend
  const st = name && state.modelStatus ? state.modelStatus[name] : null
  if (!st) return ''
  if (st.error) return `The model (${name}) failed to load: ${st.error}`
  if (st.model_ready) return ''
  const pct = typeof st.progress === 'number' ? ` ${Math.round(st.progress <= 1 ? st.progress * 100 : st.progress)}%` : ''
  return `Loading the model (${name})${pct}${st.message ? `: ${st.message}` : ''}. Replies start when it is ready.`
}

// Dot colour of the connection indicator.
export function connColor(conn) {
  if (conn === 'connected') return '#2ba24c'
  if (conn === 'connecting' || conn === 'reconnecting') return '#e6a23c'
  return '#d64545'
}

// Send is possible only when connected, idle and something is typed.
export function canSend(state) {
  return state.conn === 'connected' && !state.busy && !!String(state.draft || '').trim()
}

// The current conversation's title, from the list (1.1 servers), or '' when it has none yet.
export function conversationTitle(state) {
  const items = (state.list && state.list.items) || []
  const c = items.find((x) => x.session_id === state.sessionId)
  return (c && c.title) || ''
}

// "12:05" today, else the date: when a conversation last changed.
export function whenText(iso, now = new Date()) {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  if (d.toDateString() === now.toDateString()) return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}
