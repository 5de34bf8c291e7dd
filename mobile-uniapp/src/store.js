// The one chat controller every page shares, with Vue-reactive state.
import { reactive } from 'vue'
import { ChatController, createChatState } from './lib/chat-controller.js'
import { uniStorage } from './lib/storage.js'

export const chat = new ChatController({ state: reactive(createChatState()), storage: uniStorage(uni) })
export const state = chat.state
