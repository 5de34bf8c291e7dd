import { defineConfig } from 'vite'
import { fileURLToPath } from 'node:url'
import uniPlugin from '@dcloudio/vite-plugin-uni'

// The plugin is CommonJS; under "type": "module" its function sits on .default.
const uni = uniPlugin.default || uniPlugin

export default defineConfig({
  plugins: [uni()],
  // The chat core is shared with the bundled page, which serves it as plain ES modules.
  resolve: { alias: { '@core': fileURLToPath(new URL('../static/js/core', import.meta.url)) } },
})
