// Fine-tuning jobs (protocol 1.2) without a DOM: the settings a job takes and what they mean, a job
// list kept current from `tuning_progress`, a job as one line, its loss curves as chart series, and the
// preview of a file as text. The page's Train sheet and the app's Training page both draw from here.

/** The fields of a new job, in the form's order: what each means and the server's default (protocol 1.2). */
export const TUNING_FIELDS = [
  { name: 'name', label: 'Name', meaning: 'The tuned model\'s id: letters, digits, - _ . (up to 64).', fallback: '', required: true },
  { name: 'epochs', label: 'Epochs', meaning: 'Passes over the file; more learns it more exactly (1-100).', fallback: 'enough for 24 steps, at most 20', min: 1, max: 100, step: 1 },
  { name: 'learning_rate', label: 'Learning rate', meaning: 'How far each step moves the model; too high forgets, too low learns slowly.', fallback: '0.001', min: 1e-6, max: 1e-2, step: 'any' },
  { name: 'lora_r', label: 'LoRA rank', meaning: 'Size of what is learned on top of the model; larger holds more (1-256).', fallback: '16', min: 1, max: 256, step: 1 },
  { name: 'eval_fraction', label: 'Held out', meaning: 'Share of examples kept out of training to measure eval loss (0-0.5).', fallback: '0.1 from 50 examples, else 0', min: 0, max: 0.5, step: 0.05 },
]

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const LIVE = new Set(['queued', 'running'])

/** @typedef {import('./types.js').Job} Job */

/** True while a job may still change (queued or training). @param {Job} job */
export function isLive(job) {
  return !!job && LIVE.has(job.status)
}

/** The form's values as the multipart fields to send ({fields} or {error}: a sentence); empty ones are left to the server. */
export function jobFields(values) {
  const fields = {}
  for (const f of TUNING_FIELDS) {
    const raw = String(values[f.name] ?? '').trim()
    if (!raw) {
      if (f.required) return { error: 'Give the tuned model a name first.' }
      continue
    }
    if (f.name === 'name') {
      if (!NAME_RE.test(raw)) return { error: 'The name takes 1-64 letters, digits, - _ or ., starting with a letter or digit.' }
    } else {
      const n = Number(raw)
      if (!Number.isFinite(n) || n < f.min || n > f.max || (f.step === 1 && !Number.isInteger(n))) {
        return { error: `${f.label} must be a ${f.step === 1 ? 'whole ' : ''}number from ${f.min} to ${f.max}.` }
      }
    }
    fields[f.name] = raw
  }
  return { fields }
}

/**
 * The job list after a `tuning_progress` event (or a job from an answer): replaced by id, a deleted one dropped, a new one appended.
 * @param {Job[]} jobs
 * @param {Job} update
 * @returns {Job[]}
 */
export function mergeJob(jobs, update) {
  if (!update || typeof update.id !== 'string') return jobs
  if (update.status === 'deleted') return jobs.filter((j) => j.id !== update.id)
  const i = jobs.findIndex((j) => j.id === update.id)
  if (i < 0) return [...jobs, update]
  const next = jobs.slice()
  next[i] = { ...jobs[i], ...update }
  return next
}

/** Seconds as a short duration: "40 s", "3 min", "1 h 5 min". */
export function durationText(s) {
  const sec = Math.max(0, Math.round(Number(s) || 0))
  if (sec < 60) return `${sec} s`
  const min = Math.round(sec / 60)
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`
}

function last(points) {
  return Array.isArray(points) && points.length ? points[points.length - 1][1] : null
}

/** Fraction of the job's steps done (0-1), or null before it knows its steps. @param {Job} job */
export function jobFraction(job) {
  if (job.status === 'done') return 1
  return job.steps ? Math.min(1, (job.step || 0) / job.steps) : null
}

/** One line of a job: its status, step of steps, time left, last losses, or why it failed. @param {Job} job */
export function jobLine(job) {
  const steps = job.steps ? `step ${job.step || 0} of ${job.steps}` : ''
  const loss = last(job.loss)
  const evalLoss = last(job.eval_loss)
  const losses = [loss !== null ? `loss ${loss.toFixed(3)}` : '', evalLoss !== null ? `eval loss ${evalLoss.toFixed(3)}` : '']
    .filter(Boolean).join(', ')
  if (job.status === 'queued') return job.step ? `Resumes at ${steps} after a restart, from its last checkpoint.` : 'Waiting for the job before it to finish.'
  if (job.status === 'running') {
    if (!job.steps) return 'Starting: loading the model…'
    const eta = job.eta_s !== null && job.eta_s !== undefined ? `, about ${durationText(job.eta_s)} left` : ''
    return `Training: ${steps}${eta}${losses ? `; ${losses}` : ''}.`
  }
  if (job.status === 'done') return `Done: ${job.steps} steps${losses ? `; ${losses}` : ''}. Chat with ${job.name} like any model.`
  if (job.status === 'cancelled') return `Cancelled at ${steps || 'the start'}.`
  if (job.status === 'failed') return `Failed${steps ? ` at ${steps}` : ''}: ${job.error || 'no reason was given.'}`
  return String(job.status || '')
}

/**
 * uPlot's data of a job's curves: [steps, loss at each, eval loss at each (null where not measured)].
 * @param {Job} job
 */
export function lossSeries(job) {
  const loss = new Map((job.loss || []).map(([s, v]) => [s, v]))
  const evals = new Map((job.eval_loss || []).map(([s, v]) => [s, v]))
  const steps = [...new Set([...loss.keys(), ...evals.keys()])].sort((a, b) => a - b)
  return [steps, steps.map((s) => (loss.has(s) ? loss.get(s) : null)), steps.map((s) => (evals.has(s) ? evals.get(s) : null))]
}

/** A preview answer (or a refused file's error) as text: {summary, examples: [{question, answer}], bad: ["line N: reason"]}. */
export function previewText(data, fileName = 'The file') {
  if (data && data.ok) {
    const n = data.examples
    const shown = (data.preview || []).length
    return {
      summary: `${fileName}: ${n} example${n === 1 ? '' : 's'}, every line good${shown < n ? `; the first ${shown}:` : ':'}`,
      examples: (data.preview || []).map((p) => ({ question: p.question, answer: p.answer, turns: p.turns })),
      bad: [],
    }
  }
  const err = (data && data.error) || {}
  const lines = Array.isArray(err.lines) ? err.lines : []
  return {
    summary: lines.length ? `${fileName} has ${lines.length} bad line${lines.length === 1 ? '' : 's'}; fix ${lines.length === 1 ? 'it' : 'them'} and choose the file again.`
      : err.message || `${fileName} could not be read.`,
    examples: [],
    bad: lines.map((l) => `line ${l.line}: ${l.reason}`),
  }
}

/** "Chat with it": the backends as the server lists them now (a tuned model joins after `ready`), then this
 * conversation on backend local and the tuned model. http({method, path}) -> {status, data}; false when the
 * server does not list the model. */
export async function useTuned(core, http, name) {
  let res = null
  try {
    res = await http({ method: 'GET', path: '/api/backends' })
  } catch { /* judged below */ }
  const fresh = res && res.status === 200 && res.data && Array.isArray(res.data.backends) ? res.data.backends : []
  for (const b of core.state.backends) Object.assign(b, fresh.find((x) => x.name === b.name) || {})
  const local = core.state.backends.find((b) => b.name === 'local')
  if (!local || !Array.isArray(local.models) || !local.models.includes(name)) return false
  await core.setChatSettings({ ...core.state.chat, backend: 'local', model: name })
  return true
}

/** Whether an answer says what was expected: the same words, case, spacing and a closing full stop aside. */
export function sameAnswer(expected, answer) {
  const norm = (t) => String(t ?? '').toLowerCase().replace(/\s+/g, ' ').trim().replace(/[.。!！]$/, '').trim()
  return typeof answer === 'string' && norm(answer) !== '' && norm(answer) === norm(expected)
}

/** A job's answers before and after training, side by side: {caption, rows: [{question, expected, before, after,
 * learned}]} (`learned`: the after answer is the expected one), or null while the job has none. */
export function sampleTable(job) {
  const samples = Array.isArray(job && job.samples) ? job.samples : []
  if (!samples.length) return null
  const pending = isLive(job) ? 'after training…' : '—'
  const rows = samples.map((s) => {
    const after = typeof s.after === 'string' ? s.after : null
    return { question: String(s.question ?? ''), expected: String(s.expected ?? ''), before: String(s.before ?? ''),
      after: after ?? pending, learned: after !== null && sameAnswer(s.expected, after) }
  })
  const n = rows.length
  const what = samples.some((s) => s.held_out) ? `${n} held-out question${n === 1 ? '' : 's'} (kept out of training)`
    : `${n} taught question${n === 1 ? '' : 's'} (nothing was held out, so these were trained on)`
  const done = samples.every((s) => typeof s.after === 'string')
  const learned = rows.filter((r) => r.learned).length
  return { caption: `Answers before and after training, ${what}${done ? `: ${learned} of ${n} as expected after.` : '.'}`, rows }
}

/** "Train on this chat": a conversation's messages as a training file's text, one JSONL line per user -> assistant
 * exchange in the OpenAI `{"messages": [...]}` shape. A line per exchange, not the chat as one line: in one line
 * each later answer would be learned after every turn before it, a prompt no fresh question comes with, so the
 * model would learn an answer for that long context rather than for its question. Replies that failed, were
 * stopped, or are still streaming, and empty ones, are left out. */
export function chatExamples(messages) {
  const lines = []
  const list = Array.isArray(messages) ? messages : []
  list.forEach((m, i) => {
    const q = list[i - 1]
    if (m.role !== 'assistant' || m.status !== 'done' || m.finishReason === 'cancelled') return
    if (!q || q.role !== 'user' || q.status === 'failed') return
    const question = String(q.content ?? '').trim()
    const answer = String(m.content ?? '').trim()
    if (question && answer) {
      lines.push(JSON.stringify({ messages: [{ role: 'user', content: question }, { role: 'assistant', content: answer }] }))
    }
  })
  return lines.length ? `${lines.join('\n')}\n` : ''
}

/** The file name of a chat's examples, which the Train sheet also offers as the model's name: "chat-" and the
 * first question's Latin words, or the date when it has none (a Chinese question). */
export function chatFileName(messages, now = new Date()) {
  const first = (Array.isArray(messages) ? messages : []).find((m) => m.role === 'user')
  const words = String(first ? first.content : '').toLowerCase().match(/[a-z0-9]+/g) || []
  const slug = words.join('-').slice(0, 40).replace(/-+$/, '')
  return `chat-${slug || now.toISOString().slice(0, 10)}.jsonl`
}
