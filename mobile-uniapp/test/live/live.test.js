// The uni-app client against the REAL server (python run.py, tiny endless model),
// over real WebSockets through a uni.connectSocket shim built on `ws`.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { SioClient } from '../../src/lib/sio-client.js'
import { ChatController, createChatState } from '../../src/lib/chat-controller.js'
import { testConnection } from '../../src/lib/probe.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { KEYS } from '../../src/lib/settings.js'
import { makeConnectSocket, request } from '../helpers/uni-shim.js'
import { buildTinyModel, startServer, freePort } from '../helpers/live-server.js'
import { until, sleep } from '../helpers/fake-socket.js'

// Server flags: --ping-interval 1 --ping-timeout 2, so a link without pongs dies within ~3 s.
const PING_DEAD_MS = 3000
let model
let server
const clients = []

before(async () => {
  model = buildTinyModel()
  server = await startServer({ model })
})

after(async () => {
  for (const c of clients) c.close()
  if (server) await server.stop()
})

let n = 0
const sessionId = () => `uniapp-live-${process.pid}-${++n}`

// A SioClient on its own shim, with every server event recorded in order.
function client({ session = sessionId(), token, ...opts } = {}) {
  const connectSocket = makeConnectSocket()
  const auth = { session_id: session }
  if (token) auth.token = token
  const c = new SioClient({ url: server.url, auth, connectSocket, backoff: { min: 200, max: 1000, jitter: 0.2 }, ...opts })
  c.shim = connectSocket
  c.events = []
  for (const name of ['ready', 'token', 'queued', 'done', 'error', 'status']) c.on(name, (p) => c.events.push([name, p]))
  c.of = (name, rid) => c.events.filter(([k, p]) => k === name && (!rid || p.request_id === rid)).map(([, p]) => p)
  clients.push(c)
  return c
}

async function connected(c) {
  c.connect()
  await until(() => c.of('ready').length, 'ready', 10000)
  return c.of('ready').at(-1)
}

const done = (c, rid, ms = 30000) => until(() => c.of('done', rid)[0], `done of ${rid}`, ms)

test('connects over the WebSocket alone and gets ready with its session and a ready model', async () => {
  const c = client({ session: 'uniapp-ready-check' })
  const ready = await connected(c)
  assert.equal(c.state, 'connected')
  assert.ok(c.sid)
  assert.equal(ready.session_id, 'uniapp-ready-check')
  assert.deepEqual(ready.history, [])
  assert.equal(ready.default_backend, 'local')
  const local = ready.backends.find((b) => b.name === 'local')
  assert.equal(local.model_ready, true)
  assert.ok(ready.limits.max_message_chars > 0)
  c.close()
})

test('a chat streams gapless tokens that add up to the done text', async () => {
  const c = client()
  await connected(c)
  const ack = await c.request('chat', { message: 'Hello there', params: { max_tokens: 40 } })
  assert.equal(ack.ok, true)
  assert.match(ack.request_id, /\S/)
  const d = await done(c, ack.request_id)
  const tokens = c.of('token', ack.request_id)
  assert.ok(tokens.length > 0)
  assert.deepEqual(tokens.map((t) => t.seq), [...Array(tokens.length).keys()])
  assert.equal(tokens.map((t) => t.text).join(''), d.text)
  assert.equal(d.finish_reason, 'length', 'the endless model runs to max_tokens')
  assert.equal(d.usage.completion_tokens, 40)
  const hist = await c.request('history', {})
  assert.deepEqual(hist.history, [{ role: 'user', content: 'Hello there' }, { role: 'assistant', content: d.text }])
  c.close()
})

test('acks carry errors a person can read: empty message, bad params, unknown event', async () => {
  const c = client()
  await connected(c)
  const empty = await c.request('chat', { message: '' })
  assert.equal(empty.ok, false)
  assert.equal(empty.error.code, 'bad_request')
  assert.match(empty.error.message, /\w+ \w+/)
  const hot = await c.request('chat', { message: 'hi', params: { temperature: 9 } })
  assert.equal(hot.error.code, 'bad_request')
  const unknown = await c.request('teleport', {})
  assert.equal(unknown.ok, false)
  assert.equal(unknown.error.code, 'bad_request')
  const stopNothing = await c.request('stop', {})
  assert.deepEqual(stopNothing, { ok: true, stopped: false })
  c.close()
})

test('Stop ends the reply as cancelled and keeps the partial text', async () => {
  const c = client()
  await connected(c)
  const { request_id: rid } = await c.request('chat', { message: 'Tell me everything', params: { max_tokens: 400 } })
  await until(() => c.of('token', rid).length >= 3, 'a few tokens', 20000)
  const stop = await c.request('stop', { request_id: rid })
  assert.deepEqual(stop, { ok: true, stopped: true })
  const d = await done(c, rid)
  assert.equal(d.finish_reason, 'cancelled')
  assert.ok(d.usage === undefined || d.usage.completion_tokens < 400)
  const hist = await c.request('history', {})
  assert.equal(hist.history[1].content, d.text)
  c.close()
})

test('heartbeat: without pongs the server drops the link; with them it survives many pings', async () => {
  // Both at once: the pinging one lives through the other's drop and past it.
  const silent = client({ sendPongs: false, reconnection: false })
  const alive = client({ reconnection: false })
  const readyAt = (c) => connected(c).then(() => Date.now())
  const [t0, t1] = await Promise.all([readyAt(silent), readyAt(alive)])
  const sid = alive.sid
  await until(() => silent.state === 'disconnected', 'server drops a client that never pongs', PING_DEAD_MS + 3000)
  const lived = Date.now() - t0
  assert.ok(lived <= PING_DEAD_MS + 1500, `dropped after ${lived} ms`)

  await sleep(t1 + PING_DEAD_MS + 2000 - Date.now())
  assert.equal(alive.state, 'connected')
  assert.equal(alive.sid, sid, 'same Socket.IO session: never dropped')
  assert.equal((await alive.request('history', {})).ok, true)
  alive.close()
})

test('a cut link reconnects with backoff and ready brings the same conversation', async () => {
  const session = sessionId()
  const c = client({ session })
  await connected(c)
  const { request_id: rid } = await c.request('chat', { message: 'Remember me', params: { max_tokens: 12 } })
  const first = await done(c, rid)
  const states = []
  c.on('state', (s, d) => states.push([s, d.delay]))
  const readies = c.of('ready').length
  c.shim.killAll()
  await until(() => c.of('ready').length > readies, 'ready after reconnect', 10000)
  assert.equal(states[0][0], 'reconnecting')
  assert.ok(states[0][1] > 0, 'waits a backoff delay before retrying')
  assert.deepEqual(states.slice(-1)[0][0], 'connected')
  const ready = c.of('ready').at(-1)
  assert.equal(ready.session_id, session)
  assert.deepEqual(ready.history, [{ role: 'user', content: 'Remember me' }, { role: 'assistant', content: first.text }])
  c.close()
})

test('a silent link (no packets, no close) is caught by the watchdog and replaced', async () => {
  const c = client()
  await connected(c)
  const readies = c.of('ready').length
  const reasons = []
  c.on('disconnect', (r) => reasons.push(r))
  c.shim.freezeAll()
  await until(() => c.of('ready').length > readies, 'ready on a new link', PING_DEAD_MS + 6000)
  assert.match(reasons[0], /heartbeat timed out/)
  c.close()
})

// The page logic, end to end: it is what a user sees.
function controller({ settings = {}, session = sessionId() } = {}) {
  const storage = memoryStorage({ [KEYS.settings]: { serverUrl: server.url, ...settings }, [KEYS.session]: session })
  const applied = []
  const shims = []
  const chat = new ChatController({
    state: createChatState(),
    storage,
    clientOptions: { backoff: { min: 200, max: 1000, jitter: 0.2 } },
    createClient: (opts) => {
      const shim = makeConnectSocket()
      shims.push(shim)
      return new SioClient({ ...opts, connectSocket: shim })
    },
    onTokenApplied: (t) => applied.push(t),
  })
  clients.push({ close: () => chat.dispose() })
  chat.start()
  return { chat, s: chat.state, storage, applied, shim: () => shims.at(-1) }
}

test('resume: cut mid-reply, the page reconnects and shows every token exactly once, in order', async () => {
  const env = controller({ settings: { params: { max_tokens: 300 } } })
  await until(() => env.s.conn === 'connected' && env.s.backends.length, 'connected', 10000)
  const raw = []
  env.chat.client.on('token', (t) => raw.push(t.seq))
  assert.equal(await env.chat.send('Count slowly'), true)
  const rid = env.s.messages.at(-1).requestId
  await until(() => env.applied.length >= 3, 'first tokens', 20000)
  const cutAt = env.applied.length
  assert.equal(env.s.busy, true, 'the cut falls in the middle of the reply')
  env.shim().killAll()
  await until(() => env.s.conn === 'reconnecting', 'noticed the cut', 5000)
  await until(() => !env.s.busy, 'reply finished after resume', 40000)
  const reply = env.s.messages.at(-1)
  assert.equal(reply.requestId, rid)
  assert.equal(reply.finishReason, 'length')
  assert.deepEqual(env.applied.map((t) => t.seq), [...Array(env.applied.length).keys()], 'gapless, no repeats')
  assert.ok(env.applied.length > cutAt, 'tokens after the cut arrived too')
  assert.equal(env.applied.filter((t) => t.kind !== 'reasoning').map((t) => t.text).join(''), reply.content)
  assert.equal(reply.usage.completion_tokens, 300)
  // And the server agrees: a fresh look at the history shows the same text.
  const hist = await env.chat.client.request('history', {})
  assert.equal(hist.history.at(-1).content, reply.content)
  env.chat.dispose()
})

test('the page: send, stream, stop, new conversation', async () => {
  const env = controller({ settings: { params: { max_tokens: 400 } } })
  await until(() => env.s.conn === 'connected', 'connected', 10000)
  assert.equal(await env.chat.send('First'), true)
  await until(() => env.s.messages.at(-1).content.length > 0, 'text on screen', 20000)
  await env.chat.stop()
  await until(() => !env.s.busy, 'stopped', 20000)
  assert.equal(env.s.messages.at(-1).finishReason, 'cancelled')
  assert.equal(env.s.messages.length, 2)
  assert.equal(await env.chat.send(''), false)
  assert.match(env.s.error, /Type a message/)
  assert.equal(await env.chat.newConversation(), true)
  assert.equal((await env.chat.client.request('history', {})).history.length, 0)
  env.chat.dispose()
})

test('connection test in Settings: success, a wrong port, and a blocked WebSocket, each with a hint', async () => {
  const ok = await testConnection(server.url, { request, connectSocket: makeConnectSocket() })
  assert.equal(ok.ok, true, ok.message)
  assert.match(ok.message, /backend local, model \S+ ready/)
  const nobody = await testConnection(`http://127.0.0.1:${await freePort()}`, { request, connectSocket: makeConnectSocket(), timeout: 2000 })
  assert.equal(nobody.ok, false)
  assert.match(nobody.message, /No answer .*same Wi-Fi/)
  const blocked = (opts) => makeConnectSocket()({ ...opts, url: opts.url.replace('/socket.io/', '/no-such-path/') })
  const half = await testConnection(server.url, { request, connectSocket: blocked, timeout: 2000 })
  assert.equal(half.ok, false)
  assert.match(half.message, /answers HTTP, but the WebSocket/)
})

test('access token: refused without it, asked once, stored, and then connected', async () => {
  const guarded = await startServer({ model, args: ['--token', 's3cret'] })
  try {
    const probe = await testConnection(guarded.url, { request, connectSocket: makeConnectSocket() })
    assert.match(probe.message, /needs an access token/)
    const storage = memoryStorage({ [KEYS.settings]: { serverUrl: guarded.url } })
    const chat = new ChatController({
      state: createChatState(),
      storage,
      createClient: (opts) => new SioClient({ ...opts, connectSocket: makeConnectSocket() }),
    })
    chat.start()
    await until(() => chat.state.needToken, 'asked for a token', 10000)
    assert.equal(chat.state.conn, 'refused')
    chat.setToken('wrong')
    await until(() => chat.state.conn === 'refused', 'refused again', 10000)
    assert.match(chat.state.error, /not accepted/)
    chat.setToken('s3cret')
    await until(() => chat.state.conn === 'connected' && chat.state.backends.length, 'connected with the token', 10000)
    assert.equal(storage.get(KEYS.settings).token, 's3cret', 'kept for the next start')
    chat.dispose()
  } finally {
    await guarded.stop()
  }
})
