// Session ids: [A-Za-z0-9_-]{22}, as the protocol allows. Plain-HTTP pages lack
// crypto.randomUUID and mini-programs lack crypto entirely, hence the fallbacks.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'

export function randomId(length = 22) {
  const bytes = new Uint8Array(length)
  const c = typeof crypto !== 'undefined' ? crypto : null
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes)
  else for (let i = 0; i < length; i++) bytes[i] = Math.floor(Math.random() * 256)
  let out = ''
  for (const b of bytes) out += ALPHABET[b & 63]
  return out
}

export const SESSION_ID_RE = /^[A-Za-z0-9_-]{1,64}$/
