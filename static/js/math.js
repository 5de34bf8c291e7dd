// Math on the page: core/math.js's markdown-it plugin keeps each formula's TeX as plain text in a marked <span>
// (so DOMPurify sees no markup of KaTeX's); drawMath then lets KaTeX build the formula's DOM itself, after
// sanitizing. Without KaTeX the TeX stays as text.
export { mathPlugin } from './core/math.js'

/** Draw the marked TeX under root with KaTeX (loaded from vendor/); a formula KaTeX cannot read stays as text. */
export function drawMath(root) {
  const katex = window.katex
  if (!katex) return
  for (const el of root.querySelectorAll('.math-inline, .math-display')) {
    if (el.dataset.drawn) continue
    const tex = el.textContent
    try {
      // katex.render builds DOM nodes (styles set through the DOM, which the page's CSP allows), never HTML text;
      // trust: false keeps \href and \url out, maxExpand bounds macros that would grow without end.
      katex.render(tex, el, { displayMode: el.classList.contains('math-display'), throwOnError: true, trust: false, maxExpand: 1000 })
      el.dataset.drawn = '1'
      el.setAttribute('title', tex)
    } catch (_) {
      el.textContent = tex // what the model wrote, readable
      el.classList.add('math-error')
    }
  }
}
