// Replies are untrusted: the app shows them without fetching anything a reply names (as the page does).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderMarkdown } from '../../src/lib/markdown.js'

test('remote images in a reply are shown as a placeholder, never loaded', () => {
  for (const src of ['https://tracker.example/p.png?who=me', 'http://10.0.0.9/x.gif', 'HTTPS://TRACKER.EXAMPLE/a']) {
    const html = renderMarkdown(`Look: ![the logo](${src}) and text after.`)
    assert.doesNotMatch(html, /<img/i, html)
    assert.ok(!html.toLowerCase().includes(src.toLowerCase().split('?')[0]), html)
    assert.match(html, /\[image: the logo\]/)
    assert.match(html, /and text after\./)
  }
  const ref = renderMarkdown('![chart][c]\n\n[c]: https://tracker.example/c.png "Title"')
  assert.doesNotMatch(ref, /<img/i, ref)
  assert.match(ref, /\[image: chart\]/)
  // Raw HTML stays text, and ordinary links still lead where they say.
  assert.doesNotMatch(renderMarkdown('<img src="https://tracker.example/r.png">'), /<img/i)
  assert.match(renderMarkdown('[site](https://example.com/a)'), /<a href="https:\/\/example\.com\/a"/)
})

test('an image placeholder escapes its alt text', () => {
  const html = renderMarkdown('![<b>x</b> & "y"](https://tracker.example/z.png)')
  assert.doesNotMatch(html, /<b>/)
  assert.match(html, /\[image: &lt;b&gt;x&lt;\/b&gt; &amp; &quot;y&quot;\]/)
})
