import { createSSRApp } from 'vue'
import App from './App.vue'

// uni-app calls createApp on every target (H5, App, mini-program).
export function createApp() {
  const app = createSSRApp(App)
  return { app }
}
