import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Role, LOCKED, adminFromLink, adminTokenFrom } from '@core/roles.js'
import { cleanCode, codeFromHash, formatCode, timeLeft, makeCode, redeemCode } from '@core/devices.js'
import { ADMIN_KEY, uniHttp, makeRole, codeFromScan, adoptInto } from '../../src/lib/roles.js'
import { ChatController, createChatState } from '../../src/lib/chat-controller.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { KEYS } from '../../src/lib/settings.js'
import { clientFactory, tick } from '../helpers/fake-client.js'

const ADMIN = 'adm1n'
const FIRST = 'first-device-client-id-0000000001'

// A server's /api/roles for one admin token, recording what it was asked.
function rolesServer({ adminTokenSet = true } = {}) {
  const asked = []
  const http = async (req) => {
    asked.push(req)
    const given = req.headers['X-Admin-Token']
    return { status: 200, data: { ok: true, admin: adminTokenSet ? given === ADMIN : true, admin_token_set: adminTokenSet } }
  }
  return { http, asked }
}

test('a device is an admin only once the server takes its admin token, which it then keeps', async () => {
  const storage = memoryStorage()
  const { http, asked } = rolesServer()
  const role = new Role({ storage, http, key: ADMIN_KEY })
  const seen = []
  role.on((r) => seen.push(r.admin))
  assert.equal(role.admin, false)
  assert.match(role.reason(), /Checking/)
  await role.refresh()
  assert.equal(role.known, true)
  assert.equal(role.reason(), LOCKED)
  assert.deepEqual(role.headers(), {})

  const wrong = await role.unlock('guess')
  assert.equal(wrong.ok, false)
  assert.match(wrong.message, /not accepted/)
  assert.equal(storage.get(ADMIN_KEY, null), null)
  assert.equal(role.admin, false)

  const right = await role.unlock(` ${ADMIN} `)
  assert.equal(right.ok, true)
  assert.equal(role.admin, true)
  assert.equal(role.reason(), '')
  assert.equal(storage.get(ADMIN_KEY), ADMIN)
  assert.deepEqual(role.headers(), { 'X-Admin-Token': ADMIN })
  assert.equal(asked.at(-1).path, '/api/roles')

  // Another start of the app: still unlocked.
  const again = new Role({ storage, http, key: ADMIN_KEY })
  await again.refresh()
  assert.equal(again.admin, true)
  // The server refused an admin request (a 403): the controls lock.
  again.refused()
  assert.equal(again.admin, false)

  await role.forget()
  assert.equal(storage.get(ADMIN_KEY, null), null)
  assert.equal(role.admin, false)
  assert.deepEqual(seen.slice(-2), [false, false])
})

test('a server without an admin token lets every device manage; there is nothing to unlock', async () => {
  const { http } = rolesServer({ adminTokenSet: false })
  const role = new Role({ storage: memoryStorage(), http })
  await role.refresh()
  assert.equal(role.admin, true)
  const res = await role.unlock('anything')
  assert.equal(res.ok, false)
  assert.match(res.message, /no admin token/)
})

test('Server and devices takes the admin link the server printed, or the bare token', async () => {
  const link = `http://localhost:5000/#admin=${ADMIN}`
  assert.equal(adminFromLink(link), ADMIN)
  assert.equal(adminFromLink(`#admin=${ADMIN}`), ADMIN)
  assert.equal(adminFromLink(`http://192.168.1.5:5000/?x=1#pair=ABCDEFGH&admin=${ADMIN}`), ADMIN)
  assert.equal(adminFromLink('http://localhost:5000/#pair=ABCDEFGH'), '')
  assert.equal(adminFromLink('http://localhost:5000/?admin=x'), '') // only the fragment, which never reaches a server
  assert.equal(adminFromLink('http://localhost:5000/#admin=%E0%A4%A'), '') // broken escapes are no token
  assert.equal(adminTokenFrom(`  ${link}\n`), ADMIN)
  assert.equal(adminTokenFrom(` ${ADMIN} `), ADMIN)
  assert.equal(adminTokenFrom('http://localhost:5000/#admin='), '')

  for (const pasted of [link, `  ${link}  `, ADMIN]) {
    const storage = memoryStorage()
    const { http, asked } = rolesServer()
    const role = makeRole(storage, (opts) => http({ headers: opts.header, path: '/api/roles' }).then((r) => opts.success({ statusCode: r.status, data: r.data })),
      () => ({ serverUrl: 'http://192.168.1.5:5000', token: '' }))
    const res = await role.unlock(pasted)
    assert.equal(res.ok, true, pasted)
    assert.equal(role.admin, true)
    assert.equal(storage.get(ADMIN_KEY), ADMIN) // the token is kept, never the link
    assert.equal(asked.at(-1).headers['X-Admin-Token'], ADMIN)
  }
  const role = new Role({ storage: memoryStorage(), http: rolesServer().http, key: ADMIN_KEY })
  const empty = await role.unlock('http://localhost:5000/#admin=')
  assert.equal(empty.ok, false)
  assert.match(empty.message, /Type the admin token/)
})

test('an answer about a token the device no longer holds does not overwrite a newer unlock', async () => {
  let release
  const late = new Promise((r) => { release = r })
  const { http: answer } = rolesServer()
  const http = async (req) => (req.headers['X-Admin-Token'] ? answer(req) : late.then(() => answer(req)))
  const role = new Role({ storage: memoryStorage(), http, key: ADMIN_KEY })
  const refreshing = role.refresh() // asked with no token; its answer comes last
  assert.equal((await role.unlock(ADMIN)).ok, true)
  release()
  assert.equal(await refreshing, true)
  assert.equal(role.admin, true)
})

test('uni.request carries the access token, the admin header and JSON, and never throws', async () => {
  const calls = []
  const request = (opts) => {
    calls.push(opts)
    if (opts.url.endsWith('/down')) opts.fail({ errMsg: 'timeout' })
    else opts.success({ statusCode: 403, data: '{"ok": false, "error": {"code": "forbidden", "message": "Only the admin."}}' })
  }
  const http = uniHttp(request, () => ({ serverUrl: 'http://192.168.1.5:5000', token: 'tok' }))
  const res = await http({ method: 'POST', path: '/api/x', headers: { 'X-Admin-Token': ADMIN }, body: { a: 1 } })
  assert.deepEqual(res, { status: 403, data: { ok: false, error: { code: 'forbidden', message: 'Only the admin.' } } })
  assert.equal(calls[0].url, 'http://192.168.1.5:5000/api/x')
  assert.deepEqual(calls[0].header, { Authorization: 'Bearer tok', 'X-Admin-Token': ADMIN, 'Content-Type': 'application/json' })
  assert.deepEqual(await http({ path: '/down' }), { status: 0, data: null })
  const none = await uniHttp(request, () => ({ serverUrl: '' }))({ path: '/api/roles' })
  assert.match(none.data.error.message, /server address/)
  const role = makeRole(memoryStorage(), request, () => ({ serverUrl: 'http://h:1' }))
  assert.equal(await role.refresh(), false) // a 403 there: not known, nothing unlocked
})

test('codes typed, linked or scanned read the same; a countdown shows what is left', () => {
  assert.equal(cleanCode(' abcd-efgh '), 'ABCDEFGH')
  assert.equal(cleanCode('ABCD EFG0'), '') // 0 is not in the alphabet
  assert.equal(cleanCode('ABCDEFGHJ'), '')
  assert.equal(formatCode('ABCDEFGH'), 'ABCD-EFGH')
  assert.equal(codeFromHash('#pair=abcdefgh'), 'ABCDEFGH')
  assert.equal(codeFromHash('#other=1'), '')
  assert.equal(codeFromScan('http://192.168.1.5:5000/#pair=WXYZ2345'), 'WXYZ2345')
  assert.equal(codeFromScan('wxyz-2345'), 'WXYZ2345')
  assert.equal(codeFromScan('https://example.com/'), '')
  assert.equal(timeLeft(1000 + 600000, 1000), '10:00')
  assert.equal(timeLeft(1000 + 61500, 1000), '1:02')
  assert.equal(timeLeft(0, 5000), '0:00')
})

test('making and redeeming a code through the server; its refusals are its sentences', async () => {
  const asked = []
  const http = async (req) => {
    asked.push(req)
    if (req.path === '/api/devices/pair') return { status: 200, data: { ok: true, code: 'ABCDEFGH', url: 'http://h/#pair=ABCDEFGH', expires_in: 600, qr: 'data:image/svg+xml,x' } }
    if (req.body.code === 'ABCDEFGH') return { status: 200, data: { ok: true, client_id: FIRST } }
    return { status: 404, data: { ok: false, error: { code: 'not_found', message: 'This code was already used: make a new one.' } } }
  }
  const made = await makeCode(http, FIRST, 1000)
  assert.deepEqual(made, { code: 'ABCDEFGH', url: 'http://h/#pair=ABCDEFGH', qr: 'data:image/svg+xml,x', expiresAt: 601000 })
  assert.deepEqual(asked[0].headers, { 'X-Client-Id': FIRST })
  assert.equal(await redeemCode(http, 'abcd-efgh'), FIRST)
  assert.deepEqual(asked[1].body, { code: 'ABCDEFGH' })
  await assert.rejects(redeemCode(http, 'WXYZ-2345'), /already used/)
  await assert.rejects(redeemCode(http, 'nope'), /8 letters/)
  assert.equal(asked.length, 3) // a code that cannot be one is not sent
})

test('after redeeming, the app reconnects as the first device and opens its newest chat', async () => {
  const storage = memoryStorage({ [KEYS.settings]: { serverUrl: 'http://192.168.43.1:5000' }, [KEYS.session]: 'mine-1' })
  const create = clientFactory()
  const chat = new ChatController({ state: createChatState(), storage, createClient: create })
  chat.start()
  create.last().accept({ session_id: 'mine-1', client_id: 'second-device-client-id-00000002', history: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }], backends: [], conversations: [] })
  assert.equal(chat.state.messages.length, 2)

  assert.equal(adoptInto(chat, FIRST), true)
  assert.equal(create.made.length, 2)
  assert.equal(create.made[0].closed, true)
  const auth = create.last().opts.auth()
  assert.equal(auth.client_id, FIRST)
  assert.notEqual(auth.session_id, 'mine-1') // a conversation of the second device is not asked for
  assert.equal(storage.get(KEYS.client), FIRST)
  assert.equal(chat.state.messages.length, 0)

  const c = create.last()
  c.handlers.open = ({ session_id: sid }) => ({ ok: true, session_id: sid, history: [{ role: 'user', content: 'blue door' }, { role: 'assistant', content: 'ok' }] })
  c.accept({ session_id: auth.session_id, client_id: FIRST, history: [], backends: [],
    conversations: [{ session_id: 'theirs-2', title: 'blue door', created_at: '', updated_at: '', messages: 2 }] })
  await tick()
  await tick()
  assert.equal(chat.state.sessionId, 'theirs-2')
  assert.equal(chat.state.messages[0].content, 'blue door')
  assert.equal(adoptInto(chat, 'bad id'), false)
})
