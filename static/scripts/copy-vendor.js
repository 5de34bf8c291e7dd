#!/usr/bin/env node
// Copies the browser builds the chat page loads from node_modules/ into vendor/,
// so the server can serve every asset itself (the page must work with no internet).
'use strict'
const fs = require('fs')
const path = require('path')

const root = path.resolve(__dirname, '..')
const modules = path.join(root, 'node_modules')
const vendor = path.join(root, 'vendor')

// [source under node_modules/, name under vendor/]
const FILES = [
  ['socket.io-client/dist/socket.io.min.js', 'socket.io.min.js'],
  ['markdown-it/dist/browser/markdown-it.umd.min.js', 'markdown-it.min.js'],
  ['dompurify/dist/purify.min.js', 'purify.min.js'],
  ['@highlightjs/cdn-assets/highlight.min.js', 'highlight.min.js'],
  ['@highlightjs/cdn-assets/styles/github.min.css', 'hljs-light.css'],
  ['@highlightjs/cdn-assets/styles/github-dark.min.css', 'hljs-dark.css'],
  ['cytoscape/dist/cytoscape.min.js', 'cytoscape.min.js'],
  ['uplot/dist/uPlot.iife.min.js', 'uplot.min.js'],
  ['uplot/dist/uPlot.min.css', 'uplot.min.css'],
  ['katex/dist/katex.min.js', 'katex.min.js'],
  ['katex/dist/katex.min.css', 'katex.min.css'],
]

fs.rmSync(vendor, { recursive: true, force: true })
fs.mkdirSync(vendor, { recursive: true })
let missing = 0
for (const [src, dest] of FILES) {
  const from = path.join(modules, src)
  if (!fs.existsSync(from)) {
    console.error(`copy-vendor: missing ${from}`)
    missing += 1
    continue
  }
  // Source-map comments would make devtools ask the server for .map files we do not ship.
  let text = fs.readFileSync(from, 'utf8')
  text = text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n').replace(/\/\*# sourceMappingURL=\S+ \*\/\s*$/, '\n')
  fs.writeFileSync(path.join(vendor, dest), text)
}
// KaTeX's fonts, next to its stylesheet (which names them as fonts/...): the WOFF2 files alone, which every
// browser the page supports reads first (the stylesheet's woff and ttf fallbacks are never fetched).
const katexFonts = path.join(modules, 'katex/dist/fonts')
if (fs.existsSync(katexFonts)) {
  fs.mkdirSync(path.join(vendor, 'fonts'), { recursive: true })
  for (const name of fs.readdirSync(katexFonts).filter((n) => n.endsWith('.woff2'))) {
    fs.copyFileSync(path.join(katexFonts, name), path.join(vendor, 'fonts', name))
  }
} else {
  console.error(`copy-vendor: missing ${katexFonts}`)
  missing += 1
}
if (missing) {
  console.error('copy-vendor: some files were not found; is `npm ci --prefix static` complete?')
  process.exit(1)
}
console.log(`copy-vendor: ${FILES.length} files copied to ${path.relative(process.cwd(), vendor) || vendor}`)
