import { test } from 'node:test'
import assert from 'node:assert/strict'
import { socketUrl, encodeSocket, decodeSocket, decodeEngine, SIO } from '../../src/lib/sio-packets.js'

test('socketUrl maps http to ws and https to wss on the WebSocket-only endpoint', () => {
  assert.equal(socketUrl('http://192.168.43.1:5000'), 'ws://192.168.43.1:5000/socket.io/?EIO=4&transport=websocket')
  assert.equal(socketUrl('https://chat.lan/'), 'wss://chat.lan/socket.io/?EIO=4&transport=websocket')
  assert.equal(socketUrl('http://h:1/prefix/'), 'ws://h:1/prefix/socket.io/?EIO=4&transport=websocket')
  assert.throws(() => socketUrl('192.168.1.2'), /must look like/)
})

test('encodes connect with auth, events with ack ids, and acks', () => {
  assert.equal(encodeSocket({ type: SIO.CONNECT, data: { session_id: 'a', token: 't' } }), '40{"session_id":"a","token":"t"}')
  assert.equal(encodeSocket({ type: SIO.CONNECT }), '40')
  assert.equal(encodeSocket({ type: SIO.EVENT, id: 12, data: ['chat', { message: 'hi' }] }), '4212["chat",{"message":"hi"}]')
  assert.equal(encodeSocket({ type: SIO.EVENT, data: ['x'] }), '42["x"]')
  assert.equal(encodeSocket({ type: SIO.ACK, id: 3, data: [{ ok: true }] }), '433[{"ok":true}]')
  assert.equal(encodeSocket({ type: SIO.DISCONNECT }), '41')
})

test('decodes events, acks with ids, connect errors and namespaces', () => {
  assert.deepEqual(decodeSocket('2["token",{"seq":0,"text":"Hi"}]'), { type: 2, nsp: '/', id: undefined, data: ['token', { seq: 0, text: 'Hi' }] })
  assert.deepEqual(decodeSocket('37[{"ok":false,"error":{"code":"bad_request"}}]').id, 7)
  assert.deepEqual(decodeSocket('4{"message":"unauthorized"}').data, { message: 'unauthorized' })
  assert.deepEqual(decodeSocket('0{"sid":"abc"}').data, { sid: 'abc' })
  assert.equal(decodeSocket('2/admin,5["x"]').nsp, '/admin')
  assert.equal(decodeSocket('2/admin,5["x"]').id, 5)
  assert.equal(decodeSocket('1').type, SIO.DISCONNECT)
})

test('rejects garbage and binary packets instead of guessing', () => {
  assert.throws(() => decodeSocket('9[]'))
  assert.throws(() => decodeSocket('2{"not":"array"}'))
  assert.throws(() => decodeSocket('51-["x",{"_placeholder":true,"num":0}]'), /binary/)
  assert.throws(() => decodeSocket('2["x"'))
  assert.equal(decodeEngine(''), null)
  assert.deepEqual(decodeEngine('2'), { type: '2', data: '' })
})
