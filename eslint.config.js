// ESLint (flat config) for the repository's JavaScript: the page (static/js, its core shared with the
// uni-app), the uni-app (mobile-uniapp/src, its .vue scripts) and the Node tests (mobile-uniapp/test).
// The linters are installed by `npm ci --prefix static`; tests/test_lint.py runs them.
'use strict'
const path = require('node:path')
const { createRequire } = require('node:module')

// The packages live in static/node_modules (this folder has no package.json of its own).
const need = createRequire(path.join(__dirname, 'static', 'package.json'))
const js = need('@eslint/js')
const stylistic = need('@stylistic/eslint-plugin')
const vue = need('eslint-plugin-vue')
const globals = need('globals')

// The browser builds index.html loads before the page's modules (static/vendor/, copied by npm ci).
const VENDOR = { io: 'readonly', markdownit: 'readonly', DOMPurify: 'readonly', hljs: 'readonly',
  cytoscape: 'readonly', uPlot: 'readonly', katex: 'readonly' }
// What uni-app gives its pages and scripts (H5, App and mini-program).
const UNI = { uni: 'readonly', wx: 'readonly', plus: 'readonly', getApp: 'readonly', getCurrentPages: 'readonly' }

// One style for all of it. No semicolons: the core and the uni-app were written without them, the page's
// modules with them; `--fix` either way touched 1,666 lines one way and 3,291 the other. The other rules
// name the style the code already had everywhere (each found nothing when it was added), so it stays one.
const STYLE = {
  '@stylistic/semi': ['error', 'never'],
  '@stylistic/no-extra-semi': 'error',
  '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
  '@stylistic/indent': ['error', 2],
  '@stylistic/no-tabs': 'error',
  '@stylistic/comma-dangle': ['error', 'always-multiline'],
  '@stylistic/object-curly-spacing': ['error', 'always'],
  '@stylistic/array-bracket-spacing': ['error', 'never'],
  '@stylistic/space-before-function-paren': ['error', { anonymous: 'always', named: 'never', asyncArrow: 'always' }],
  '@stylistic/arrow-parens': ['error', 'always'],
  '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
  '@stylistic/keyword-spacing': 'error',
  '@stylistic/space-infix-ops': 'error',
  '@stylistic/space-before-blocks': 'error',
  '@stylistic/space-in-parens': 'error',
  '@stylistic/comma-spacing': 'error',
  '@stylistic/key-spacing': 'error',
  '@stylistic/semi-spacing': 'error',
  '@stylistic/no-multi-spaces': 'error',
  '@stylistic/no-trailing-spaces': 'error',
  '@stylistic/no-multiple-empty-lines': ['error', { max: 2 }],
  '@stylistic/eol-last': 'error',
  '@stylistic/padded-blocks': ['error', 'never'],
  '@stylistic/dot-location': ['error', 'property'],
  '@stylistic/quote-props': ['error', 'as-needed'],
  '@stylistic/spaced-comment': 'error',
}

module.exports = [
  // What .gitignore keeps out: installed and built files.
  { ignores: ['**/node_modules/**', 'static/vendor/**', 'mobile-uniapp/dist/**', 'mobile-uniapp/unpackage/**',
    '.venv/**', '.whl/**', '.gl/**', '.cache/**'] },
  js.configs.recommended,
  ...vue.configs['flat/essential'].map((c) => ({ ...c, files: ['mobile-uniapp/src/**/*.vue'] })),
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      ...STYLE,
      'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none' }],
      eqeqeq: ['error', 'smart'],
      'prefer-const': 'error',
      'no-var': 'error',
      'object-shorthand': 'error',
    },
  },
  // uni-app names a page by its folder (pages.json), so one-word names like "chat" are the convention there.
  { files: ['mobile-uniapp/src/pages/**/*.vue'], rules: { 'vue/multi-word-component-names': 'off' } },
  { files: ['static/js/**/*.js'], ignores: ['static/js/core/**'],
    languageOptions: { globals: { ...globals.browser, ...VENDOR } } },
  // The core runs in the page, the uni-app and Node's tests: only what all three have (no DOM, no uni).
  { files: ['static/js/core/**/*.js'], languageOptions: { globals: globals['shared-node-browser'] } },
  { files: ['static/scripts/**/*.js', 'eslint.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node } },
  { files: ['mobile-uniapp/src/**/*.{js,vue}'], languageOptions: { globals: { ...globals.browser, ...UNI } } },
  { files: ['mobile-uniapp/test/**/*.js', 'mobile-uniapp/vite.config.js'], languageOptions: { globals: globals.node } },
]
