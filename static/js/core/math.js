// Math in replies, DOM-free (the page and the uni-app): $...$ and \(...\) inline, $$...$$ and \[...\] displayed,
// as DeepSeek and others write them. A markdown-it plugin finds them; each client says how to show the TeX.

/** @type {[string, string, boolean][]} [open, close, display] */
const PAIRS = [['$$', '$$', true], ['\\[', '\\]', true], ['\\(', '\\)', false], ['$', '$', false]]

/**
 * A markdown-it plugin: each formula becomes html(tex, display, escapeHtml). The default keeps the TeX as text in
 * <span class="math-inline|math-display">, for KaTeX to draw after sanitizing (the page).
 */
export function mathPlugin(md, html = markedSpan) {
  md.inline.ruler.before('escape', 'math', (state, silent) => {
    const { src, pos } = state
    const pair = PAIRS.find(([open]) => src.startsWith(open, pos))
    if (!pair) return false
    const [open, close, display] = pair
    const start = pos + open.length
    const end = src.indexOf(close, start)
    if (end <= start) return false
    const tex = src.slice(start, end)
    // A lone $ is money more often than math: "$5 and $6" is not a formula (no space just inside the $s, no
    // digit after), nor is a span that runs into code ("$6, or `$HOME`").
    if (open === '$' && (/^\s|\s$|`/.test(tex) || /\d/.test(src[end + 1] || ''))) return false
    if (!silent) {
      const token = state.push('math', 'span', 0)
      token.content = tex
      token.meta = { display }
    }
    state.pos = end + close.length
    return true
  })
  md.renderer.rules.math = (tokens, idx) => html(tokens[idx].content, tokens[idx].meta.display, md.utils.escapeHtml)
}

function markedSpan(tex, display, esc) {
  return `<span class="${display ? 'math-display' : 'math-inline'}">${esc(tex)}</span>`
}

const SYMBOLS = {
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', varepsilon: 'ε', theta: 'θ', lambda: 'λ', mu: 'μ',
  pi: 'π', rho: 'ρ', sigma: 'σ', tau: 'τ', phi: 'φ', varphi: 'φ', omega: 'ω', Delta: 'Δ', Sigma: 'Σ', Omega: 'Ω',
  Pi: 'Π', Gamma: 'Γ', Theta: 'Θ', Lambda: 'Λ', Phi: 'Φ', sum: '∑', prod: '∏', int: '∫', infty: '∞', times: '×',
  cdot: '·', div: '÷', pm: '±', mp: '∓', le: '≤', leq: '≤', ge: '≥', geq: '≥', ne: '≠', neq: '≠', approx: '≈',
  equiv: '≡', to: '→', rightarrow: '→', leftarrow: '←', Rightarrow: '⇒', iff: '⇔', in: '∈', notin: '∉',
  subset: '⊂', cup: '∪', cap: '∩', forall: '∀', exists: '∃', partial: '∂', nabla: '∇', circ: '∘', ldots: '…',
  cdots: '⋯', quad: ' ', qquad: '  ', degree: '°', angle: '∠', sqrt: '√',
}
const SUPER = { 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹', '+': '⁺', '-': '⁻', n: 'ⁿ', i: 'ⁱ' }
const SUB = { 0: '₀', 1: '₁', 2: '₂', 3: '₃', 4: '₄', 5: '₅', 6: '₆', 7: '₇', 8: '₈', 9: '₉', '+': '₊', '-': '₋', '=': '₌' }

const BRACED = '\\{([^{}]*)\\}'

/** TeX as text a person reads where nothing draws it (the app): \frac{a}{b} -> (a)/(b), x^2 -> x², \pi -> π. */
export function texToText(tex) {
  let s = String(tex)
  for (let i = 0; i < 4; i++) { // inner groups first, a few levels deep
    s = s.replace(new RegExp(`\\\\[dt]?frac${BRACED}${BRACED}`, 'g'), (_, a, b) => `${group(a)}/${group(b)}`)
      .replace(new RegExp(`\\\\sqrt${BRACED}`, 'g'), (_, a) => `√${group(a)}`)
      .replace(new RegExp(`\\\\(?:text|mathrm|mathbf|mathit|operatorname|textbf|left|right)${BRACED}`, 'g'), '$1')
  }
  s = s.replace(/\\(?:left|right|displaystyle|,|;|!)/g, (m) => (m === '\\,' || m === '\\;' ? ' ' : ''))
    .replace(/\\([A-Za-z]+)/g, (m, name) => SYMBOLS[name] ?? name)
    .replace(new RegExp(`\\^${BRACED}`, 'g'), (_, a) => script(a, SUPER, '^'))
    .replace(/\^([A-Za-z0-9])/g, (_, a) => script(a, SUPER, '^'))
    .replace(new RegExp(`_${BRACED}`, 'g'), (_, a) => script(a, SUB, '_'))
    .replace(/_([A-Za-z0-9])/g, (_, a) => script(a, SUB, '_'))
    .replace(/[{}]/g, '')
    .replace(/\\/g, '')
  return s.replace(/\s+/g, ' ').trim()
}

function group(a) {
  return /^[\w.]+$/.test(a) ? a : `(${a})`
}

function script(a, table, mark) {
  const chars = [...a]
  return chars.every((c) => table[c]) ? chars.map((c) => table[c]).join('') : `${mark}(${a})`
}
