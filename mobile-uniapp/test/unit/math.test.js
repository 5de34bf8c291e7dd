// Replies' LaTeX in the app: mp-html cannot draw it, so it reads as text, not as raw markup.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderMarkdown } from '../../src/lib/markdown.js'
import { texToText } from '@core/math.js'

test('formulas in all four notations become readable text', () => {
  const html = renderMarkdown('Area $\\pi r^2$, ratio \\(\\frac{a}{b}\\).\n\n$$E = mc^2$$\n\n\\[\\sqrt{x^2+1}\\]')
  assert.match(html, /<span class="math-inline"[^>]*>π r²<\/span>/)
  assert.match(html, /<span class="math-inline"[^>]*>a\/b<\/span>/)
  assert.match(html, /<p class="math-display"[^>]*>E = mc²<\/p>/)
  assert.match(html, /<p class="math-display"[^>]*>√\(x²\+1\)<\/p>/)
  assert.doesNotMatch(html, /\\frac|\\pi|\$\$|\\\(|\\\[/)
})

test('dollar prices, code and markup inside a formula stay safe and as written', () => {
  const html = renderMarkdown('It costs $5 and $6 today. Code: `$HOME` and $<img src=x onerror=alert(1)>$')
  assert.match(html, /\$5 and \$6 today/)
  assert.match(html, /<code>\$HOME<\/code>/)
  assert.doesNotMatch(html, /<img/)
})

test('TeX as text: fractions, scripts, roots, Greek and operators', () => {
  assert.equal(texToText('\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}'), '∑_(i=1)ⁿ i = (n(n+1))/2')
  assert.equal(texToText('x_{12} \\le \\sqrt{y}'), 'x₁₂ ≤ √y')
  assert.equal(texToText('\\text{speed} = \\frac{d}{t}'), 'speed = d/t')
})
