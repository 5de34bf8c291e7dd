// The Train sheet (admin): choose or drop a .jsonl/.csv file (or "Train on this chat": the conversation as
// one), its preview, the job's settings with their meaning, Start; the job list with progress, Cancel/Delete,
// "Chat with it"; the chosen job's loss curve (uPlot) kept live by `tuning_progress` and its answers before
// and after. What a job means lives in core/tuning.js (the app reuses it).
import { httpErrorText as errorText } from './core/roles.js'
import {
  TUNING_FIELDS, chatExamples, chatFileName, isLive, jobFields, jobFraction, jobLine, lossSeries, mergeJob, previewText, sampleTable,
} from './core/tuning.js'
import { h } from './util.js'

const CHART_HEIGHT = 200

export class TrainPanel {
  /** `headers()` gives the access token header; `role` (core/roles.js) whether this device may train;
   * `chatWith(name)` makes the conversation use a tuned model. */
  constructor(doc, core, headers, toast, role, chatWith) {
    const $ = (id) => doc.getElementById(id)
    Object.assign(this, { core, headers, toast, role, chatWith })
    this.dialog = $('train')
    this.controls = $('train-controls')
    this.locked = $('train-locked')
    this.fromChatBtn = $('train-chat')
    this.file = $('train-file')
    this.drop = $('train-drop')
    this.previewBox = $('train-preview')
    this.status = $('train-status')
    this.list = $('train-jobs')
    this.empty = $('train-empty')
    this.chartBox = $('train-chart')
    this.chartTitle = $('train-chart-title')
    this.samplesBox = $('train-samples')
    this.jobs = []
    this.chosen = null // the file to train on, once its preview is good
    this.shown = null // the id of the job whose curve is drawn
    this.plot = null
    this.socket = null
    this.inputs = this.fields($('train-fields'))
    role.on(() => this.paint())
    $('open-train').addEventListener('click', () => this.open())
    this.fromChatBtn.addEventListener('click', () => this.fromChat())
    $('train-pick').addEventListener('click', () => this.file.click())
    $('train-start').addEventListener('click', () => this.start())
    this.file.addEventListener('change', () => this.choose(this.file.files[0]))
    this.drop.addEventListener('dragover', (ev) => { ev.preventDefault(); this.drop.classList.add('over') })
    this.drop.addEventListener('dragleave', () => this.drop.classList.remove('over'))
    this.drop.addEventListener('drop', (ev) => {
      ev.preventDefault()
      this.drop.classList.remove('over')
      if (this.role.admin && ev.dataTransfer.files.length) this.choose(ev.dataTransfer.files[0])
    })
    this.dialog.addEventListener('click', (ev) => { if (ev.target === this.dialog) this.dialog.close() })
    this.dialog.addEventListener('close', () => this.unwatch())
    this.paint()
  }

  /** The settings' inputs, each with its meaning and default under it (from core/tuning.js). */
  fields(box) {
    const inputs = {}
    box.replaceChildren(...TUNING_FIELDS.map((f) => {
      const id = `train-${f.name}`
      inputs[f.name] = h('input', { id, name: f.name, type: f.name === 'name' ? 'text' : 'number', autocomplete: 'off',
        placeholder: f.fallback || 'e.g. clinic-faq', min: f.min, max: f.max, step: f.step, 'aria-describedby': `${id}-note`,
        onkeydown: (ev) => { if (ev.key === 'Enter') ev.preventDefault() } }) // Enter would submit the sheet's form and close it
      return h('div', { class: 'field' }, h('label', { for: id, text: f.label }), inputs[f.name],
        h('p', { class: 'field-note', id: `${id}-note`, text: f.fallback ? `${f.meaning} Default: ${f.fallback}.` : f.meaning }))
    }))
    return inputs
  }

  async open() {
    if (!this.dialog.open) this.dialog.showModal()
    this.watch()
    await this.refresh()
  }

  /** Training controls only for an admin device: otherwise disabled, with the reason shown. */
  paint() {
    const admin = this.role.admin
    this.controls.disabled = !admin
    this.locked.hidden = admin
    this.locked.textContent = this.role.reason()
    this.fromChatBtn.hidden = !admin
    if (admin && this.dialog.open) this.watch()
    if (!admin) this.unwatch()
    this.paintJobs()
  }

  adminHeaders() {
    return { ...this.headers(), ...this.role.headers() }
  }

  say(text, bad = false) {
    this.status.textContent = text
    this.status.classList.toggle('bad', bad)
  }

  /** An admin request's JSON, or an Error with the server's sentence (a 403 also locks the controls). */
  async call(path, init, fallback) {
    let res = null
    let data = null
    try {
      res = await fetch(path, { ...init, headers: { ...this.adminHeaders(), ...(init && init.headers) } })
      data = await res.json().catch(() => null)
    } catch { /* said below as a dropped connection */ }
    if (res && res.ok && data && data.ok) return data
    const err = new Error(errorText(res ? res.status : 0, data, fallback))
    err.data = data
    if (res && res.status === 403) {
      this.toast(err.message)
      this.role.refused()
    }
    throw err
  }

  /** Progress comes on a socket of its own that shows the admin token (the page's socket shows the access token). */
  watch() {
    if (this.socket || !this.role.admin || !window.io) return
    const token = this.role.token || this.headers().Authorization?.slice(7)
    this.socket = window.io({ auth: token ? { token } : {}, forceNew: true })
    this.socket.on('tuning_progress', (job) => this.progress(job))
    this.socket.on('connect', () => this.refresh()) // events missed while it was away
  }

  unwatch() {
    if (!this.socket) return
    this.socket.disconnect()
    this.socket = null
  }

  async refresh() {
    if (!this.role.admin) return
    try {
      const data = await this.call('/api/tuning/jobs', {}, 'The jobs could not be listed')
      this.jobs = data.jobs
      this.paintJobs()
    } catch (err) {
      this.say(err.message, true)
    }
  }

  /** A `tuning_progress` event: the job's row and, if it is drawn, its curve. */
  progress(job) {
    this.jobs = mergeJob(this.jobs, job)
    this.paintJobs()
  }

  /** A file was chosen or dropped: the server checks it and shows its first examples. */
  async choose(file) {
    this.file.value = ''
    this.chosen = null
    if (!file) return
    const form = new FormData()
    form.append('file', file, file.name)
    let text
    try {
      text = previewText(await this.call('/api/tuning/preview', { method: 'POST', body: form }, `${file.name} was not read`), file.name)
      this.chosen = file
      if (!this.inputs.name.value) this.inputs.name.value = file.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64)
    } catch (err) {
      text = err.data && err.data.error ? previewText(err.data, file.name) : { summary: err.message, examples: [], bad: [] }
    }
    this.previewBox.hidden = false
    this.previewBox.classList.toggle('bad', !this.chosen)
    this.previewBox.replaceChildren(h('p', { class: 'train-summary', text: text.summary }),
      text.examples.length ? h('ol', { class: 'train-examples' }, ...text.examples.map((e) => h('li', {},
        h('span', { class: 'train-q', text: e.question }), h('span', { class: 'train-a', text: e.answer })))) : null,
      text.bad.length ? h('ul', { class: 'train-bad' }, ...text.bad.map((line) => h('li', { text: line }))) : null)
    this.say('')
  }

  /** "Train on this chat": the conversation's answered questions as a JSONL file, previewed as a chosen file is. */
  async fromChat() {
    await this.open()
    const messages = this.core.state.messages
    const text = chatExamples(messages)
    if (!text) {
      this.say('This conversation has no answered question to learn yet.', true)
      return
    }
    await this.choose(new File([text], chatFileName(messages), { type: 'application/jsonl' }))
  }

  async start() {
    if (!this.chosen) {
      this.say('Choose a .jsonl or .csv file first; its preview shows here.', true)
      return
    }
    const { fields, error } = jobFields(Object.fromEntries(Object.entries(this.inputs).map(([k, el]) => [k, el.value])))
    if (error) {
      this.say(error, true)
      return
    }
    const form = new FormData()
    form.append('file', this.chosen, this.chosen.name)
    for (const [k, v] of Object.entries(fields)) form.append(k, v)
    try {
      const data = await this.call('/api/tuning/jobs', { method: 'POST', body: form }, 'The job was not started')
      this.shown = data.job.id
      this.progress(data.job)
      this.say(`${data.job.name} is queued.`)
    } catch (err) {
      this.say(err.message, true)
    }
  }

  async remove(job) {
    const live = isLive(job)
    try {
      const data = await this.call(`/api/tuning/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE' },
        live ? `${job.name} was not cancelled` : `${job.name} was not deleted`)
      this.jobs = data.job ? mergeJob(this.jobs, data.job) : mergeJob(this.jobs, { id: job.id, status: 'deleted' })
      this.say(live ? `${job.name} is cancelled.` : `${job.name} and its model are deleted.`)
      this.paintJobs()
    } catch (err) {
      this.say(err.message, true)
    }
  }

  paintJobs() {
    const admin = this.role.admin
    const jobs = admin ? this.jobs : []
    this.empty.hidden = jobs.length > 0
    this.list.replaceChildren(...jobs.slice().reverse().map((j) => {
      const fraction = jobFraction(j)
      return h('li', { class: `train-job${j.id === this.shown ? ' shown' : ''}`, 'data-id': j.id, 'data-status': j.status },
        h('div', { class: 'train-job-head' },
          h('button', { type: 'button', class: 'text-btn train-job-name', text: j.name, title: 'Show its loss curve', onclick: () => this.show(j.id) }),
          h('span', { class: `train-badge ${j.status}`, text: j.status })),
        h('progress', { max: 1, value: fraction ?? 0, hidden: !isLive(j), 'aria-label': `${j.name} progress` }),
        h('p', { class: 'train-line', text: jobLine(j) }),
        h('div', { class: 'train-actions' },
          j.status === 'done' && h('button', { type: 'button', class: 'text-btn', text: 'Chat with it', onclick: () => this.chatWith(j.name) }),
          h('button', { type: 'button', class: 'text-btn danger', text: isLive(j) ? 'Cancel' : 'Delete', onclick: () => this.remove(j) })))
    }))
    if (!jobs.some((j) => j.id === this.shown)) this.shown = (jobs.find(isLive) || jobs[jobs.length - 1] || {}).id || null
    this.draw(jobs.find((j) => j.id === this.shown) || null)
  }

  show(id) {
    this.shown = id
    this.paintJobs()
  }

  /** The shown job's loss and eval loss against its steps, and its answers before and after. */
  draw(job) {
    if (!this.dialog.open) return // a closed sheet has no width to draw in: open() draws
    this.paintSamples(job)
    this.chartTitle.textContent = job ? `Loss of ${job.name}` : 'No job yet: its loss curve shows here.'
    const data = job ? lossSeries(job) : [[], [], []]
    if (!window.uPlot) {
      this.chartBox.textContent = 'The chart library did not load.'
      return
    }
    if (this.plot && this.plot.root.isConnected) {
      this.plot.setData(data)
      return
    }
    const width = Math.max(240, this.chartBox.clientWidth || 480)
    this.plot = new window.uPlot({
      width, height: CHART_HEIGHT,
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, { label: 'loss' }],
      series: [{ label: 'step' },
        { label: 'loss', stroke: '#3367d6', width: 2, spanGaps: true },
        { label: 'eval loss', stroke: '#d6716b', width: 2, spanGaps: true, points: { show: true, size: 6 } }],
    }, data, this.chartBox)
  }

  /** A table of the shown job's questions: expected, before and after side by side; an after as expected marked. */
  paintSamples(job) {
    const table = job ? sampleTable(job) : null
    this.samplesBox.hidden = !table
    if (!table) {
      this.samplesBox.replaceChildren()
      return
    }
    const cell = (text) => h('td', { text })
    this.samplesBox.replaceChildren(h('table', { class: 'train-samples' },
      h('caption', { text: table.caption }),
      h('thead', {}, h('tr', {}, ...['Question', 'Expected', 'Before', 'After'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...table.rows.map((r) => h('tr', {}, cell(r.question), cell(r.expected), cell(r.before),
        h('td', { class: r.learned ? 'learned' : '', title: r.learned ? 'As expected' : null },
          r.learned ? h('span', { class: 'train-mark', 'aria-label': 'as expected', text: '✓ ' }) : null, r.after))))))
  }
}
