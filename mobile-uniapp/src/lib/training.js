// Training jobs in the app: the list as rows to draw, asked with the role's admin token. Starting a job
// needs a file and a computer's page; what a job means comes from the page's core (@core/tuning.js).
import { isLive, jobFraction, jobLine, sampleTable } from '@core/tuning.js'
import { httpErrorText } from '@core/roles.js'

export const POLL_MS = 2000 // the page's curve gets a step about every 0.5-12 s; a list polled every 2 s looks live

/** A job as the page draws it: name, status, a line, progress as a percentage (null when unknown), answers before/after. */
export function jobRow(job) {
  const f = jobFraction(job)
  return { id: job.id, name: job.name, status: job.status, line: jobLine(job), percent: f === null ? null : Math.round(f * 100), live: isLive(job),
    samples: sampleTable(job) }
}

/** GET /api/tuning/jobs with the role's headers: {rows, live} (newest first), or {error} (a 403 locks the role). */
export async function fetchJobs(role) {
  const res = await role.http({ method: 'GET', path: '/api/tuning/jobs', headers: role.headers() })
  if (res && res.status === 200 && res.data && res.data.ok) {
    const rows = res.data.jobs.map(jobRow).reverse()
    return { rows, live: rows.some((r) => r.live) }
  }
  if (res && res.status === 403) role.refused()
  return { error: httpErrorText(res ? res.status : 0, res && res.data, 'The training jobs could not be listed') }
}
