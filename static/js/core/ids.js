// Ids the protocol allows, made where crypto may be missing: plain-HTTP LAN pages lack
// crypto.randomUUID and mini-programs lack crypto entirely.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'

export const SESSION_ID_RE = /^[A-Za-z0-9_-]{1,64}$/
export const CLIENT_ID_RE = /^[A-Za-z0-9_-]{22,64}$/

/** A random id of `length` characters from [A-Za-z0-9_-]. */
export function randomId(length = 22) {
  const bytes = new Uint8Array(length)
  const c = typeof crypto !== 'undefined' ? crypto : null
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes)
  else for (let i = 0; i < length; i++) bytes[i] = Math.floor(Math.random() * 256)
  let out = ''
  for (const b of bytes) out += ALPHABET[b & 63]
  return out
}

/** The id kept under `key`, or a fresh one (saved) when none or an invalid one is kept. */
export function keptId(storage, key, re, length = 22) {
  const id = storage.get(key, null)
  if (typeof id === 'string' && re.test(id)) return id
  const fresh = randomId(length)
  storage.set(key, fresh)
  return fresh
}
