// The library's lines, DOM-free: a document's size and passages, and an upload after its bytes are sent
// (what the server says it is doing, GET /api/kb/progress).

// How often a client asks while the server reads and embeds a file.
export const INGEST_POLL_MS = 700

/** One line under a library document's title: its size and its passages. */
export function docLine(d) {
  const size = d.bytes >= 1e6 ? `${(d.bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(d.bytes / 1e3))} kB`
  return `${size} · ${d.chunks} passages${d.ocr ? ' · read by OCR' : ''}`
}

/** {text, fraction} for the progress bar: reading the file (OCR page by page), then embedding (fraction 0-1, or null). */
export function ingestLine(name, progress) {
  const p = progress && progress.file === name ? progress : null
  if (p && p.phase === 'ocr' && p.total > 0) {
    return { text: `Reading the pictures of ${name} (OCR): page ${Math.min(p.done + 1, p.total)} of ${p.total}…`, fraction: p.done / p.total }
  }
  if (p && p.phase === 'embedding' && p.total > 0) {
    return { text: `Embedding ${name}: ${p.done} of ${p.total} passages…`, fraction: p.done / p.total }
  }
  return { text: `Reading ${name} (large files take a while)…`, fraction: null }
}
