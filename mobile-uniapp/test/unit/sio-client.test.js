import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SioClient } from '../../src/lib/sio-client.js'
import { fakeConnectSocket, until, sleep } from '../helpers/fake-socket.js'

const URL = 'http://192.168.43.1:5000'
const fastBackoff = { min: 30, max: 120, jitter: 0 }

function make(opts = {}, fake = fakeConnectSocket(opts.fake)) {
  const c = new SioClient({ url: URL, connectSocket: fake, backoff: fastBackoff, ...opts })
  return { c, fake }
}

test('opens the WebSocket endpoint and connects with the auth object', async () => {
  const { c, fake } = make({ auth: () => ({ session_id: 'abc', token: 't0k' }) })
  c.connect()
  await until(() => c.connected, 'connect')
  assert.equal(fake.last().url, 'ws://192.168.43.1:5000/socket.io/?EIO=4&transport=websocket')
  assert.deepEqual(fake.last().auth, { session_id: 'abc', token: 't0k' })
  assert.ok(c.sid)
  c.close()
})

test('fails loudly if connectSocket gives no SocketTask (called without callbacks)', async () => {
  const fake = fakeConnectSocket()
  const noTask = (o) => fake({ url: o.url }) // drops the callbacks: uni then returns a Promise
  const { c } = make({ reconnection: false }, noTask)
  const errs = []
  c.on('connect_error', (e) => errs.push(e.message))
  c.connect()
  await until(() => c.state === 'disconnected', 'give up')
  assert.match(errs[0], /no SocketTask/)
})

test('answers every ping with a pong, and not when pongs are disabled', async () => {
  const { c, fake } = make()
  c.connect()
  await until(() => c.connected, 'connect')
  fake.last().push('2')
  fake.last().push('2')
  assert.equal(fake.last().frames('3').length, 2)
  c.close()
  const quiet = make({ sendPongs: false })
  quiet.c.connect()
  await until(() => quiet.c.connected, 'connect')
  quiet.fake.last().push('2')
  assert.equal(quiet.fake.last().frames('3').length, 0)
  quiet.c.close()
})

test('acks resolve with the server answer; a dropped link fails waiting acks at once', async () => {
  const { c, fake } = make()
  c.connect()
  await until(() => c.connected, 'connect')
  const t = fake.last()
  t.onSent = (f) => {
    const m = /^42(\d+)\["chat"/.exec(f)
    if (m) t.push(`43${m[1]}[{"ok":true,"request_id":"r1"}]`)
  }
  assert.deepEqual(await c.request('chat', { message: 'hi' }), { ok: true, request_id: 'r1' })
  assert.match(t.sent.at(-1), /^42\d+\["chat",\{"message":"hi"\}\]$/)
  t.onSent = null
  const waiting = c.request('history', {})
  t.drop()
  await assert.rejects(waiting, (e) => e.code === 'disconnected')
  await assert.rejects(c.request('history', {}), (e) => e.code === 'disconnected')
  c.close()
})

test('an ack that never comes times out with a readable error', async () => {
  const { c } = make({ ackTimeout: 50 })
  c.connect()
  await until(() => c.connected, 'connect')
  await assert.rejects(c.request('history', {}), (e) => e.code === 'timeout' && /did not answer/.test(e.message))
  c.close()
})

test('delivers server events, answers server acks, and holds events sent before CONNECT', async () => {
  const fake = fakeConnectSocket({ autoAccept: false })
  const { c } = make({}, fake)
  const got = []
  c.on('connect', () => got.push('connect'))
  c.on('ready', (r) => got.push(['ready', r.session_id]))
  c.on('ask', (d, ack) => ack({ fine: d.n }))
  c.connect()
  await until(() => fake.last() && fake.last().frames('40').length, 'CONNECT sent')
  fake.last().event('ready', { session_id: 's1' }) // python-socketio may emit from the connect handler first
  fake.last().push('40{"sid":"x"}')
  await until(() => got.length === 2, 'ready')
  assert.deepEqual(got, ['connect', ['ready', 's1']])
  fake.last().event('ask', { n: 4 }, 9)
  assert.equal(fake.last().sent.at(-1), '439[{"fine":4}]')
  c.close()
})

test('a refused connect (44 unauthorized) is reported and not retried', async () => {
  const fake = fakeConnectSocket({ autoAccept: false })
  const { c } = make({}, fake)
  const errs = []
  c.on('connect_error', (e) => errs.push(e))
  c.connect()
  await until(() => fake.last() && fake.last().frames('40').length, 'CONNECT sent')
  fake.last().push('44{"message":"unauthorized"}')
  await until(() => c.state === 'refused', 'refused')
  assert.deepEqual(errs.map((e) => [e.message, e.fatal]), [['unauthorized', true]])
  await sleep(150)
  assert.equal(fake.tasks.length, 1, 'no retry with the same bad token')
  c.connect() // the user typed a token: try again
  await until(() => fake.tasks.length === 2, 'second try')
  c.close()
})

test('a silent link is declared dead after pingInterval + pingTimeout and replaced', async () => {
  const { c, fake } = make({ fake: { pingInterval: 60, pingTimeout: 60 } })
  const reasons = []
  c.on('disconnect', (r) => reasons.push(r))
  c.connect()
  await until(() => c.connected, 'connect')
  const first = fake.last()
  const t0 = Date.now()
  await until(() => reasons.length === 1, 'watchdog', 2000)
  const waited = Date.now() - t0
  assert.ok(waited >= 100 && waited < 400, `dead after ${waited} ms`)
  assert.match(reasons[0], /heartbeat/)
  assert.ok(first.closed, 'the dead socket is closed')
  await until(() => c.connected && fake.last() !== first, 'reconnected')
  c.close()
})

test('pings keep the watchdog quiet', async () => {
  const { c, fake } = make({ fake: { pingInterval: 60, pingTimeout: 60 } })
  c.connect()
  await until(() => c.connected, 'connect')
  const timer = setInterval(() => fake.last().push('2'), 50)
  await sleep(400)
  clearInterval(timer)
  assert.equal(fake.tasks.length, 1)
  assert.ok(c.connected)
  c.close()
})

test('reconnects with growing delays and resets them after success', async () => {
  const fake = fakeConnectSocket({ autoOpen: false })
  const { c } = make({ backoff: { min: 20, max: 200, jitter: 0 } }, fake)
  const delays = []
  c.on('state', (s, d) => s === 'reconnecting' && delays.push(d.delay))
  fake.onTask = (t) => setTimeout(() => (fake.tasks.length <= 3 ? t.drop() : t.open()), 5)
  c.connect()
  await until(() => c.connected, 'connected after 3 failures', 3000)
  assert.deepEqual(delays, [20, 40, 80])
  fake.last().drop()
  await until(() => delays.length === 4, 'next drop')
  assert.equal(delays[3], 20, 'backoff starts over after a good connection')
  c.close()
})

test('wake() skips the backoff wait when the app returns to the foreground', async () => {
  const fake = fakeConnectSocket({ autoOpen: false })
  const { c } = make({ backoff: { min: 5000, max: 5000, jitter: 0 } }, fake)
  fake.onTask = (t) => setTimeout(() => (fake.tasks.length === 1 ? t.drop() : t.open()), 5)
  c.connect()
  await until(() => c.state === 'reconnecting', 'waiting 5 s')
  c.wake()
  await until(() => c.connected, 'connected at once', 500)
  c.close()
})

test('close() says goodbye, fails nothing silently, and never reconnects', async () => {
  const { c, fake } = make()
  const seen = []
  c.on('disconnect', (r) => seen.push(r))
  c.connect()
  await until(() => c.connected, 'connect')
  const t = fake.last()
  c.close()
  assert.equal(t.sent.at(-1), '41')
  assert.equal(t.closed.code, 1000)
  assert.equal(c.state, 'closed')
  t.drop() // late close event from the platform
  await sleep(100)
  assert.equal(fake.tasks.length, 1)
  assert.deepEqual(seen, ['io client disconnect'])
})
