import { test } from 'node:test'
import assert from 'node:assert/strict'
import { kbHeaders, uploadOutcome, docLine, sourceChips, groundingNote, linkCitationsHtml, citedSource } from '../../src/lib/knowledge.js'
import { httpErrorText } from '../../src/lib/roles.js'
import { formFromSettings, settingsFromForm } from '../../src/lib/settings-form.js'
import { splitSettings } from '../../src/lib/settings.js'

test('knowledge requests carry the token and read the server errors', () => {
  assert.deepEqual(kbHeaders(''), {})
  assert.deepEqual(kbHeaders('s3'), { Authorization: 'Bearer s3' })
  const refused = '{"ok": false, "error": {"code": "bad_request", "message": "The file is empty."}}'
  assert.deepEqual(uploadOutcome(400, refused, 'a.txt'), { ok: false, text: 'The file is empty.' })
  assert.equal(uploadOutcome(0, '', 'a.txt').text, 'a.txt was not added: the connection dropped.')
  assert.equal(httpErrorText(502, '<html>', 'Listing failed'), 'Listing failed (HTTP 502).')
  const added = { ok: true, document: { id: 'd1', title: 'a.txt', bytes: 2500, chunks: 3 } }
  assert.deepEqual(uploadOutcome(200, JSON.stringify(added), 'a.txt'), { ok: true, text: 'Added a.txt (3 passages).' })
  assert.equal(uploadOutcome(200, { ok: true, document: { ...added.document, duplicate: true } }, 'a.txt').text, 'a.txt is already in the library.')
  assert.equal(docLine(added.document), '3 kB · 3 passages')
  assert.equal(docLine({ ...added.document, ocr: true }), '3 kB · 3 passages · read by OCR')
})

test('sources of a grounded reply become chips; none for an ungrounded or unfinished one', () => {
  const src = [{ n: 1, document_id: 'd1', title: 'bikes.md', chunk_id: 'd1-0', page: null, text: 'Nine credits.', score: 0.03 },
    { n: 2, document_id: 'd2', title: 'manual.pdf', chunk_id: 'd2-4', page: 3, text: 'Page three.', score: 0.02 }]
  const chips = sourceChips({ status: 'done', sources: src })
  assert.deepEqual(chips.map((c) => c.label), ['[1] bikes.md', '[2] manual.pdf'])
  assert.equal(chips[1].heading, '[2] manual.pdf, page 3')
  assert.deepEqual(sourceChips({ status: 'done', sources: [] }), [])
  assert.equal(sourceChips({ status: 'done' }), null)
  assert.equal(sourceChips({ status: 'streaming', sources: src }), null)
})

test('the "Use knowledge base" switch travels with the conversation settings', () => {
  const form = formFromSettings({ serverUrl: 'http://10.0.0.2:5000', knowledge: true })
  assert.equal(form.knowledge, true)
  const { settings } = settingsFromForm({ ...form, knowledge: false })
  assert.equal(settings.knowledge, false)
  assert.equal(splitSettings({ serverUrl: 'http://10.0.0.2:5000', knowledge: true }).chat.knowledge, true)
})

test('a reply whose number is not in its evidence gets the note and the quote, in the question\'s language', () => {
  const quote = { n: 1, title: 'clinic.md', sentence: '消化内科在门诊楼三楼，心内科在门诊楼五楼。' }
  const zh = groundingNote({ status: 'done', grounding: { supported: false, quote, lang: 'zh' } })
  assert.equal(zh.text, '这个回答可能有误。 clinic.md 原文 [1]： 消化内科在门诊楼三楼，心内科在门诊楼五楼。')
  const en = groundingNote({ status: 'done', grounding: { supported: false, quote, lang: 'en' } })
  assert.equal(en.warning, 'This answer may be wrong.')
  assert.equal(en.from, 'From clinic.md [1]:')
  assert.equal(groundingNote({ status: 'done', grounding: { supported: true, lang: 'en' } }), null)
  assert.equal(groundingNote({ status: 'done' }), null)
})

test('a graph reply the facts cannot back quotes the fact, head -relation-> tail', () => {
  const quote = { n: 2, kind: 'fact', head: '哮喘', relation: '就诊科室', tail: '呼吸科' }
  const zh = groundingNote({ status: 'done', grounding: { supported: false, quote, lang: 'zh' } })
  assert.equal(zh.text, '这个回答可能有误。 知识图谱 [2]： 哮喘 —就诊科室→ 呼吸科')
  const en = groundingNote({ status: 'done', grounding: { supported: false, quote, lang: 'en' } })
  assert.equal(en.from, 'From the knowledge graph [2]:')
  assert.equal(en.sentence, '哮喘 —就诊科室→ 呼吸科')
})

test('the passage of a chip marks the evidence sentences used, and [n] in the reply links to source n', () => {
  const text = 'Opening hours. The gym closes at 22:30 on weekdays. Bring a towel.'
  const [chip] = sourceChips({ status: 'done', sources: [{ n: 1, title: 'gym.md', chunk_id: 'd-0', text, sentences: ['The gym closes at 22:30 on weekdays.'] }] })
  assert.deepEqual(chip.parts, [{ text: 'Opening hours. ', mark: false }, { text: 'The gym closes at 22:30 on weekdays.', mark: true }, { text: ' Bring a towel.', mark: false }])
  const html = linkCitationsHtml('<p>It closes at 22:30 [1], see [7].</p><pre><code>a[1]</code></pre>', [{ n: 1 }])
  assert.equal(html, '<p>It closes at 22:30 <a href="#kb-1">[1]</a>, see [7].</p><pre><code>a[1]</code></pre>')
  assert.equal(citedSource('#kb-1'), 1)
  assert.equal(citedSource('https://example.com'), null)
})

test('after its bytes are sent, an upload says what the server is doing with it', async () => {
  const { ingestLine } = await import('@core/ingest.js')
  assert.deepEqual(ingestLine('a.pdf', null), { text: 'Reading a.pdf (large files take a while)…', fraction: null })
  assert.deepEqual(ingestLine('a.pdf', { file: 'a.pdf', phase: 'embedding', done: 8, total: 32 }),
    { text: 'Embedding a.pdf: 8 of 32 passages…', fraction: 0.25 })
  // A scan's pictures are read page by page before its passages are embedded.
  assert.deepEqual(ingestLine('scan.pdf', { file: 'scan.pdf', phase: 'ocr', done: 1, total: 4 }),
    { text: 'Reading the pictures of scan.pdf (OCR): page 2 of 4…', fraction: 0.25 })
  // Another file's progress (a second uploader) is not this one's.
  assert.equal(ingestLine('a.pdf', { file: 'b.pdf', phase: 'embedding', done: 8, total: 32 }).fraction, null)
})

test('a grounded reply read back from the history (a reload, another device) shows the chips and note its done gave', async () => {
  const { ChatCore, PAGE_KEYS } = await import('@core/chat.js')
  const { memoryStorage } = await import('../../src/lib/storage.js')
  const { FakeClient } = await import('../helpers/fake-client.js')
  const core = () => {
    const c = new ChatCore({ storage: memoryStorage(), keys: PAGE_KEYS, onChange: () => {} })
    const client = new FakeClient()
    client.connected = true
    c.attach(client)
    return [c, client]
  }
  const ready = { session_id: 's1', client_id: 'c'.repeat(32), backends: [], limits: {}, settings: {} }
  const question = '消化内科在哪里？'
  const sources = [{ n: 1, title: 'clinic.md', chunk_id: 'd-0', text: '导诊。消化内科在门诊楼三楼。', sentences: ['消化内科在门诊楼三楼。'] }]
  const grounding = { supported: false, quote: { n: 1, title: 'clinic.md', sentence: '消化内科在门诊楼三楼。' } }
  const [live, client] = core()
  live.handle('ready', { ...ready, history: [] })
  client.handlers.chat = () => ({ ok: true, request_id: 'r1' })
  assert.equal(await live.send(question), true)
  live.handle('done', { request_id: 'r1', finish_reason: 'stop', text: '在四楼 [1]。', sources, grounding })
  const [reloaded] = core()
  reloaded.handle('ready', { ...ready, history: [{ role: 'user', content: question }, { role: 'assistant', content: '在四楼 [1]。', sources, grounding }] })
  const [fromDone, fromHistory] = [live, reloaded].map((c) => c.state.messages.at(-1))
  assert.equal(groundingNote(fromHistory).text, '这个回答可能有误。 clinic.md 原文 [1]： 消化内科在门诊楼三楼。')
  assert.deepEqual(groundingNote(fromHistory), groundingNote(fromDone))
  assert.deepEqual(sourceChips(fromHistory), sourceChips(fromDone))
  assert.equal(sourceChips(fromHistory)[0].parts.find((p) => p.mark).text, '消化内科在门诊楼三楼。')
  // A reply kept without evidence (no knowledge asked) shows none.
  reloaded.handle('ready', { ...ready, history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })
  assert.equal(sourceChips(reloaded.state.messages.at(-1)), null)
})
