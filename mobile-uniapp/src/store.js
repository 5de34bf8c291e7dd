// The one chat controller every page shares, with Vue-reactive state.
// uni APIs are named here statically: the H5 build drops any API it does not
// see written as `uni.name`, and the plain-JS modules only get them injected.
import { reactive } from 'vue'
import { ChatController, createChatState } from './lib/chat-controller.js'
import { SioClient } from './lib/sio-client.js'
import { uniStorage } from './lib/storage.js'
import { makeRole } from './lib/roles.js'

export const connectSocket = (opts) => uni.connectSocket(opts)
export const httpRequest = (opts) => uni.request(opts)

const storage = uniStorage({
  getStorageSync: (key) => uni.getStorageSync(key),
  setStorageSync: (key, value) => uni.setStorageSync(key, value),
  removeStorageSync: (key) => uni.removeStorageSync(key),
})

export const chat = new ChatController({
  state: reactive(createChatState()),
  storage,
  createClient: (opts) => new SioClient({ ...opts, connectSocket }),
})
export const state = chat.state
// Who may change what everyone shares (Settings > Manage this server); the library page asks it.
export const role = reactive(makeRole(storage, httpRequest, () => chat.state.settings))
