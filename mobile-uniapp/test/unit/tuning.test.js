import test from 'node:test'
import assert from 'node:assert/strict'
import { chatExamples, chatFileName, jobFields, jobLine, lossSeries, mergeJob, previewText, sameAnswer, sampleTable, useTuned } from '@core/tuning.js'
import { Role } from '@core/roles.js'
import { fetchJobs } from '../../src/lib/training.js'

const running = { id: 'j1', name: 'clinic', status: 'running', step: 5, steps: 20, eta_s: 150,
  loss: [[1, 2.5], [2, 2.0], [3, 1.5], [4, 1.2], [5, 0.9]], eval_loss: [[2, 2.2], [5, 1.4]], examples: { train: 40, eval: 4 } }

test('a job reads as one line in each status', () => {
  assert.equal(jobLine(running), 'Training: step 5 of 20, about 3 min left; loss 0.900, eval loss 1.400.')
  assert.equal(jobLine({ ...running, status: 'queued', steps: 0, step: 0 }), 'Waiting for the job before it to finish.')
  assert.equal(jobLine({ ...running, status: 'queued' }), 'Resumes at step 5 of 20 after a restart, from its last checkpoint.')
  assert.equal(jobLine({ ...running, steps: 0, loss: [] }), 'Starting: loading the model…')
  assert.match(jobLine({ ...running, status: 'done', step: 20 }), /^Done: 20 steps; .*Chat with clinic like any model\.$/)
  assert.equal(jobLine({ ...running, status: 'failed', error: 'The server restarted while this job was training.' }),
    'Failed at step 5 of 20: The server restarted while this job was training.')
})

test('progress events replace a job, add a new one, and drop a deleted one', () => {
  let jobs = mergeJob([], { ...running, step: 1, loss: [[1, 2.5]] })
  jobs = mergeJob(jobs, running)
  assert.equal(jobs.length, 1)
  assert.equal(jobs[0].step, 5)
  jobs = mergeJob(jobs, { id: 'j2', name: 'other', status: 'queued' })
  assert.deepEqual(jobs.map((j) => j.id), ['j1', 'j2'])
  assert.deepEqual(mergeJob(jobs, { id: 'j1', status: 'deleted' }).map((j) => j.id), ['j2'])
})

test('the loss curve: one x per step, eval loss only where it was measured', () => {
  assert.deepEqual(lossSeries(running), [[1, 2, 3, 4, 5], [2.5, 2.0, 1.5, 1.2, 0.9], [null, 2.2, null, null, 1.4]])
  assert.deepEqual(lossSeries({ status: 'queued' }), [[], [], []])
})

test('the form: a name is required, numbers are checked, empty fields are left to the server', () => {
  assert.deepEqual(jobFields({ name: 'clinic-v1', epochs: '', learning_rate: '0.002' }), { fields: { name: 'clinic-v1', learning_rate: '0.002' } })
  assert.match(jobFields({ name: '' }).error, /name/)
  assert.match(jobFields({ name: '-bad' }).error, /letters, digits/)
  assert.equal(jobFields({ name: 'a', epochs: '2.5' }).error, 'Epochs must be a whole number from 1 to 100.')
  assert.equal(jobFields({ name: 'a', eval_fraction: '0.9' }).error, 'Held out must be a number from 0 to 0.5.')
})

test('a preview and a refused file read as text, bad lines with their numbers', () => {
  const ok = previewText({ ok: true, examples: 12, preview: [{ question: 'Q?', answer: 'A.', turns: 2 }] }, 'faq.csv')
  assert.equal(ok.summary, 'faq.csv: 12 examples, every line good; the first 1:')
  assert.deepEqual(ok.examples, [{ question: 'Q?', answer: 'A.', turns: 2 }])
  const bad = previewText({ ok: false, error: { code: 'bad_request', message: 'x', lines: [{ line: 3, reason: 'no answer' }] } }, 'faq.csv')
  assert.equal(bad.summary, 'faq.csv has 1 bad line; fix it and choose the file again.')
  assert.deepEqual(bad.bad, ['line 3: no answer'])
  assert.equal(previewText({ ok: false, error: { message: 'Fine-tuning needs the local backend.' } }).summary, 'Fine-tuning needs the local backend.')
})

test('"chat with it" picks the tuned model once the server lists it', async () => {
  const sent = []
  const core = { state: { chat: { backend: 'openai', model: 'm', knowledge: true }, backends: [{ name: 'local', models: ['tiny'] }] },
    setChatSettings: async (c) => { sent.push(c); return { ok: true } } }
  const http = async () => ({ status: 200, data: { backends: [{ name: 'local', models: ['tiny', 'clinic'] }] } })
  assert.equal(await useTuned(core, http, 'clinic'), true)
  assert.deepEqual(sent, [{ backend: 'local', model: 'clinic', knowledge: true }])
  assert.deepEqual(core.state.backends[0].models, ['tiny', 'clinic'])
  assert.equal(await useTuned(core, http, 'missing'), false)
  assert.equal(sent.length, 1)
})

test('the app lists jobs with the admin token, newest first; a 403 locks the role', async () => {
  const store = new Map([['k', 'ADM']])
  const storage = { get: (k, d) => store.get(k) ?? d, set: (k, v) => store.set(k, v), remove: (k) => store.delete(k) }
  const asked = []
  let status = 200
  const http = async (req) => {
    asked.push(req)
    if (req.path === '/api/roles') return { status: 200, data: { ok: true, admin: true, admin_token_set: true } }
    return status === 200 ? { status, data: { ok: true, jobs: [{ ...running, status: 'done', step: 20 }, running] } }
      : { status, data: { ok: false, error: { code: 'forbidden', message: 'Only this server\'s admin may do this.' } } }
  }
  const role = new Role({ storage, http, key: 'k' })
  await role.refresh()
  const res = await fetchJobs(role)
  assert.equal(asked[1].headers['X-Admin-Token'], 'ADM')
  assert.deepEqual(res.rows.map((r) => [r.status, r.percent, r.live]), [['running', 25, true], ['done', 100, false]])
  assert.equal(res.live, true)
  status = 403
  assert.equal((await fetchJobs(role)).error, 'Only this server\'s admin may do this.')
  assert.equal(role.admin, false)
})

test('answers before and after: side by side, an after that says the expected answer marked', () => {
  const samples = [
    { question: 'Room 3?', expected: 'Room 3 has code 21.', before: 'A room.', after: null, held_out: true },
    { question: 'Room 4?', expected: 'Room 4 has code 28.', before: 'No idea.', after: null, held_out: true },
  ]
  assert.equal(sampleTable({ ...running, samples: [] }), null)
  const training = sampleTable({ ...running, samples })
  assert.equal(training.caption, 'Answers before and after training, 2 held-out questions (kept out of training).')
  assert.deepEqual(training.rows.map((r) => [r.after, r.learned]), [['after training…', false], ['after training…', false]])
  const done = sampleTable({ ...running, status: 'done', samples: [{ ...samples[0], after: ' room 3 has  code 21' }, { ...samples[1], after: 'Room 4 has code 29.' }] })
  assert.deepEqual(done.rows.map((r) => r.learned), [true, false])
  assert.equal(done.caption, 'Answers before and after training, 2 held-out questions (kept out of training): 1 of 2 as expected after.')
  const taught = sampleTable({ ...running, status: 'done', samples: [{ ...samples[0], held_out: false, after: 'Room 3 has code 21.' }] })
  assert.equal(taught.caption, 'Answers before and after training, 1 taught question (nothing was held out, so these were trained on): 1 of 1 as expected after.')
  assert.equal(sameAnswer('诊所早上八点开门。', '诊所早上八点开门'), true)
  assert.equal(sameAnswer('Yes.', ''), false)
})

test('"train on this chat": a line per answered question, failed and stopped replies left out', () => {
  const m = (role, content, extra = {}) => ({ role, content, status: 'done', finishReason: '', ...extra })
  const messages = [
    m('user', 'When does the clinic open?'), m('assistant', ' At 8:00, Monday to Saturday. '),
    m('user', 'And on Sunday?', { status: 'failed' }), m('assistant', '', { status: 'error' }),
    m('user', '周日呢？'), m('assistant', '周日休息。'),
    m('user', 'Parking?'), m('assistant', 'There is', { finishReason: 'cancelled' }),
    m('user', 'Still there?'), m('assistant', 'Yes', { status: 'streaming' }),
  ]
  const lines = chatExamples(messages).trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(lines, [
    { messages: [{ role: 'user', content: 'When does the clinic open?' }, { role: 'assistant', content: 'At 8:00, Monday to Saturday.' }] },
    { messages: [{ role: 'user', content: '周日呢？' }, { role: 'assistant', content: '周日休息。' }] },
  ])
  assert.equal(chatExamples([m('user', 'Hi')]), '')
  assert.equal(chatFileName(messages), 'chat-when-does-the-clinic-open.jsonl')
  assert.equal(chatFileName([m('user', '诊所几点开门？')], new Date('2026-12-03T10:00:00Z')), 'chat-2026-12-03.jsonl')
})
