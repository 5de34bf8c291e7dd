// Markdown -> HTML for mp-html. html:false: model output is untrusted, so raw
// HTML in it is shown as text, never rendered.
import MarkdownIt from 'markdown-it'
import { mathPlugin, texToText } from '@core/math.js'

const md = new MarkdownIt({ html: false, linkify: true, breaks: true })
// mp-html draws no TeX (its latex plugin is not in the build we use): formulas become readable text,
// x^2 as x², \frac{a}{b} as a/b, a displayed one on its own centred line.
md.use(mathPlugin, (tex, display, esc) => (display
  ? `<p class="math-display" style="text-align:center;font-style:italic;">${esc(texToText(tex))}</p>`
  : `<span class="math-inline" style="font-style:italic;">${esc(texToText(tex))}</span>`))

// Links may only lead to the web or mail; markdown-it already refuses javascript:.
const SAFE_LINK = /^(https?:|mailto:)/i
md.validateLink = (url) => SAFE_LINK.test(url.trim())

// Images are never loaded: a remote src would make the phone fetch a URL the reply chose, telling its
// server that (and from where) the reply was read. The page blocks them too; here they become a placeholder.
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const alt = self.renderInlineAsText(tokens[idx].children || [], options, env)
  return `<span class="img-blocked">[image${alt ? `: ${md.utils.escapeHtml(alt)}` : ''}]</span>`
}

export function renderMarkdown(text) {
  return md.render(String(text || ''))
}

// mp-html tag styles: code and tables readable on a narrow phone screen.
export const TAG_STYLE = {
  pre: 'background:#f4f5f7;padding:8px 10px;border-radius:6px;overflow-x:auto;font-size:13px;line-height:1.45;margin:6px 0;',
  code: 'font-family:Menlo,Consolas,monospace;font-size:13px;background:#f4f5f7;padding:0 3px;border-radius:3px;',
  blockquote: 'border-left:3px solid #d0d4da;color:#555;padding-left:8px;margin:6px 0;',
  table: 'border-collapse:collapse;margin:6px 0;',
  th: 'border:1px solid #d0d4da;padding:3px 6px;background:#f4f5f7;',
  td: 'border:1px solid #d0d4da;padding:3px 6px;',
  p: 'margin:4px 0;',
}
