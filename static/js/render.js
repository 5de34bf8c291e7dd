// Markdown -> sanitized HTML, and a renderer that keeps streaming replies cheap:
// finished blocks are rendered once and kept; only the growing tail is redone.
import { copyText, h, icon } from './util.js'
import { drawMath, mathPlugin } from './math.js'

const SAFE_LANG = /^[\w+#.-]{1,32}$/
const SAFE_HREF = /^(https?:|mailto:)/i
const SAFE_IMG = /^data:image\/(png|gif|jpe?g|webp|avif);base64,/i

const PURIFY = {
  FORBID_TAGS: ['style', 'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input',
    'button', 'textarea', 'select', 'option', 'link', 'meta', 'base', 'svg', 'math', 'video', 'audio', 'source',
    'track', 'picture', 'portal', 'template', 'dialog'],
  FORBID_ATTR: ['style', 'srcset', 'action', 'formaction', 'background', 'poster', 'ping', 'xlink:href'],
  ALLOW_DATA_ATTR: false,
}

let md = null

// Built on first use, so a page whose vendor files are missing can still say so instead of dying on import.
function markdown() {
  if (md) return md
  md = window.markdownit({
    html: false, // raw HTML in a reply is shown as text, never parsed
    linkify: true,
    typographer: false,
    breaks: true, // models write single newlines meaning line breaks (poems, lists of lines, CJK text)
  })
  md.use(mathPlugin)
  const esc = md.utils.escapeHtml
  const highlight = (code, lang) => {
    const hljs = window.hljs
    if (hljs && lang && hljs.getLanguage(lang)) {
      try {
        return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value
      } catch (_) {
        /* fall back to plain text */
      }
    }
    return esc(code)
  }
  const block = (lang, body) => `<div class="code-block"><div class="code-head"><span class="code-lang">${lang ? esc(lang) : 'text'}</span></div>`
    + `<pre><code class="hljs${lang ? ` language-${esc(lang)}` : ''}">${body}</code></pre></div>\n`
  // Our own wrapper around code: a header with the language, then the code. The copy button
  // is added after sanitizing (see enhance), so no <button> ever has to pass DOMPurify.
  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx]
    const info = (token.info || '').trim().split(/\s+/)[0] || ''
    const lang = SAFE_LANG.test(info) ? info.toLowerCase() : ''
    return block(lang, highlight(token.content, lang))
  }
  md.renderer.rules.code_block = (tokens, idx) => block('', esc(tokens[idx].content))

  window.DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      const href = (node.getAttribute('href') || '').trim()
      if (!SAFE_HREF.test(href)) {
        node.removeAttribute('href')
      } else {
        node.setAttribute('target', '_blank')
        node.setAttribute('rel', 'noopener noreferrer nofollow')
        node.setAttribute('referrerpolicy', 'no-referrer')
      }
    } else if (node.tagName === 'IMG') {
      // Only inline images: a remote src would reach outside the LAN and tell a third party the page was read.
      const src = (node.getAttribute('src') || '').trim()
      if (!SAFE_IMG.test(src)) node.removeAttribute('src')
      node.setAttribute('loading', 'lazy')
    }
  })
  return md
}

/** Markdown source -> a sanitized DocumentFragment. */
export function renderFragment(src) {
  const html = markdown().render(src)
  return window.DOMPurify.sanitize(html, { ...PURIFY, RETURN_DOM_FRAGMENT: true })
}

/** Plain text that may contain anything -> a sanitized HTML string (for tests and callers that need a string). */
export function renderHTML(src) {
  return window.DOMPurify.sanitize(markdown().render(src), PURIFY)
}

/** Copy buttons on code blocks, scroll wrappers on tables, placeholders for blocked images. */
export function enhance(root) {
  for (const block of root.querySelectorAll('.code-block')) {
    const head = block.querySelector('.code-head')
    if (!head || head.querySelector('button')) continue
    const code = block.querySelector('code')
    head.append(copyButton(() => (code ? code.textContent : ''), 'Copy code', true))
  }
  for (const table of root.querySelectorAll('table')) {
    if (table.parentElement && table.parentElement.classList.contains('table-wrap')) continue
    const wrap = h('div', { class: 'table-wrap' })
    table.replaceWith(wrap)
    wrap.append(table)
  }
  for (const img of root.querySelectorAll('img:not([src])')) {
    const alt = img.getAttribute('alt') || ''
    img.replaceWith(h('span', { class: 'img-blocked', title: 'Remote images are not loaded' }, `[image${alt ? `: ${alt}` : ''}]`))
  }
  drawMath(root)
}

/** A button that copies getText() and says so. */
export function copyButton(getText, label = 'Copy', withText = false) {
  const text = withText ? h('span', { class: 'btn-label', text: 'Copy' }) : null
  const btn = h('button', { type: 'button', class: withText ? 'mini-btn' : 'act-btn', 'aria-label': label, title: label },
    icon('copy'), text)
  let timer = null
  btn.addEventListener('click', async () => {
    const ok = await copyText(getText())
    btn.replaceChildren(icon(ok ? 'check' : 'copy'))
    if (text) {
      text.textContent = ok ? 'Copied' : 'Copy failed'
      btn.append(text)
    }
    btn.classList.toggle('done', ok)
    btn.setAttribute('aria-label', ok ? 'Copied' : 'Copy failed')
    clearTimeout(timer)
    timer = setTimeout(() => {
      btn.replaceChildren(icon('copy'))
      if (text) {
        text.textContent = 'Copy'
        btn.append(text)
      }
      btn.classList.remove('done')
      btn.setAttribute('aria-label', label)
    }, 1600)
  })
  return btn
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/

/**
 * The offset, at or after `from`, up to which `text` splits into finished Markdown blocks:
 * just after a blank line outside any code fence, when the next line has begun and is not
 * indented (so it cannot continue a list item or indented code). `from` must itself be such
 * a point (or 0).
 */
export function stableSplit(text, from) {
  let fence = null // the opening marker while inside a fenced block
  let best = from
  let pos = from
  let prevBlank = false
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos)
    if (nl === -1) break // the last line is still being written
    const line = text.slice(pos, nl)
    const next = nl + 1
    if (fence) {
      const m = FENCE.exec(line)
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && !m[2].trim()) fence = null
      prevBlank = false
    } else {
      const m = FENCE.exec(line)
      if (prevBlank && line.length && !/^\s/.test(line)) best = pos
      if (m && !(m[1][0] === '`' && m[2].includes('`'))) {
        fence = m[1]
        prevBlank = false
      } else {
        prevBlank = line.trim() === ''
      }
    }
    pos = next
  }
  // A line still being written may start a block after a blank line: split before it too.
  if (!fence && prevBlank && pos < text.length && !/^\s/.test(text[pos])) best = pos
  return best
}

/** Renders one reply's Markdown into `root`, cheaply while it grows. */
export class StreamRenderer {
  constructor(root) {
    this.root = root
    this.reset()
  }

  reset() {
    this.frozen = h('div', { class: 'md-frozen' })
    this.tail = h('div', { class: 'md-tail' })
    this.root.replaceChildren(this.frozen, this.tail)
    this.frozenLen = 0
    this.tailSrc = null
    this.full = null
  }

  /** Show `text`, a longer version of what was shown before. */
  update(text) {
    if (this.full !== null || text.length < this.frozenLen) this.reset()
    const split = stableSplit(text, this.frozenLen)
    if (split > this.frozenLen) {
      const frag = renderFragment(text.slice(this.frozenLen, split))
      enhance(frag)
      this.frozen.append(frag)
      this.frozenLen = split
      this.tailSrc = null
    }
    const tail = text.slice(this.frozenLen)
    if (tail !== this.tailSrc) {
      const frag = renderFragment(tail)
      enhance(frag)
      this.tail.replaceChildren(frag)
      this.tailSrc = tail
    }
  }

  /** Final render of the whole text as one document (lists and references joined up). */
  finish(text) {
    if (this.full === text) return
    const frag = renderFragment(text)
    enhance(frag)
    this.root.replaceChildren(frag)
    this.full = text
  }
}
