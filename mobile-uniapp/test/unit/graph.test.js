import test from 'node:test'
import assert from 'node:assert/strict'
import { entityLine, factRow, factChip, searchPath } from '../../src/lib/graph.js'
import { sourceChips } from '../../src/lib/knowledge.js'
import { formFromSettings, settingsFromForm } from '../../src/lib/settings-form.js'

const fact = { id: 'f1', head: { id: 'e1', name: '胃炎' }, relation: '就诊科室', tail: { id: 'e2', name: '消化内科' },
  sources: [{ import: 'i1', file: 'med.csv' }, { document: 'd1', title: 'clinic.txt', passage: 'd1-3' }] }

test('entity search results and an entity\'s facts read as lines', () => {
  assert.equal(searchPath(' 胃 痛 '), '/api/graph/entities?q=%E8%83%83%20%E7%97%9B&limit=30')
  assert.equal(entityLine({ type: '疾病', facts: 3, aliases: ['Gastritis'] }), '疾病 · 3 facts · also Gastritis')
  assert.deepEqual(factRow(fact), { key: 'f1', text: '胃炎 —就诊科室→ 消化内科', sources: 'imported from med.csv; clinic.txt, passage 3' })
})

test('a reply grounded in facts and passages shows a chip for each', () => {
  const chips = sourceChips({ status: 'done', sources: [{ n: 1, kind: 'fact', ...fact },
    { n: 2, kind: 'passage', chunk_id: 'd1-0', title: 'clinic.txt', text: 'passage text', page: null }] })
  assert.deepEqual(chips[0], factChip({ n: 1, ...fact }))
  assert.equal(chips[0].label, '[1] 胃炎 → 消化内科')
  assert.equal(chips[0].entity, 'e1')
  assert.equal(chips[1].label, '[2] clinic.txt')
})

test('the "Use knowledge graph" switch travels with the conversation settings', () => {
  const form = formFromSettings({ serverUrl: 'http://10.0.0.2:5000', graph: true })
  assert.equal(form.graph, true)
  assert.equal(settingsFromForm({ ...form, graph: false }).settings.graph, false)
})
