// `node --import ./test/helpers/alias.js`: resolves @core/ as vite.config.js does, so Node runs
// the same imports the builds bundle.
import { register } from 'node:module'

register('./alias-hooks.js', import.meta.url)
