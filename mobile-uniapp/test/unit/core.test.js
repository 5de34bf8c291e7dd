// Parts of the shared chat core (static/js/core) that the controller tests do not reach:
// the history merge, the conversation list's pages and per-chat settings on a 1.1 server.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ChatCore, PAGE_KEYS } from '@core/chat.js'
import { mergeHistory, newMessage } from '@core/messages.js'
import { chatOptions, normalizeChatSettings } from '@core/params.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { FakeClient, tick } from '../helpers/fake-client.js'

const READY = {
  session_id: 's1',
  client_id: 'c'.repeat(32),
  history: [],
  backends: [{ name: 'local', models: ['tiny'], default_model: 'tiny' }],
  default_backend: 'local',
  limits: {},
  conversations: [{ session_id: 's1', title: 'One', updated_at: '2026-01-03T00:00:00Z', messages: 2 }],
  conversations_more: true,
}

function setup() {
  const changes = []
  const core = new ChatCore({ storage: memoryStorage(), keys: PAGE_KEYS, onChange: (kind) => changes.push(kind) })
  const client = new FakeClient()
  client.connected = true
  core.attach(client)
  return { core, client, changes }
}

test('the history merge keeps matching messages, replaces the rest, and says when nothing changed', () => {
  const a = newMessage('user', 'q')
  const b = newMessage('assistant', 'a', { timings: { ttft_ms: 5 } })
  const failed = newMessage('user', 'lost', { status: 'failed' })
  assert.equal(mergeHistory([a, b], [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]), null)
  const next = mergeHistory([a, b, failed], [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }])
  assert.equal(next[1], b, 'the matching reply keeps its object and timings')
  assert.deepEqual(next.map((m) => m.content), ['q', 'a', 'x', 'y'], 'the failed turn is gone, the new ones follow')
  const streaming = newMessage('assistant', 'part', { status: 'streaming' })
  assert.equal(mergeHistory([streaming], [{ role: 'user', content: 'z' }]).at(-1), streaming, 'a streaming reply stays last')
})

test('settings: one shape from any source; empty fields are not sent; a later switch passes through', () => {
  assert.deepEqual(normalizeChatSettings({ backend: 'b', models: { b: 'm' }, params: { temperature: '0.5', bogus: 1, top_k: '' } }),
    { backend: 'b', model: 'm', system: '', params: { temperature: '0.5' } })
  assert.deepEqual(chatOptions({ backend: '', model: '', system: ' ', params: { temperature: '9' } }), {})
  assert.deepEqual(chatOptions({ backend: 'b', system: 'Hi', params: { temperature: '0.5' }, knowledge: true }),
    { backend: 'b', system: 'Hi', params: { temperature: 0.5 }, knowledge: true })
})

test('a 1.1 ready fills the list and asks for this conversation\'s settings; changes are sent with cleared fields as null', async () => {
  const { core, client } = setup()
  client.handlers.open = () => ({ ok: true, session_id: 's1', history: [], settings: { system: 'Be brief.', params: { top_k: 5 } } })
  core.handle('ready', READY)
  assert.equal(core.state.protocol, 1.1)
  assert.deepEqual(core.state.list.items.map((c) => c.title), ['One'])
  assert.equal(core.state.list.more, true)
  await tick()
  await tick()
  assert.equal(core.state.chat.system, 'Be brief.')
  const p = core.setChatSettings({ ...core.state.chat, system: '' })
  const sent = client.take('settings')
  assert.deepEqual(sent.data, { system: null, backend: null, model: null, params: { top_k: 5 } })
  sent.resolve({ ok: true })
  await p
  assert.equal(core.storage.get(PAGE_KEYS.chat).system, '', 'and kept as this device\'s default')
})

test('the list pages with before, drops an answer to an older search, and never shows one twice', async () => {
  const { core, client } = setup()
  core.handle('ready', { ...READY, settings: {} })
  const more = core.list.loadMore()
  const req = client.take('list')
  assert.deepEqual(req.data, { limit: 50, before: '2026-01-03T00:00:00Z' })
  req.resolve({ ok: true, more: false, conversations: [{ session_id: 's1', title: 'One' }, { session_id: 's0', title: 'Zero', updated_at: '2026-01-01T00:00:00Z' }] })
  await more
  assert.deepEqual(core.state.list.items.map((c) => c.session_id), ['s1', 's0'])
  assert.equal(await core.list.loadMore(), false, 'nothing more to ask for')
  const slow = core.list.search('old')
  const fast = core.list.search('new')
  const [first, second] = [client.take('list'), client.take('list')]
  assert.deepEqual(second.data, { limit: 50, query: 'new' })
  second.resolve({ ok: true, more: false, conversations: [{ session_id: 'n', title: 'New one' }] })
  first.resolve({ ok: true, more: false, conversations: [{ session_id: 'o', title: 'Old one' }] })
  await Promise.all([slow, fast])
  assert.deepEqual(core.state.list.items.map((c) => c.title), ['New one'])
})

test('new keeps the old conversation in the list, carries the settings over, and open brings another back', async () => {
  const { core, client } = setup()
  core.handle('ready', { ...READY, settings: { system: 'Be brief.' } })
  client.handlers.new = () => ({ ok: true, session_id: 's2' })
  client.handlers.settings = (d) => ({ ok: true, settings: d })
  assert.equal(await core.newConversation(), true)
  assert.equal(core.state.sessionId, 's2')
  assert.equal(core.storage.get(PAGE_KEYS.session), 's2')
  assert.deepEqual(core.state.list.items.map((c) => c.session_id), ['s2', 's1'])
  client.handlers.open = () => ({ ok: true, session_id: 's1', history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }], settings: { model: 'tiny' }, active_request_id: null })
  assert.equal(await core.open('s1'), true)
  assert.deepEqual(core.state.messages.map((m) => m.content), ['hi', 'yo'])
  assert.equal(core.state.chat.model, 'tiny')
  client.handlers.open = () => ({ ok: false, error: { code: 'not_found', message: 'No such conversation.' } })
  assert.equal(await core.open('nope'), false)
  assert.equal(core.state.error, 'No such conversation.')
  assert.equal(core.state.sessionId, 's1', 'a refused open changes nothing')
})

test('switching away from a streaming reply and back follows it again from its first token', async () => {
  const { core, client } = setup()
  core.handle('ready', { ...READY, settings: {} })
  client.handlers.chat = () => ({ ok: true, request_id: 'r1' })
  assert.equal(await core.send('long question'), true)
  core.handle('token', { request_id: 'r1', seq: 0, text: 'Once' })
  client.handlers.open = (d) => ({ ok: true, session_id: d.session_id, history: [], settings: {}, active_request_id: d.session_id === 's1' ? 'r1' : null })
  assert.equal(await core.open('s0'), true)
  assert.equal(core.state.busy, false, 'the other conversation is idle')
  core.handle('token', { request_id: 'r1', seq: 1, text: ' upon' }) // late, from the room just left: not shown here
  assert.equal(core.state.messages.length, 0)
  assert.equal(await core.open('s1'), true)
  assert.deepEqual(client.take('resume').data, { request_id: 'r1', after_seq: -1 })
  for (const [seq, text] of [[0, 'Once'], [1, ' upon'], [2, ' a time']]) core.handle('token', { request_id: 'r1', seq, text })
  core.handle('done', { request_id: 'r1', finish_reason: 'stop', text: 'Once upon a time' })
  assert.equal(core.state.messages.at(-1).content, 'Once upon a time')
  assert.equal(core.state.busy, false)
})

test('a chat whose ack comes after a switch of conversation is not drawn into the new one', async () => {
  const { core, client } = setup()
  core.handle('ready', { ...READY, settings: {} })
  const sent = core.send('question')
  const chat = client.take('chat')
  client.handlers.new = () => ({ ok: true, session_id: 's2' })
  assert.equal(await core.newConversation(), true)
  chat.resolve({ ok: true, request_id: 'r9' })
  assert.equal(await sent, true)
  assert.deepEqual(core.state.messages, [])
  assert.equal(core.state.busy, false)
})
