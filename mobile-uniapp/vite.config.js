import { defineConfig } from 'vite'
import uniPlugin from '@dcloudio/vite-plugin-uni'

// The plugin is CommonJS; under "type": "module" its function sits on .default.
const uni = uniPlugin.default || uniPlugin

export default defineConfig({
  plugins: [uni()],
})
