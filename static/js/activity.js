// Settings > Manage this server > Activity and usage (admin): the audit log, newest first and filtered by
// action, and each day's tokens on a small uPlot chart. Opens empty; asks the server when unfolded.
import { h } from './util.js'

const PAGE = 30 // entries per page of the log: a screenful on a phone
const DAYS = 14 // days of usage on the chart
const CHART_HEIGHT = 160

/** "2026-12-07 14:03" in this device's time from an ISO instant. */
function when(at) {
  const d = new Date(at)
  if (Number.isNaN(d.getTime())) return at
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** One line of the log a person reads: when, what, on what, by whom, from where. */
export function entryText(e) {
  const what = [e.detail, e.target].filter(Boolean).join(' · ')
  const who = `${e.role}${e.device ? ` device ${e.device}` : ''} at ${e.address || '?'}`
  return `${when(e.at)}  ${e.action}${e.ok ? '' : ' (refused)'}${what ? ` — ${what}` : ''} — ${who}`
}

/** uPlot's data from /api/usage rows: [day (unix s), prompt tokens, completion tokens], every device together. */
export function usageSeries(rows) {
  const byDay = new Map()
  for (const r of rows) {
    const day = byDay.get(r.date) || [0, 0]
    day[0] += r.prompt_tokens
    day[1] += r.completion_tokens
    byDay.set(r.date, day)
  }
  const dates = [...byDay.keys()].sort()
  return [dates.map((d) => Date.parse(`${d}T00:00:00`) / 1000), dates.map((d) => byDay.get(d)[0]),
    dates.map((d) => byDay.get(d)[1])]
}

export class ActivityPanel {
  constructor(doc, http, role) {
    const $ = (id) => doc.getElementById(id)
    this.http = http
    this.role = role
    this.box = $('activity')
    this.filter = $('audit-action')
    this.list = $('audit-list')
    this.more = $('audit-more')
    this.note = $('activity-note')
    this.chart = $('usage-chart')
    this.plot = null
    this.box.addEventListener('toggle', () => this.box.open && this.load())
    this.filter.addEventListener('change', () => this.load())
    this.more.addEventListener('click', () => this.page(this.last))
    role.on(() => this.paint())
    this.paint()
  }

  paint() {
    this.box.hidden = !this.role.admin
    if (!this.role.admin) this.box.open = false
  }

  async ask(path) {
    const res = await this.http({ method: 'GET', path, headers: this.role.headers() }).catch(() => null)
    if (res && res.status === 403) this.role.refused()
    return res && res.status === 200 && res.data && res.data.ok ? res.data : null
  }

  async load() {
    this.list.replaceChildren()
    this.last = null
    await Promise.all([this.page(null), this.usage()])
  }

  /** The next page of the log, older than `before`. */
  async page(before) {
    const q = new URLSearchParams({ limit: String(PAGE) })
    if (this.filter.value) q.set('action', this.filter.value)
    if (before) q.set('before', before)
    const data = await this.ask(`/api/audit?${q}`)
    if (!data) {
      this.note.textContent = 'The activity log could not be read.'
      return
    }
    for (const e of data.entries) {
      this.list.append(h('li', { class: e.ok ? 'audit-entry' : 'audit-entry bad', text: entryText(e) }))
    }
    if (!this.list.children.length) this.list.append(h('li', { class: 'audit-entry', text: 'Nothing logged yet.' }))
    this.last = data.entries.length ? data.entries[data.entries.length - 1].at : this.last
    this.more.hidden = data.entries.length < PAGE
  }

  async usage() {
    const data = await this.ask(`/api/usage?days=${DAYS}`)
    if (!data) return
    const today = new Date().toISOString().slice(0, 10)
    const devices = new Set(data.days.filter((r) => r.date === today).map((r) => r.device))
    const quota = data.quota_tokens ? ` Each device may use ${data.quota_tokens.toLocaleString()} tokens a day.` : ''
    this.note.textContent = `Tokens per day over ${DAYS} days; ${devices.size} device(s) chatted today.${quota}`
    const series = usageSeries(data.days)
    if (!window.uPlot) {
      this.chart.textContent = 'The chart library did not load.'
      return
    }
    if (this.plot) this.plot.destroy()
    this.plot = new window.uPlot({
      width: Math.max(240, this.chart.clientWidth || 320), height: CHART_HEIGHT,
      axes: [{}, { label: 'tokens' }],
      series: [{ label: 'day' },
        { label: 'prompt', stroke: '#3367d6', width: 2, points: { show: true } },
        { label: 'completion', stroke: '#d6716b', width: 2, points: { show: true } }],
    }, series, this.chart)
  }
}
