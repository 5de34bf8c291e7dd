// Chat attachments, DOM-free (the page and the uni-app): a file sent to POST /api/attachments becomes
// {id, name, type}, rides on the next message (`attachments: [id]`) and shows in its history message.

// The server takes at most this many on one message.
export const MAX_ATTACHMENTS = 4

/** Headers of an attachment request: the device's id (attachments are its own) and the access token. */
export function attachmentHeaders(clientId, headers = {}) {
  return { ...headers, 'X-Client-Id': clientId }
}

export function attachmentPath(id) {
  return `/api/attachments/${encodeURIComponent(id)}`
}

/** {attachment: {id, name, type, chars}} of an upload's answer, or {error: a sentence}. */
export function attachOutcome(status, body) {
  if (body && body.ok && body.attachment && typeof body.attachment.id === 'string') {
    const a = body.attachment
    return { attachment: { id: a.id, name: String(a.name || 'file'), type: String(a.type || ''), chars: a.chars | 0 } }
  }
  const message = body && body.error && body.error.message
  if (message) return { error: message }
  if (status === 413) return { error: 'The file is too large to attach.' }
  return { error: status ? `The file was not attached (HTTP ${status}).` : 'The file was not attached: the server did not answer.' }
}

/** The attachments a message carries, as {id, name, type}; anything malformed is left out. */
export function attachmentsOf(m) {
  const list = m && Array.isArray(m.attachments) ? m.attachments : []
  return list.filter((a) => a && typeof a.id === 'string').map((a) => ({ id: a.id, name: String(a.name || 'file'), type: String(a.type || '') }))
}

export function isImage(a) {
  return /^image\//.test(a && a.type)
}

/** One more attachment for the message being written, or a sentence why not (the limit, a repeat). */
export function addPending(pending, attachment) {
  if (pending.length >= MAX_ATTACHMENTS) return { pending, error: `A message takes at most ${MAX_ATTACHMENTS} attachments.` }
  if (pending.some((a) => a.id === attachment.id)) return { pending, error: '' }
  return { pending: [...pending, attachment], error: '' }
}

/** The `chat` payload's field for these attachments: {} when there are none (older servers take no such field). */
export function attachmentField(pending) {
  return pending && pending.length ? { attachments: pending.map((a) => a.id) } : {}
}
