// An upload after its bytes are sent: what the server says it is doing (GET /api/kb/progress), DOM-free.

// How often a client asks while the server reads and embeds a file.
export const INGEST_POLL_MS = 700

/** {text, fraction} for the progress bar: reading the file, then embedding its passages (fraction 0-1, or null). */
export function ingestLine(name, progress) {
  const p = progress && progress.file === name ? progress : null
  if (p && p.phase === 'embedding' && p.total > 0) {
    return { text: `Embedding ${name}: ${p.done} of ${p.total} passages…`, fraction: p.done / p.total }
  }
  return { text: `Reading ${name} (large files take a while)…`, fraction: null }
}
