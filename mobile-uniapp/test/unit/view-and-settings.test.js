import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeServerUrl, cleanParams, chatOptions, loadSettings, saveSettings, splitSettings, KEYS } from '../../src/lib/settings.js'
import { formFromSettings, settingsFromForm, backendChoices, backendHintOf, modelChoices, indexOfValue } from '../../src/lib/settings-form.js'
import { createHtmlCache, statusLine, statsLine, modelBanner, canSend } from '../../src/lib/chat-view.js'
import { renderMarkdown } from '../../src/lib/markdown.js'
import { memoryStorage } from '../../src/lib/storage.js'
import { randomId, keptId, SESSION_ID_RE } from '@core/ids.js'

test('server addresses: scheme added, slash dropped, loopback warned, listen-all refused', () => {
  assert.deepEqual(normalizeServerUrl(' 192.168.43.1:5000/ '), { url: 'http://192.168.43.1:5000' })
  assert.deepEqual(normalizeServerUrl('https://chat.lan'), { url: 'https://chat.lan' })
  assert.deepEqual(normalizeServerUrl('ws://10.0.0.2:5000'), { url: 'http://10.0.0.2:5000' })
  assert.match(normalizeServerUrl('http://127.0.0.1:5000').warning, /this device itself/)
  assert.match(normalizeServerUrl('localhost:5000').warning, /LAN address/)
  assert.throws(() => normalizeServerUrl('0.0.0.0:5000'), /LAN address/)
  assert.throws(() => normalizeServerUrl(''), /Enter the server address/)
  assert.throws(() => normalizeServerUrl('http://h:99999'), /out of range/)
  assert.throws(() => normalizeServerUrl('ftp://h'), /must look like/)
})

test('params follow the protocol ranges; empty means server default', () => {
  const { params, errors } = cleanParams({ temperature: '0.7', top_p: '1', top_k: '0', max_tokens: '256', repetition_penalty: '1.1', do_sample: false })
  assert.deepEqual(params, { temperature: 0.7, top_p: 1, top_k: 0, max_tokens: 256, repetition_penalty: 1.1, do_sample: false })
  assert.deepEqual(errors, {})
  const bad = cleanParams({ temperature: '2.5', top_p: '0', top_k: '1.5', max_tokens: '0', repetition_penalty: '0.9', do_sample: 'maybe' })
  assert.deepEqual(Object.keys(bad.errors).sort(), ['do_sample', 'max_tokens', 'repetition_penalty', 'temperature', 'top_k', 'top_p'])
  assert.deepEqual(bad.params, {})
  assert.deepEqual(cleanParams({ temperature: '', top_k: null }).params, {})
  assert.deepEqual(chatOptions({ backend: '', model: '', system: '  ', params: {} }), {})
})

test('session id is made once, valid for the server, and kept', () => {
  const storage = memoryStorage()
  const id = keptId(storage, KEYS.session, SESSION_ID_RE)
  assert.match(id, /^[A-Za-z0-9_-]{22}$/)
  assert.equal(keptId(storage, KEYS.session, SESSION_ID_RE), id)
  storage.set(KEYS.session, 'bad id!')
  assert.notEqual(keptId(storage, KEYS.session, SESSION_ID_RE), 'bad id!')
  assert.notEqual(randomId(), randomId())
})

test('device settings survive a restart through storage; chat settings are split off', () => {
  const storage = memoryStorage()
  saveSettings(storage, { serverUrl: 'http://h:1', token: 't' })
  assert.deepEqual(loadSettings(storage), { serverUrl: 'http://h:1', token: 't' })
  const { device, chat } = splitSettings({ serverUrl: 'http://h:1', token: ' t ', backend: 'local', model: '', system: 'Be brief.', params: { temperature: '0.2' } })
  assert.deepEqual(device, { serverUrl: 'http://h:1', token: 't' })
  assert.deepEqual(chat, { backend: 'local', model: '', system: 'Be brief.', params: { temperature: '0.2' } })
  assert.equal(splitSettings({ serverUrl: 'x' }).chat, null)
  assert.throws(() => splitSettings({ params: { temperature: '9' } }), /Temperature/)
})

test('settings form: round trip, errors per field, pickers from the ready backends', () => {
  const form = formFromSettings({ serverUrl: 'http://h:1', token: '', params: { top_k: 40, do_sample: true } })
  assert.equal(form.params.top_k, '40')
  assert.equal(form.params.do_sample, true)
  assert.equal(form.params.temperature, '')
  const out = settingsFromForm({ ...form, params: { ...form.params, temperature: 'hot' } })
  assert.match(out.errors.temperature, /Temperature/)
  assert.match(settingsFromForm({ ...form, serverUrl: '' }).errors.serverUrl, /Enter the server address/)
  assert.deepEqual(settingsFromForm(form).settings.params, { top_k: 40, do_sample: true })
  const backends = [
    { name: 'local', models: ['tiny'], default_model: 'tiny', model_ready: false },
    { name: 'deepseek', models: ['deepseek-chat', 'deepseek-reasoner'], default_model: 'deepseek-chat', model_ready: true },
  ]
  assert.deepEqual(backendChoices(backends, 'local').map((r) => r.label), ['Server default (local)', 'local (loading)', 'deepseek'])
  // The server's label and hint (#11) name the built-in model honestly; the name is the fallback.
  const labelled = [{ ...backends[0], model_ready: true, label: 'built-in demo model (Gemma 3 270M, base)', hint: 'For better answers put a DeepSeek key in .env.' }, backends[1]]
  assert.deepEqual(backendChoices(labelled, 'local').map((r) => r.label),
    ['Server default (built-in demo model (Gemma 3 270M, base))', 'built-in demo model (Gemma 3 270M, base)', 'deepseek'])
  assert.match(backendHintOf(labelled, '', 'local'), /DeepSeek key/)
  assert.equal(backendHintOf(labelled, 'deepseek', 'local'), '')
  const models = modelChoices(backends, 'deepseek', 'local')
  assert.deepEqual(models.map((r) => r.value), ['', 'deepseek-chat', 'deepseek-reasoner'])
  assert.equal(modelChoices(backends, '', 'local')[1].value, 'tiny')
  assert.equal(indexOfValue(models, 'deepseek-reasoner'), 2)
  assert.equal(indexOfValue(models, 'gone'), 0)
})

test('markdown: formatting rendered, raw HTML and script links shown as text', () => {
  const html = renderMarkdown('**bold** and `code`\n\n```py\nprint(1)\n```\n\n<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))')
  assert.match(html, /<strong>bold<\/strong>/)
  assert.match(html, /<code>code<\/code>/)
  assert.match(html, /<pre><code class="language-py">print\(1\)/)
  assert.doesNotMatch(html, /<script|<img/)
  assert.match(html, /&lt;script&gt;/)
  assert.doesNotMatch(html, /href="javascript/)
})

test('markdown is re-rendered only for the message that changed', () => {
  let calls = 0
  const cache = createHtmlCache((t) => (calls++, `<p>${t}</p>`))
  const a = { id: 'a', content: 'x' }
  const b = { id: 'b', content: 'y' }
  cache.html(a)
  cache.html(b)
  b.content = 'yz'
  assert.equal(cache.html(a), '<p>x</p>')
  assert.equal(cache.html(b), '<p>yz</p>')
  assert.equal(calls, 3)
  cache.prune(['b'])
  assert.equal(cache.size, 1)
})

test('status lines say what a reply waits for and why it ended', () => {
  const m = (extra) => ({ role: 'assistant', content: '', reasoning: '', status: 'streaming', queuePosition: 0, ...extra })
  assert.equal(statusLine(m({ status: 'sending' })), 'Sending…')
  assert.equal(statusLine(m({ queuePosition: 1 })), 'Waiting for the model: next in line')
  assert.equal(statusLine(m({ queuePosition: 3 })), 'Waiting for the model: 3 in line')
  assert.equal(statusLine(m({})), 'Thinking…')
  assert.equal(statusLine(m({ content: 'hi' })), '')
  assert.equal(statusLine(m({ status: 'done', finishReason: 'cancelled' })), 'Stopped.')
  assert.equal(statusLine(m({ status: 'done', finishReason: 'length' })), 'Cut off at the token limit.')
  assert.equal(statusLine(m({ status: 'error', error: 'Upstream said no.' })), 'Upstream said no.')
  assert.equal(statusLine({ role: 'user', content: 'x' }), '')
  assert.equal(statsLine({ usage: { completion_tokens: 12 }, timings: { tokens_per_s: 20.04, ttft_ms: 310.4 } }), '12 tokens · 20.0 tok/s · first token 310 ms')
})

test('model banner shows loading progress and failures of the chosen backend', () => {
  const base = { settings: { backend: '' }, defaultBackend: 'local' }
  assert.equal(modelBanner({ ...base, modelStatus: { local: { model_ready: true } } }), '')
  assert.match(modelBanner({ ...base, modelStatus: { local: { model_ready: false, progress: 0.4, message: 'reading' } } }), /Loading the model \(local\) 40%: reading/)
  assert.match(modelBanner({ ...base, modelStatus: { local: { model_ready: false, error: 'no such file' } } }), /failed to load: no such file/)
  assert.equal(canSend({ conn: 'connected', busy: false, draft: ' ' }), false)
  assert.equal(canSend({ conn: 'connected', busy: false, draft: 'hi' }), true)
  assert.equal(canSend({ conn: 'reconnecting', busy: false, draft: 'hi' }), false)
})
