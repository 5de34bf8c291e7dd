import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ChatController, createChatState } from '../../src/lib/chat-controller.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { KEYS } from '../../src/lib/settings.js'
import { clientFactory, tick } from '../helpers/fake-client.js'

const READY = {
  session_id: 'sess-1',
  history: [
    { role: 'user', content: 'hello' },
    { role: 'assistant', content: 'Hi **there**' },
  ],
  backends: [{ name: 'local', models: ['tiny'], default_model: 'tiny', model_ready: true, status: '' }],
  default_backend: 'local',
  limits: { max_message_chars: 20 },
}

function setup({ settings = { serverUrl: 'http://192.168.43.1:5000' }, session = 'sess-1' } = {}) {
  const storage = memoryStorage({ [KEYS.settings]: settings, [KEYS.session]: session })
  const create = clientFactory()
  const applied = []
  const chat = new ChatController({ state: createChatState(), storage, createClient: create, onTokenApplied: (t) => applied.push(t) })
  chat.start()
  return { chat, s: chat.state, storage, create, applied, client: () => create.last() }
}

// Sends `text` and acks the chat with request id `rid`; returns the send() promise result.
async function sendAndAccept(env, text, rid = 'r1') {
  const p = env.chat.send(text)
  await tick()
  const req = env.client().take('chat')
  req.resolve({ ok: true, request_id: rid })
  assert.equal(await p, true)
  return req
}

const tok = (seq, text, extra = {}) => ({ request_id: 'r1', seq, text, ...extra })

test('without an address it asks for one and does not connect', () => {
  const env = setup({ settings: {} })
  assert.equal(env.s.conn, 'unconfigured')
  assert.equal(env.create.made.length, 0)
  assert.match(env.s.connText, /server address/)
})

test('connects with the stored session id and token, and ready brings the conversation back', () => {
  const env = setup({ settings: { serverUrl: 'http://192.168.43.1:5000', token: 'secret' } })
  const c = env.client()
  assert.equal(c.opts.url, 'http://192.168.43.1:5000')
  const auth = c.opts.auth()
  assert.match(auth.client_id, /^[A-Za-z0-9_-]{32}$/, 'a client id is made once and sent (protocol 1.1)')
  assert.deepEqual({ ...auth, client_id: 'x' }, { client_id: 'x', session_id: 'sess-1', token: 'secret' })
  assert.equal(env.storage.get(KEYS.client), auth.client_id)
  c.accept({ ...READY, session_id: 'sess-2' })
  assert.equal(env.s.conn, 'connected')
  assert.deepEqual(env.s.messages.map((m) => [m.role, m.content]), [['user', 'hello'], ['assistant', 'Hi **there**']])
  assert.equal(env.storage.get(KEYS.session), 'sess-2', 'the server-given id is kept for the next start')
  assert.equal(env.s.limits.max_message_chars, 20)
  assert.equal(env.s.modelStatus.local.model_ready, true)
})

test('a streamed reply grows token by token, reasoning apart, and done closes it', async () => {
  const env = setup()
  env.client().accept(READY)
  env.s.draft = 'Why?'
  const req = await sendAndAccept(env)
  assert.deepEqual(req.data, { message: 'Why?' })
  assert.equal(env.s.draft, '')
  assert.equal(env.s.busy, true)
  const c = env.client()
  c.server('queued', { request_id: 'r1', position: 2 })
  assert.equal(env.s.messages.at(-1).queuePosition, 2)
  c.server('token', tok(0, 'hmm', { kind: 'reasoning' }))
  c.server('token', tok(1, 'Because'))
  c.server('token', tok(2, ' yes.'))
  const reply = env.s.messages.at(-1)
  assert.equal(reply.reasoning, 'hmm')
  assert.equal(reply.content, 'Because yes.')
  assert.equal(reply.queuePosition, 0)
  c.server('done', { request_id: 'r1', finish_reason: 'stop', text: 'Because yes.', usage: { prompt_tokens: 3, completion_tokens: 3 } })
  assert.equal(env.s.busy, false)
  assert.equal(reply.status, 'done')
  assert.equal(reply.usage.completion_tokens, 3)
})

test('the chat carries backend, model, system prompt and params from settings', async () => {
  const env = setup({ settings: { serverUrl: 'http://h:1', backend: 'local', model: 'tiny', system: 'Be brief.', params: { temperature: '0.5', max_tokens: '64', top_k: '' } } })
  env.client().accept(READY)
  const req = await sendAndAccept(env, 'hi')
  assert.deepEqual(req.data, { message: 'hi', backend: 'local', model: 'tiny', system: 'Be brief.', params: { temperature: 0.5, max_tokens: 64 } })
})

test('tokens out of order are ignored: repeats from a replay and gaps alike', async () => {
  const env = setup()
  env.client().accept(READY)
  await sendAndAccept(env, 'hi')
  const c = env.client()
  for (const t of [tok(0, 'a'), tok(0, 'a'), tok(2, 'c'), tok(1, 'b'), tok(1, 'b'), tok(2, 'c')]) c.server('token', t)
  assert.equal(env.s.messages.at(-1).content, 'abc')
  assert.deepEqual(env.applied.map((t) => t.seq), [0, 1, 2])
})

test('refuses to send what the server would refuse, and says why', async () => {
  const env = setup()
  assert.equal(await env.chat.send('hi'), false)
  assert.match(env.s.error, /Not connected/)
  env.client().accept(READY)
  assert.equal(await env.chat.send('   '), false)
  assert.match(env.s.error, /Type a message/)
  assert.equal(await env.chat.send('x'.repeat(21)), false)
  assert.match(env.s.error, /too long: 21 characters.*at most 20/)
  await sendAndAccept(env, 'ok')
  assert.equal(await env.chat.send('again'), false)
  assert.match(env.s.error, /Wait for the reply/)
})

test('a refused chat takes its bubbles back and returns the text to the input', async () => {
  const env = setup()
  env.client().accept(READY)
  const p = env.chat.send('hi')
  await tick()
  assert.equal(env.s.messages.length, 4)
  env.client().take('chat').resolve({ ok: false, error: { code: 'busy', message: 'A reply is still being written.' } })
  assert.equal(await p, false)
  assert.equal(env.s.messages.length, 2)
  assert.equal(env.s.draft, 'hi')
  assert.equal(env.s.error, 'A reply is still being written.')
  assert.equal(env.s.busy, false)
})

test('events that overtake the chat ack are kept and applied once the id is known', async () => {
  const env = setup()
  env.client().accept(READY)
  const p = env.chat.send('hi')
  await tick()
  const c = env.client()
  c.server('token', tok(0, 'early'))
  c.server('token', tok(1, ' bird'))
  c.take('chat').resolve({ ok: true, request_id: 'r1' })
  await p
  assert.equal(env.s.messages.at(-1).content, 'early bird')
})

test('after a reconnect it resumes from the last token and keeps what is on screen', async () => {
  const env = setup()
  env.client().accept(READY)
  await sendAndAccept(env, 'hi')
  const c = env.client()
  c.server('token', tok(0, 'one'))
  c.server('token', tok(1, ' two'))
  c.drop()
  assert.equal(env.s.conn, 'reconnecting')
  assert.match(env.s.connText, /Retrying in 1 s/)
  c.accept(READY) // history lacks the unfinished turn
  await tick()
  assert.equal(env.s.messages.at(-1).content, 'one two', 'the partial reply stays')
  const resume = c.take('resume')
  assert.deepEqual(resume.data, { request_id: 'r1', after_seq: 1 })
  c.server('token', tok(3, ' four')) // live token ahead of the replay: a gap
  c.server('token', tok(2, ' three'))
  c.server('token', tok(3, ' four'))
  resume.resolve({ ok: true, status: 'streaming' })
  c.server('done', { request_id: 'r1', finish_reason: 'stop', text: 'one two three four' })
  assert.equal(env.s.messages.at(-1).content, 'one two three four')
  assert.deepEqual(env.applied.map((t) => t.seq), [0, 1, 2, 3])
  assert.equal(env.s.busy, false)
})

test('a done that overtakes the replay waits until the missing tokens arrive', async () => {
  const env = setup()
  env.client().accept(READY)
  await sendAndAccept(env, 'hi')
  const c = env.client()
  c.server('token', tok(0, 'A'))
  c.drop()
  c.accept(READY)
  await tick()
  c.server('done', { request_id: 'r1', finish_reason: 'stop', text: 'ABC' }) // live, before the replay
  assert.equal(env.s.busy, true, 'not finished with tokens missing')
  c.server('token', tok(1, 'B'))
  c.server('token', tok(2, 'C'))
  assert.equal(env.s.busy, false)
  assert.equal(env.s.messages.at(-1).content, 'ABC')
  assert.deepEqual(env.applied.map((t) => t.seq), [0, 1, 2])
  c.server('done', { request_id: 'r1', finish_reason: 'stop', text: 'ABC' }) // the replay's own done: ignored
  assert.equal(env.s.messages.length, 4)
})

test('a reply the server forgot is marked lost, with its question, ready to retry', async () => {
  const env = setup()
  env.client().accept(READY)
  await sendAndAccept(env, 'hi')
  const c = env.client()
  c.drop()
  c.handlers.history = () => ({ ok: true, history: READY.history })
  c.accept(READY)
  await tick()
  c.take('resume').resolve({ ok: false, error: { code: 'not_found', message: 'That reply is no longer available.' } })
  await tick()
  assert.equal(env.s.busy, false)
  await tick()
  const [q, r] = env.s.messages.slice(-2)
  assert.deepEqual([q.content, q.status], ['hi', 'failed'], 'not in the server history, still on screen')
  assert.equal(r.status, 'error')
  assert.match(r.error, /The reply was lost: That reply is no longer available/)
  c.handlers.chat = () => ({ ok: true, request_id: 'r2' })
  assert.equal(await env.chat.regenerate(), true)
  assert.deepEqual(env.s.messages.map((m) => m.content), ['hello', 'Hi **there**', 'hi', ''])
})

test('an error event shows on its reply, and the reply can be retried', async () => {
  const env = setup()
  env.client().accept(READY)
  await sendAndAccept(env, 'hi')
  const c = env.client()
  c.server('error', { request_id: 'r1', code: 'unavailable', message: 'The model server is down.' })
  c.server('done', { request_id: 'r1', finish_reason: 'error', text: '' })
  const reply = env.s.messages.at(-1)
  assert.equal(reply.status, 'error')
  assert.equal(reply.error, 'The model server is down.')
  const again = env.chat.regenerate()
  await tick()
  const req = c.take('chat')
  assert.equal(req.data.message, 'hi')
  assert.equal(env.s.messages.length, 4, 'the failed pair was replaced, not duplicated')
  req.resolve({ ok: true, request_id: 'r2' })
  assert.equal(await again, true)
})

test('regenerate drops the last turn on the server, then asks the same question', async () => {
  const env = setup()
  const c = env.client()
  c.accept(READY)
  c.handlers.truncate = (d) => ({ ok: true, history: READY.history.slice(0, d.keep) })
  const p = env.chat.regenerate()
  await tick()
  await tick()
  const req = c.take('chat')
  assert.equal(req.data.message, 'hello')
  assert.deepEqual(env.s.messages.map((m) => m.role), ['user', 'assistant'])
  req.resolve({ ok: true, request_id: 'r9' })
  assert.equal(await p, true)
})

test('Stop asks the server to stop this request; pressed before the ack, it waits for the id', async () => {
  const env = setup()
  const c = env.client()
  c.accept(READY)
  const p = env.chat.send('hi')
  await tick()
  env.chat.stop()
  assert.equal(c.requests.filter((r) => r.event === 'stop').length, 0)
  c.take('chat').resolve({ ok: true, request_id: 'r1' })
  await p
  await tick()
  const stop = c.take('stop')
  assert.deepEqual(stop.data, { request_id: 'r1' })
  stop.resolve({ ok: true, stopped: true })
  c.server('done', { request_id: 'r1', finish_reason: 'cancelled', text: '' })
  assert.equal(env.s.messages.at(-1).finishReason, 'cancelled')
  assert.equal(env.s.busy, false)
})

test('new conversation resets the server history and the screen', async () => {
  const env = setup()
  const c = env.client()
  c.accept(READY)
  c.handlers.reset = () => ({ ok: true })
  assert.equal(await env.chat.newConversation(), true)
  assert.equal(env.s.messages.length, 0)
})

test('unauthorized asks for the token; the token typed is stored and used to reconnect', () => {
  const env = setup()
  env.client().refuse('unauthorized')
  assert.equal(env.s.needToken, true)
  assert.equal(env.s.conn, 'refused')
  assert.match(env.s.error, /needs an access token/)
  env.chat.setToken('  t0k ')
  assert.equal(env.create.made.length, 2)
  assert.equal(env.create.made[0].closed, true)
  assert.deepEqual({ ...env.client().opts.auth(), client_id: 'x' }, { client_id: 'x', session_id: 'sess-1', token: 't0k' })
  assert.equal(env.storage.get(KEYS.settings).token, 't0k')
  env.client().accept(READY)
  assert.equal(env.s.needToken, false)
})

test('a model still loading is tracked from ready and from status events', () => {
  const env = setup()
  env.client().accept({ ...READY, backends: [{ ...READY.backends[0], model_ready: false, status: 'loading weights' }] })
  assert.deepEqual(env.s.modelStatus.local, { model_ready: false, message: 'loading weights' })
  env.client().server('status', { backend: 'local', model_ready: false, progress: 0.4, message: 'loading' })
  assert.equal(env.s.modelStatus.local.progress, 0.4)
  env.client().server('status', { backend: 'local', model_ready: true, message: 'ready' })
  assert.equal(env.s.modelStatus.local.model_ready, true)
})

test('the server forgetting the conversation is said, not silently shown as empty', () => {
  const env = setup()
  const c = env.client()
  c.accept(READY)
  c.drop()
  c.accept({ ...READY, history: [] })
  assert.equal(env.s.messages.length, 0)
  assert.match(env.s.notice, /no longer has this conversation/)
})

test('settings: a new address reconnects; bad params are refused with a reason', () => {
  const env = setup()
  assert.throws(() => env.chat.applySettings({ ...env.s.settings, params: { temperature: '5' } }), /Temperature must be 0-2/)
  const { warning } = env.chat.applySettings({ ...env.s.settings, serverUrl: '127.0.0.1:5000' })
  assert.match(warning, /this device itself/)
  assert.equal(env.client().opts.url, 'http://127.0.0.1:5000')
  assert.equal(env.create.made.length, 2)
  env.chat.applySettings({ ...env.s.settings, system: 'x' })
  assert.equal(env.create.made.length, 2, 'no reconnect for a new system prompt')
})

test('wake() passes the foreground event to the client', () => {
  const env = setup()
  env.chat.wake()
  assert.equal(env.client().woken, 1)
})

test('a chat whose ack was lost in a reconnect is picked up again if the server started it', async () => {
  const env = setup()
  const c = env.client()
  c.accept(READY)
  const p = env.chat.send('lost in the air')
  await tick()
  c.drop() // the ack never comes
  assert.equal(await p, false)
  assert.equal(env.s.draft, 'lost in the air')
  c.accept({ ...READY, active_request_id: 'r7' })
  await tick()
  assert.deepEqual(env.s.messages.slice(-2).map((m) => [m.role, m.content]), [['user', 'lost in the air'], ['assistant', '']])
  assert.equal(env.s.draft, '', 'not offered for a second send')
  assert.equal(env.s.busy, true)
  const resume = c.take('resume')
  assert.deepEqual(resume.data, { request_id: 'r7', after_seq: -1 })
  c.server('token', { request_id: 'r7', seq: 0, text: 'found' })
  resume.resolve({ ok: true, status: 'streaming' })
  c.server('done', { request_id: 'r7', finish_reason: 'stop', text: 'found' })
  assert.equal(env.s.messages.at(-1).content, 'found')
  assert.equal(env.s.busy, false)
})

test('a chat refused outright is not picked up on the next ready; the reply another device started is followed', async () => {
  const env = setup()
  const c = env.client()
  c.accept(READY)
  const p = env.chat.send('hi')
  await tick()
  c.take('chat').resolve({ ok: false, error: { code: 'rate_limited', message: 'Slow down.' } })
  await p
  c.drop()
  c.accept({ ...READY, active_request_id: 'other-device' })
  await tick()
  assert.deepEqual(env.s.messages.map((m) => [m.role, m.content, m.status]), [
    ['user', 'hello', 'done'], ['assistant', 'Hi **there**', 'done'], ['assistant', '', 'streaming']])
  assert.deepEqual(c.take('resume').data, { request_id: 'other-device', after_seq: -1 }, 'replayed from its first token')
  assert.equal(env.s.busy, true)
})
