// Roles and pairing from the app against the REAL server: the core's Role and pairing calls over
// the uni.request shim, and two ChatControllers that end up as one owner.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { makeCode, redeemCode } from '@core/devices.js'
import { ChatController, createChatState } from '../../src/lib/chat-controller.js'
import { SioClient } from '../../src/lib/sio-client.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { KEYS } from '../../src/lib/settings.js'
import { ADMIN_KEY, makeRole, uniHttp, adoptInto } from '../../src/lib/roles.js'
import { makeConnectSocket, request } from '../helpers/uni-shim.js'
import { buildTinyModel, startServer } from '../helpers/live-server.js'
import { until } from '../helpers/fake-socket.js'

const ADMIN = 'app-adm1n-S3CRET'
let server

before(async () => {
  server = await startServer({ model: buildTinyModel(), args: ['--admin-token', ADMIN, '--embed-model', 'none', '--store', 'memory'] })
})

after(async () => {
  if (server) await server.stop()
})

function controller(storage = memoryStorage({ [KEYS.settings]: { serverUrl: server.url } })) {
  const chat = new ChatController({ state: createChatState(), storage, createClient: (opts) => new SioClient({ ...opts, connectSocket: makeConnectSocket() }) })
  chat.start()
  return chat
}

test('the app unlocks with the admin token, and a write without it gets the server\'s sentence', async () => {
  const storage = memoryStorage()
  const settings = () => ({ serverUrl: server.url, token: '' })
  const role = makeRole(storage, request, settings)
  assert.equal(await role.refresh(), true)
  assert.equal(role.admin, false)
  assert.equal(role.adminTokenSet, true)
  const http = uniHttp(request, settings)
  const refused = await http({ method: 'DELETE', path: '/api/kb/documents/nope', headers: role.headers() })
  assert.equal(refused.status, 403)
  assert.match(refused.data.error.message, /admin/)
  assert.equal((await role.unlock('wrong')).ok, false)
  assert.equal((await role.unlock(ADMIN)).ok, true)
  assert.equal(storage.get(ADMIN_KEY), ADMIN)
  const allowed = await http({ method: 'DELETE', path: '/api/kb/documents/nope', headers: role.headers() })
  assert.equal(allowed.status, 404) // past the admin check: there is simply no such document
  assert.equal(allowed.data.error.code, 'not_found')
  assert.ok(!server.output().includes(ADMIN), 'the admin token is never logged')
})

test('the admin link a default server prints unlocks the app; without it the library is refused', async () => {
  // No token flags: the server as a user starts it makes an admin token and prints a link carrying it.
  const fresh = await startServer({ model: buildTinyModel(), args: ['--embed-model', 'none', '--store', 'memory'] })
  try {
    const link = /open (http:\/\/\S+\/#admin=[\w-]+) /.exec(fresh.output())
    assert.ok(link, fresh.output())
    const settings = () => ({ serverUrl: fresh.url, token: '' })
    const http = uniHttp(request, settings)
    const anonymous = await http({ method: 'DELETE', path: '/api/kb/documents/nope' })
    assert.equal(anonymous.status, 403)
    assert.match(anonymous.data.error.message, /Only this server's admin/)
    const storage = memoryStorage()
    const role = makeRole(storage, request, settings)
    assert.equal(await role.refresh(), true)
    assert.equal(role.adminTokenSet, true)
    assert.equal(role.admin, false)
    assert.equal((await role.unlock(link[1])).ok, true) // the whole link, pasted into Server and devices
    assert.equal(storage.get(ADMIN_KEY), link[1].split('#admin=')[1])
    const allowed = await http({ method: 'DELETE', path: '/api/kb/documents/nope', headers: role.headers() })
    assert.equal(allowed.status, 404) // let in: there is simply no such document
  } finally {
    await fresh.stop()
  }
})

test('a code from one app links another: same list, and a reply asked on one streams on the other', async () => {
  const first = controller()
  await until(() => first.state.conn === 'connected' && first.state.backends.length, 'first connected', 15000)
  assert.equal(await first.send('hello there'), true)
  await until(() => !first.state.busy, 'first reply done', 30000)
  const http = uniHttp(request, () => first.state.settings)
  const made = await makeCode(http, first.state.clientId)
  assert.match(made.code, /^[2-9A-HJ-NP-Z]{8}$/)

  const second = controller()
  await until(() => second.state.conn === 'connected', 'second connected', 15000)
  assert.notEqual(second.state.clientId, first.state.clientId)
  const clientId = await redeemCode(http, made.code.toLowerCase())
  assert.equal(clientId, first.state.clientId)
  await assert.rejects(redeemCode(http, made.code), /already used/)
  assert.equal(adoptInto(second, clientId), true)
  await until(() => second.state.sessionId === first.state.sessionId, 'second opened the first one\'s chat', 15000)
  assert.deepEqual(second.state.list.items.map((c) => c.session_id), [first.state.sessionId])
  assert.equal(second.state.messages.length, 2)

  // Asked on the first, streamed live on the second, which follows the same conversation.
  await first.setChatSettings({ ...first.state.chat, params: { max_tokens: 8 } })
  assert.equal(await first.send('and again'), true)
  await until(() => second.state.messages.length === 4 && second.state.messages[3].status === 'done', 'second saw the reply', 30000)
  await until(() => !first.state.busy, 'first reply done', 30000)
  assert.equal(second.state.messages[3].content, first.state.messages[3].content)
  first.dispose()
  second.dispose()
})
