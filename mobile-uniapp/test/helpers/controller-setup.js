// The controller under test with a fake Socket.IO client: shared by the chat-controller test files.
import assert from 'node:assert/strict'
import { ChatController, createChatState } from '../../src/lib/chat-controller.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { KEYS } from '../../src/lib/settings.js'
import { clientFactory, tick } from './fake-client.js'

export const READY = {
  session_id: 'sess-1',
  history: [
    { role: 'user', content: 'hello' },
    { role: 'assistant', content: 'Hi **there**' },
  ],
  backends: [{ name: 'local', models: ['tiny'], default_model: 'tiny', model_ready: true, status: '' }],
  default_backend: 'local',
  limits: { max_message_chars: 20 },
}

export function setup({ settings = { serverUrl: 'http://192.168.43.1:5000' }, session = 'sess-1' } = {}) {
  const storage = memoryStorage({ [KEYS.settings]: settings, [KEYS.session]: session })
  const create = clientFactory()
  const applied = []
  const chat = new ChatController({ state: createChatState(), storage, createClient: create, onTokenApplied: (t) => applied.push(t) })
  chat.start()
  return { chat, s: chat.state, storage, create, applied, client: () => create.last() }
}

// Sends `text` and acks the chat with request id `rid`; returns the send() promise result.
export async function sendAndAccept(env, text, rid = 'r1') {
  const p = env.chat.send(text)
  await tick()
  const req = env.client().take('chat')
  req.resolve({ ok: true, request_id: rid })
  assert.equal(await p, true)
  return req
}

export const tok = (seq, text, extra = {}) => ({ request_id: 'r1', seq, text, ...extra })
