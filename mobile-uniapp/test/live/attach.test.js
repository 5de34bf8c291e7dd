// Attaching a photo in the app against the REAL server: uni.chooseImage and uni.uploadFile (stand-ins that
// pick a rendered picture and post it as uni does), then the shared core sends it with a message.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ChatCore, PAGE_KEYS } from '@core/chat.js'
import { SioClient } from '../../src/lib/sio-client.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { attachPhotos } from '../../src/lib/attach.js'
import { makeConnectSocket } from '../helpers/uni-shim.js'
import { ROOT, buildTinyModel, startServer } from '../helpers/live-server.js'
import { until } from '../helpers/fake-socket.js'

let server
let photo
const cores = []

before(async () => {
  server = await startServer({ model: buildTinyModel() })
  photo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attach-')), 'IMG_0042.png')
  execFileSync(process.env.PYTHON || 'python', ['-c',
    'import sys; from tests.pictures import PHOTO, render, encode; open(sys.argv[1], "wb").write(encode(render(["Bus 42 leaves at 7:15", "末班车晚上十点"], paper=PHOTO)))',
    photo], { cwd: ROOT })
})

after(async () => {
  for (const c of cores) c.client.close()
  if (server) await server.stop()
})

// uni.uploadFile as a phone sends it: multipart `file` plus formData, headers, the body back as a string.
async function uploadFile({ url, filePath, name, formData = {}, header = {}, success, fail }) {
  try {
    const form = new FormData()
    form.append(name, new Blob([fs.readFileSync(filePath)]), 'blob') // H5 gives no name of its own
    for (const [k, v] of Object.entries(formData)) form.append(k, v)
    const res = await fetch(url, { method: 'POST', body: form, headers: header })
    success({ statusCode: res.status, data: await res.text() })
  } catch (err) {
    fail({ errMsg: String(err) })
  }
}

const uniWith = (picked) => ({
  chooseImage: ({ success, fail }) => (picked ? success({ tempFilePaths: [picked], tempFiles: [{ path: picked }] }) : fail({ errMsg: 'cancel' })),
  uploadFile,
})

async function core() {
  const c = new ChatCore({ storage: memoryStorage(), keys: PAGE_KEYS })
  const client = new SioClient({ url: server.url, auth: () => c.auth(), connectSocket: makeConnectSocket(), backoff: { min: 200, max: 1000 } })
  c.attach(client)
  let readies = 0
  for (const name of ['ready', 'token', 'queued', 'done', 'error', 'status']) client.on(name, (p) => c.handle(name, p))
  client.on('ready', () => readies++)
  c.client = client
  cores.push(c)
  client.connect()
  await until(() => readies > 0, 'ready', 10000)
  return c
}

test('a photo taken in the app is uploaded, read, and rides on the next message into the history', async () => {
  const c = await core()
  const opts = { serverUrl: server.url, clientId: c.state.clientId, headers: {} }
  const out = await attachPhotos(uniWith(photo), opts)
  assert.deepEqual(out.errors, [])
  assert.equal(out.pending.length, 1)
  const a = out.pending[0]
  assert.equal(a.name, 'IMG_0042.png')
  assert.equal(a.type, 'image/png')
  assert.ok(a.chars > 10, `the server read text from the photo (${a.chars} characters)`)

  // Cancelling the camera adds nothing; another device cannot fetch the photo.
  assert.deepEqual(await attachPhotos(uniWith(null), { ...opts, pending: out.pending }), { pending: out.pending, errors: [] })
  const theirs = await fetch(`${server.url}/api/attachments/${a.id}`, { headers: { 'X-Client-Id': 'another-device-aaaaaaaaaaaaaaaa' } })
  assert.equal(theirs.status, 404)

  assert.equal(await c.send('When does the bus leave?', out.pending), true)
  await until(() => c.state.messages.at(-1).status === 'done', 'the reply', 60000)
  const history = await c.call('history', {})
  assert.deepEqual(history.history[0].attachments, [{ id: a.id, name: 'IMG_0042.png', type: 'image/png' }])
})

test('a fifth photo is refused with a sentence before anything is uploaded', async () => {
  const pending = [1, 2, 3, 4].map((i) => ({ id: `id${i}`, name: `p${i}.jpg`, type: 'image/jpeg' }))
  let picked = false
  const api = { chooseImage: () => { picked = true }, uploadFile }
  const out = await attachPhotos(api, { serverUrl: server.url, clientId: 'x'.repeat(24), pending })
  assert.equal(picked, false)
  assert.deepEqual(out.errors, ['A message takes at most 4 attachments.'])
})
