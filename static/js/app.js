// The chat page: wires the shared chat core (./core, no DOM) to the views of this page.
// The core speaks the protocol and keeps the conversation; each view draws one part of it.
import { store } from './util.js'
import { ChatCore } from './core/chat.js'
import { Chrome, fitViewport } from './chrome.js'
import { Composer } from './composer.js'
import { AttachTray, attachmentLoader } from './attach.js'
import { Connection, httpFetch } from './connection.js'
import { ConversationsView } from './conversations.js'
import { DevicesPanel } from './devices.js'
import { GraphPanel } from './graph.js'
import { KnowledgePanel } from './knowledge.js'
import { MessagesView } from './messages.js'
import { Role } from './core/roles.js'
import { ManagePanel } from './roles.js'
import { ActivityPanel } from './activity.js'
import { ConnectionNote } from './tls.js'
import { Scroller } from './scroll.js'
import { SettingsForm } from './settings.js'
import { TrainPanel } from './train.js'
import { useTuned } from './core/tuning.js'

const $ = (id) => document.getElementById(id)
const IDS = {
  app: 'app', messages: 'messages', empty: 'empty', scroller: 'scroller', jump: 'jump', form: 'composer', input: 'input',
  send: 'send', stop: 'stop', hint: 'hint', counter: 'counter', newChat: 'new-chat', chip: 'model-chip', modelName: 'model-name',
  conn: 'conn', connText: 'conn-text', openSettings: 'open-settings', settings: 'settings', tokenGroup: 'token-group',
  forgetToken: 'forget-token', banner: 'banner', bannerText: 'banner-text', bannerProgress: 'banner-progress', bannerBar: 'banner-bar',
  bannerAction: 'banner-action', tokenDialog: 'token-dialog', tokenForm: 'token-form', tokenInput: 'token-input', tokenHelp: 'token-help',
  toasts: 'toasts', announce: 'announce', sidebar: 'sidebar', scrim: 'scrim', openList: 'open-list', closeList: 'close-list',
  sideNew: 'side-new', search: 'conv-search', convScroll: 'conv-scroll', convList: 'conv-list', convEmpty: 'conv-empty',
  convMore: 'conv-more', importBtn: 'import-btn', importFile: 'import-file',
}

function main() {
  const els = Object.fromEntries(Object.entries(IDS).map(([k, id]) => [k, $(id)]))
  const core = new ChatCore({ storage: store })
  const chrome = new Chrome(els, core)
  const missing = ['io', 'markdownit', 'DOMPurify'].filter((name) => typeof window[name] === 'undefined')
  if (missing.length) {
    chrome.fatal('The page is missing its libraries on the server. Whoever runs it: npm ci --prefix static, then reload.')
    return
  }
  const settings = new SettingsForm(document, core)
  chrome.settings = settings
  const scroller = new Scroller(els.scroller, els.jump)
  const composer = new Composer(els, core, {
    beforeSend: () => {
      const bad = settings.invalid()
      if (bad.length) chrome.toast(`Some settings are out of range and were not sent: ${bad.join(', ')}.`)
    },
  })
  const conn = new Connection(els, core, chrome)
  const messages = new MessagesView({ list: els.messages, empty: els.empty, core, scroller, composer, announce: (t) => chrome.announce(t),
    loadAttachment: attachmentLoader(core, () => conn.headers()) })
  composer.tray = new AttachTray({ button: $('attach'), file: $('attach-file'), tray: $('attach-tray'), form: els.form, input: els.input },
    core, () => conn.headers(), (t) => chrome.toast(t))
  const http = httpFetch(() => conn.headers())
  const list = new ConversationsView(els, core, chrome, http)
  const role = new Role({ storage: store, http, clientId: () => core.state.clientId }) // every sheet asks it
  const manage = new ManagePanel(document, role, (t) => chrome.toast(t))
  const activity = new ActivityPanel(document, http, role)
  new ConnectionNote(document, http).paint()
  const graph = new GraphPanel(document, core, () => conn.headers(), role)
  const knowledge = new KnowledgePanel(document, core, () => conn.headers(), (t) => chrome.toast(t), role)
  const train = new TrainPanel(document, core, () => conn.headers(), (t) => chrome.toast(t), role, async (name) => {
    if (await useTuned(core, http, name)) settings.load()
    else chrome.toast(`${name} is not among the local backend's models yet; try again in a moment.`)
    document.getElementById('train').close()
    els.settings.close()
  })
  const devices = new DevicesPanel(document, core, http, {
    toast: (t) => chrome.toast(t),
    reconnect: () => conn.socket && conn.socket.disconnect().connect(),
  })
  let readyCount = 0

  const paintControls = () => {
    composer.paint()
    els.newChat.disabled = !core.connected
    els.sideNew.disabled = !core.connected
  }
  core.onChange = (kind, detail) => {
    if (kind === 'messages') messages.sync()
    else if (kind === 'message') messages.update(detail)
    else if (kind === 'busy') {
      paintControls()
      messages.paintAllActions()
    } else if (kind === 'error') chrome.toast(detail)
    else if (kind === 'list' || kind === 'session') list.render()
    else if (kind === 'chat') {
      if (detail !== 'local') settings.load()
      knowledge.load()
      graph.load()
      chrome.paintHeader()
      chrome.paintBanner()
    } else if (kind === 'status') {
      settings.paintNotes()
      chrome.paintBanner()
      messages.paintStreamingStatus()
    } else if (kind === 'ready') {
      readyCount += 1
      composer.setLimit(core.state.limits.max_message_chars)
      if (core.state.limits.max_tokens) $('set-max_tokens').max = String(core.state.limits.max_tokens)
      settings.load()
      knowledge.load()
      graph.load()
      list.paintAvailable()
      list.render()
      chrome.paintHeader()
      chrome.paintBanner()
      if (readyCount === 1) scroller.toEnd(true)
      role.refresh()
      devices.onReady()
    }
  }
  core.attach(conn.transport())
  conn.onState = paintControls
  els.newChat.addEventListener('click', async () => {
    if (await core.newConversation()) els.input.focus()
  })
  fitViewport(() => { if (scroller.stick) scroller.toEnd() })

  chrome.paintHeader()
  paintControls()
  messages.sync()
  const socket = conn.connect((name, payload) => core.handle(name, payload))
  devices.redeemFromLink()
  manage.unlockFromLink()
  socket.on('graph_progress', (job) => graph.progress(job))
  if (!window.matchMedia('(pointer: coarse)').matches) els.input.focus({ preventScroll: true })

  if (new URLSearchParams(window.location.search).has('test')) {
    // Lets the browser tests look inside without reaching into module scope.
    window.__chat = { core, socket, messages, list, role, manage, activity, train, handle: (event, payload) => core.handle(event, payload) }
  }
}

main()
