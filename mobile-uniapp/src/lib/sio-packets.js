// Engine.IO v4 / Socket.IO v5 text packets: the only wire format the client speaks.
// Binary packets are never used by this protocol, so they are rejected, not decoded.

export const EIO = { OPEN: '0', CLOSE: '1', PING: '2', PONG: '3', MESSAGE: '4', UPGRADE: '5', NOOP: '6' }
export const SIO = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6 }

// Turns "http://host:port" (or ws://) into the WebSocket-only Engine.IO endpoint.
export function socketUrl(base, path = '/socket.io/') {
  const m = /^(https?|wss?):\/\/([^/?#]+)(\/[^?#]*)?/i.exec(String(base || '').trim())
  if (!m) throw new Error('Server address must look like http://192.168.1.2:5000')
  const scheme = /^(https|wss)$/i.test(m[1]) ? 'wss' : 'ws'
  const prefix = (m[3] || '').replace(/\/+$/, '')
  return `${scheme}://${m[2]}${prefix}${path}?EIO=4&transport=websocket`
}

// Engine.IO frame -> {type, data}; data is the rest of the string.
export function decodeEngine(frame) {
  if (typeof frame !== 'string' || frame.length === 0) return null
  return { type: frame[0], data: frame.slice(1) }
}

// One Socket.IO packet wrapped in an Engine.IO "message" frame.
export function encodeSocket({ type, nsp = '/', id, data }) {
  let out = EIO.MESSAGE + type
  if (nsp && nsp !== '/') out += nsp + ','
  if (id !== undefined && id !== null) out += String(id)
  if (data !== undefined) out += JSON.stringify(data)
  return out
}

// Socket.IO packet text (after the Engine.IO "4") -> {type, nsp, id?, data?}; throws on garbage.
export function decodeSocket(text) {
  let i = 0
  const type = Number(text[i++])
  if (!(type >= 0 && type <= 6)) throw new Error(`bad packet type in ${text.slice(0, 20)}`)
  if (type === SIO.BINARY_EVENT || type === SIO.BINARY_ACK) throw new Error('binary packets are not supported')
  let nsp = '/'
  if (text[i] === '/') {
    const comma = text.indexOf(',', i)
    nsp = comma === -1 ? text.slice(i) : text.slice(i, comma)
    i = comma === -1 ? text.length : comma + 1
  }
  let id
  const start = i
  while (i < text.length && text[i] >= '0' && text[i] <= '9') i++
  if (i > start) id = Number(text.slice(start, i))
  const rest = text.slice(i)
  const data = rest.length ? JSON.parse(rest) : undefined
  if (type === SIO.EVENT && (!Array.isArray(data) || typeof data[0] !== 'string')) throw new Error('event without a name')
  if (type === SIO.ACK && !Array.isArray(data)) throw new Error('ack without arguments')
  return { type, nsp, id, data }
}
