// The chat core both clients share (static/js/core), against the REAL server: the same
// ChatCore the page runs, here over the app's SioClient and a WebSocket shim.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ChatCore, PAGE_KEYS } from '@core/chat.js'
import { SioClient } from '../../src/lib/sio-client.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { makeConnectSocket, request } from '../helpers/uni-shim.js'
import { buildTinyModel, startServer } from '../helpers/live-server.js'
import { until } from '../helpers/fake-socket.js'

let model
let server
const cores = []

before(async () => {
  model = buildTinyModel()
  server = await startServer({ model })
})

after(async () => {
  for (const c of cores) c.client.close()
  if (server) await server.stop()
})

// A core on its own link; `storage` carries ids between "tabs" or "restarts".
async function core({ storage = memoryStorage(), url = server.url } = {}) {
  const applied = []
  const c = new ChatCore({ storage, keys: PAGE_KEYS, onTokenApplied: (t) => applied.push(t) })
  const client = new SioClient({ url, auth: () => c.auth(), connectSocket: makeConnectSocket(), backoff: { min: 200, max: 1000 } })
  c.attach(client)
  for (const name of ['ready', 'token', 'queued', 'done', 'error', 'status']) client.on(name, (p) => c.handle(name, p))
  c.client = client
  c.applied = applied
  c.storage = storage
  c.readies = 0
  client.on('ready', () => c.readies++)
  cores.push(c)
  client.connect()
  await until(() => c.readies > 0, 'ready', 10000)
  return c
}

const idle = (c, ms = 30000) => until(() => !c.state.busy, 'the reply ended', ms)
const said = (c) => c.state.messages.map((m) => [m.role, m.content])

// {method, path, headers, body} -> {status, data}, as the page's fetch() adapter answers.
const http = (base) => ({ method = 'GET', path, headers = {}, body }) =>
  new Promise((resolve, reject) => request({ url: base + path, method, header: headers, data: body, success: (r) => resolve({ status: r.statusCode, data: r.data }), fail: (e) => reject(new Error(e.errMsg)) }))

async function chat(c, text, maxTokens = 12) {
  c.setChatSettings({ ...c.state.chat, params: { max_tokens: maxTokens } }, { remote: false })
  assert.equal(await c.send(text), true, c.state.error)
  await idle(c)
}

test('a second tab of the same conversation follows a reply live, and ends with the same history', async () => {
  const a = await core()
  const b = await core({ storage: memoryStorage({ [PAGE_KEYS.session]: a.state.sessionId, [PAGE_KEYS.client]: a.state.clientId }) })
  a.setChatSettings({ params: { max_tokens: 200 } }, { remote: false })
  assert.equal(await a.send('Tell me everything'), true)
  await until(() => b.state.messages.some((m) => m.status === 'streaming' && m.content.length > 0), 'the other tab sees the reply grow', 20000)
  assert.equal(b.state.busy, true, 'the other tab is following, not idle')
  await idle(a)
  await until(() => !b.state.busy && b.state.messages.length === 2, 'the other tab settles on the history', 20000)
  assert.deepEqual(said(b), said(a))
  assert.equal(b.state.messages[1].status, 'done')
  assert.deepEqual(b.applied.map((t) => t.seq), [...Array(b.applied.length).keys()], 'each token once, in order')
})

test('edit and regenerate cut the history on the server and ask again', async () => {
  const c = await core()
  await chat(c, 'first')
  await chat(c, 'second')
  assert.equal(await c.edit(c.state.messages[0].id, 'edited'), true)
  await idle(c)
  assert.deepEqual(c.state.messages.map((m) => m.content.length > 0), [true, true])
  assert.equal(c.state.messages[0].content, 'edited')
  const before = c.state.messages[1].id
  assert.equal(await c.regenerate(), true)
  await idle(c)
  assert.equal(c.state.messages.length, 2)
  assert.notEqual(c.state.messages[1].id, before, 'a new reply took the old one\'s place')
  const hist = await c.call('history', {})
  assert.deepEqual(hist.history.map((m) => m.content), c.state.messages.map((m) => m.content))
})

test('stop keeps the partial reply, marked cancelled, as the server keeps it', async () => {
  const c = await core()
  c.setChatSettings({ params: { max_tokens: 400 } }, { remote: false })
  assert.equal(await c.send('Go on and on'), true)
  await until(() => c.state.messages[1].content.length > 0, 'text', 20000)
  await c.stop()
  await idle(c)
  assert.equal(c.state.messages[1].finishReason, 'cancelled')
  const hist = await c.call('history', {})
  assert.equal(hist.history[1].content, c.state.messages[1].content)
})

// ---------- protocol 1.1: conversations that last ----------

test('conversations: made, listed newest first, searched, renamed, deleted; back after a restart; exported and imported; private to their client', async () => {
  const a = await core()
  assert.equal(a.state.protocol, 1.1, 'ready names a client_id')
  await chat(a, 'Apples are red')
  a.setChatSettings({ ...a.state.chat, system: 'Answer in French.', params: { max_tokens: 12 } })
  const first = a.state.sessionId
  assert.equal(await a.newConversation(), true)
  assert.notEqual(a.state.sessionId, first)
  assert.equal(a.state.chat.system, 'Answer in French.', 'a new chat starts with the settings before it')
  a.setChatSettings({ ...a.state.chat, system: 'Be brief.' })
  await chat(a, 'Bananas are yellow')
  assert.equal(await a.newConversation(), true)
  await chat(a, 'Cherries are dark')
  const third = a.state.sessionId

  assert.equal(await a.list.search(''), true)
  const titles = a.state.list.items.map((c) => c.title)
  assert.deepEqual(titles.slice(0, 3), ['Cherries are dark', 'Bananas are yellow', 'Apples are red'], 'newest first, titled by the first question')
  assert.equal(await a.list.search('banana'), true)
  assert.deepEqual(a.state.list.items.map((c) => c.title), ['Bananas are yellow'])
  const second = a.state.list.items[0].session_id
  assert.equal(await a.list.rename(second, 'Fruit colours'), true)
  assert.equal(await a.list.search(''), true)
  assert.ok(a.state.list.items.some((c) => c.title === 'Fruit colours'))

  // Switching brings back each conversation's history and settings.
  assert.equal(await a.open(first), true)
  assert.equal(a.state.messages[0].content, 'Apples are red')
  assert.equal(a.state.chat.system, 'Answer in French.')
  assert.equal(await a.open(second), true)
  assert.equal(a.state.chat.system, 'Be brief.')

  // Another device (another client id) sees none of them and can touch none.
  const stranger = await core()
  assert.equal(stranger.state.list.items.filter((c) => [first, second, third].includes(c.session_id)).length, 0)
  for (const [event, data] of [['open', { session_id: first }], ['rename', { session_id: first, title: 'mine' }], ['delete', { session_id: first }]]) {
    const res = await stranger.call(event, data)
    assert.equal(res.ok, false, `${event} of a foreign conversation`)
    assert.equal(res.error.code, 'not_found')
  }
  await assert.rejects(stranger.list.exportOne(http(server.url), first, 'json'))

  // Export -> import round-trips a conversation exactly.
  const doc = await a.list.exportOne(http(server.url), first, 'json')
  assert.deepEqual(doc.messages.map((m) => [m.role, m.content]).slice(0, 1), [['user', 'Apples are red']])
  const md = await a.list.exportOne(http(server.url), first, 'md')
  assert.match(md, /Apples are red/)
  const [copy] = await a.list.importDocs(http(server.url), doc)
  assert.notEqual(copy.session_id, first)
  assert.equal(await a.open(copy.session_id), true)
  const again = await a.list.exportOne(http(server.url), copy.session_id, 'json')
  assert.deepEqual(again.messages.map((m) => [m.role, m.content]), doc.messages.map((m) => [m.role, m.content]))

  assert.equal(await a.list.remove(third), true)
  assert.ok(!a.state.list.items.some((c) => c.session_id === third))
  const gone = await a.call('open', { session_id: third })
  assert.equal(gone.ok, false)

  // The server restarts on the same data folder: the list, each history and each setting are back.
  a.client.close()
  stranger.client.close()
  await server.stop()
  server = await startServer({ model, dataDir: server.dataDir })
  const back = await core({ storage: a.storage, url: server.url })
  assert.equal(back.state.clientId, a.state.clientId)
  assert.equal(await back.list.search(''), true)
  const ids = back.state.list.items.map((c) => c.session_id)
  assert.ok([first, second, copy.session_id].every((id) => ids.includes(id)) && !ids.includes(third), ids)
  assert.equal(await back.open(second), true)
  assert.deepEqual(said(back)[0], ['user', 'Bananas are yellow'])
  assert.equal(back.state.chat.system, 'Be brief.')
})
