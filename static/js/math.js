// Math in replies: $...$, \(...\) inline and $$...$$, \[...\] displayed (as DeepSeek and others write them).
// markdown-it keeps the TeX as plain text in a marked <span> (so DOMPurify sees no markup of KaTeX's);
// drawMath then lets KaTeX build the formula's DOM itself, after sanitizing. Without KaTeX the TeX stays as text.

const PAIRS = [['$$', '$$', true], ['\\[', '\\]', true], ['\\(', '\\)', false], ['$', '$', false]];

/** A markdown-it plugin: math spans become <span class="math-inline|math-display">TeX</span>. */
export function mathPlugin(md) {
  md.inline.ruler.before('escape', 'math', (state, silent) => {
    const { src, pos } = state;
    const pair = PAIRS.find(([open]) => src.startsWith(open, pos));
    if (!pair) return false;
    const [open, close, display] = pair;
    const start = pos + open.length;
    const end = src.indexOf(close, start);
    if (end <= start) return false;
    const tex = src.slice(start, end);
    // A lone $ is money more often than math: "$5 and $6" is not a formula (no space just inside the $s, no
    // digit after), nor is a span that runs into code ("$6, or `$HOME`").
    if (open === '$' && (/^\s|\s$|`/.test(tex) || /\d/.test(src[end + 1] || ''))) return false;
    if (!silent) {
      const token = state.push('math', 'span', 0);
      token.content = tex;
      token.meta = { display };
    }
    state.pos = end + close.length;
    return true;
  });
  md.renderer.rules.math = (tokens, idx) => {
    const t = tokens[idx];
    return `<span class="${t.meta.display ? 'math-display' : 'math-inline'}">${md.utils.escapeHtml(t.content)}</span>`;
  };
}

/** Draw the marked TeX under root with KaTeX (loaded from vendor/); a formula KaTeX cannot read stays as text. */
export function drawMath(root) {
  const katex = window.katex;
  if (!katex) return;
  for (const el of root.querySelectorAll('.math-inline, .math-display')) {
    if (el.dataset.drawn) continue;
    const tex = el.textContent;
    try {
      // katex.render builds DOM nodes (styles set through the DOM, which the page's CSP allows), never HTML text;
      // trust: false keeps \href and \url out, maxExpand bounds macros that would grow without end.
      katex.render(tex, el, { displayMode: el.classList.contains('math-display'), throwOnError: true, trust: false, maxExpand: 1000 });
      el.dataset.drawn = '1';
      el.setAttribute('title', tex);
    } catch (_) {
      el.textContent = tex; // what the model wrote, readable
      el.classList.add('math-error');
    }
  }
}
