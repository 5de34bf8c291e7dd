import test from 'node:test'
import assert from 'node:assert/strict'
import { entityLine, factRow, factChip, searchPath, proposalPath, proposalRow, proposalsFrom, proposalsPath } from '../../src/lib/graph.js'
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

test('a proposed fact reads with how sure the build was and the sentence it came from', () => {
  const p = { id: 'p 1', head: '痛风', relation: '常用药品', tail: '别嘌醇', confidence: 0.654, extractor: 'rules',
    sources: [{ document: 'd1', title: 'handbook.txt', passage: 'd1-2', sentence: '痛风的常用药品为别嘌醇。' }] }
  assert.deepEqual(proposalRow(p), { key: 'p 1', text: '痛风 —常用药品→ 别嘌醇', sure: '65% · rules',
    sentence: '“痛风的常用药品为别嘌醇。” (handbook.txt, passage 2)' })
  assert.equal(proposalsPath(20), '/api/graph/proposals?limit=20')
  assert.equal(proposalPath('p 1', true), '/api/graph/proposals/p%201/accept')
  assert.equal(proposalPath('p 1'), '/api/graph/proposals/p%201')
  const all = [p, { ...p, id: 'p2', confidence: 0.6 }]
  assert.deepEqual(proposalsFrom(all, '0.65').map((x) => x.id), ['p 1'])
  assert.deepEqual(proposalsFrom(all, 0.6).map((x) => x.id), ['p 1', 'p2'])
  assert.deepEqual(proposalsFrom(all, 'x'), [])
})
