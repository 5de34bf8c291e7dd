// Small DOM helpers that must also work on a plain-HTTP LAN address, where the page is
// not a "secure context": no navigator.clipboard.

/** Copies text; resolves to true when it worked. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text)
      return true
    } catch (_) {
      // fall through to the old way (e.g. permission denied)
    }
  }
  const ta = document.createElement('textarea')
  ta.value = text
  ta.setAttribute('readonly', '')
  ta.setAttribute('aria-hidden', 'true')
  ta.style.position = 'fixed'
  ta.style.top = '0'
  ta.style.left = '-9999px'
  ta.style.opacity = '0'
  document.body.appendChild(ta)
  const active = document.activeElement
  ta.focus({ preventScroll: true })
  ta.select()
  ta.setSelectionRange(0, text.length) // iOS needs a range
  let ok
  try {
    ok = document.execCommand('copy')
  } catch (_) {
    ok = false
  }
  ta.remove()
  if (active && typeof active.focus === 'function') active.focus({ preventScroll: true })
  return ok
}

/** localStorage that never throws (private modes, full quota, disabled storage). */
export const store = {
  get(key, fallback = null) {
    try {
      const raw = window.localStorage.getItem(key)
      return raw === null ? fallback : JSON.parse(raw)
    } catch (_) {
      return fallback
    }
  },
  set(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value))
    } catch (_) {
      /* not fatal: the page still works, it just forgets */
    }
  },
  remove(key) {
    try {
      window.localStorage.removeItem(key)
    } catch (_) {
      /* ignore */
    }
  },
}

/** document.createElement with properties, attributes and children. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'class') node.className = v
    else if (k === 'text') node.textContent = v
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v)
    else if (k in node && typeof v !== 'string') node[k] = v
    else node.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue
    node.append(c instanceof Node ? c : String(c))
  }
  return node
}

/** Our own constant SVG icons (never model output), as elements. */
const ICONS = {
  copy: '<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1"/>',
  check: '<path d="M20 6 9 17l-5-5"/>',
  regen: '<path d="M21 12a9 9 0 1 1-3-6.7L21 8"/><path d="M21 3v5h-5"/>',
  edit: '<path d="M12 20h9"/><path d="M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4Z"/>',
  retry: '<path d="M3 12a9 9 0 1 0 3-6.7L3 8"/><path d="M3 3v5h5"/>',
  alert: '<circle cx="12" cy="12" r="9"/><path d="M12 8v5"/><path d="M12 16h.01"/>',
  spark: '<path d="M9.5 2.5a5.5 5.5 0 0 0-3.9 9.4c.6.6.9 1.4.9 2.2V15h6v-.9c0-.8.3-1.6.9-2.2a5.5 5.5 0 0 0-3.9-9.4Z"/><path d="M7 18h5"/><path d="M8 21h3"/>',
}

export function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('aria-hidden', 'true')
  svg.innerHTML = ICONS[name] || ''
  return svg
}

/** A short human duration: 850 ms, 1.2 s, 2 min 5 s. */
export function formatMs(ms) {
  if (!Number.isFinite(ms)) return ''
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`
  const m = Math.floor(ms / 60000)
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`
}
