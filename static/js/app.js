// The chat page: speaks PROTOCOL.md over Socket.IO and keeps the DOM in step with the
// session's history. Only the streaming reply is re-rendered while tokens arrive.
import { randomId, store, h, icon, formatMs } from './util.js';
import { StreamRenderer, copyButton } from './render.js';
import { Settings } from './settings.js';

const $ = (id) => document.getElementById(id);
const els = {
  app: $('app'),
  messages: $('messages'),
  empty: $('empty'),
  emptySub: $('empty-sub'),
  scroller: $('scroller'),
  jump: $('jump'),
  form: $('composer'),
  input: $('input'),
  send: $('send'),
  stop: $('stop'),
  hint: $('hint'),
  counter: $('counter'),
  newChat: $('new-chat'),
  chip: $('model-chip'),
  modelName: $('model-name'),
  conn: $('conn'),
  connText: $('conn-text'),
  openSettings: $('open-settings'),
  settings: $('settings'),
  tokenGroup: $('token-group'),
  forgetToken: $('forget-token'),
  banner: $('banner'),
  bannerText: $('banner-text'),
  bannerProgress: $('banner-progress'),
  bannerBar: $('banner-bar'),
  bannerAction: $('banner-action'),
  tokenDialog: $('token-dialog'),
  tokenForm: $('token-form'),
  tokenInput: $('token-input'),
  tokenHelp: $('token-help'),
  toasts: $('toasts'),
  announce: $('announce'),
};

const SESSION_KEY = 'chat.session_id';
const TOKEN_KEY = 'chat.token';
const PENDING_KEY = 'chat.pending';
const DRAFT_KEY = 'chat.draft';
const SESSION_RE = /^[A-Za-z0-9_-]{1,64}$/;
const FRAME_MS = 50; // at most one repaint of the streaming reply per this many ms
const ACK_MS = 20000;

const state = {
  socket: null,
  sessionId: null,
  token: store.get(TOKEN_KEY, '') || '',
  conn: 'connecting', // connecting | connected | reconnecting | unauthorized | refused
  connMessage: '',
  readyCount: 0,
  backends: [],
  limits: {},
  entries: [], // what the list shows, oldest first
  current: null, // the reply now streaming (ours, or another tab's of this session)
  early: new Map(), // request_id -> [[event, payload]] that came before our chat's ack
  ended: new Set(), // request ids whose done is handled: later events of theirs are ignored
};

let settings = null;

// ---------- entries and their DOM ----------

/**
 * An entry is one message on screen: {role, content, reasoning, status, finish, timings,
 * usage, error, queued, li, ...}. status: 'done' (in the server's history), 'streaming',
 * or 'failed' (shown, but not in the history).
 */
function makeEntry(role, content, status = 'done') {
  return { role, content, reasoning: '', status, finish: null, timings: null, usage: null, error: null, queued: null };
}

function historyEntries() {
  return state.entries.filter((e) => e.status === 'done');
}

function buildEntry(e) {
  const li = h('li', { class: `msg ${e.role}` });
  e.li = li;
  if (e.role === 'user') {
    e.bubble = h('div', { class: 'bubble' });
    e.actions = h('div', { class: 'actions' });
    li.append(e.bubble, e.actions);
  } else {
    e.think = null;
    e.body = h('div', { class: 'md' });
    e.renderer = new StreamRenderer(e.body);
    e.statusEl = h('div', { class: 'reply-status', role: 'status' });
    e.actions = h('div', { class: 'actions' });
    li.append(e.body, e.statusEl, e.actions);
  }
  paintEntry(e, true);
  return li;
}

function paintUser(e) {
  e.bubble.textContent = e.content; // user text is never parsed as HTML
  e.li.classList.toggle('failed', e.status === 'failed');
}

function ensureThink(e) {
  if (e.think) return;
  const summary = h('summary', {}, icon('spark'), h('span', { class: 'think-label' }, 'Thinking…'));
  const body = h('div', { class: 'think-body md' });
  e.think = h('details', { class: 'thinking' }, summary, body);
  e.thinkLabel = summary.querySelector('.think-label');
  e.thinkRenderer = new StreamRenderer(body);
  e.li.insertBefore(e.think, e.body);
}

function paintAssistant(e, final) {
  const streaming = e.status === 'streaming';
  if (e.reasoning) {
    ensureThink(e);
    const thinking = streaming && !e.content;
    e.think.classList.toggle('live', thinking);
    e.thinkLabel.textContent = thinking ? 'Thinking…' : 'Thoughts';
    if (streaming) e.thinkRenderer.update(e.reasoning);
    else e.thinkRenderer.finish(e.reasoning);
  } else if (e.think) {
    e.think.remove();
    e.think = null;
  }
  if (streaming && !final) e.renderer.update(e.content);
  else e.renderer.finish(e.content);
  e.li.classList.toggle('streaming', streaming);
  e.li.classList.toggle('failed', e.status === 'failed');
  paintReplyStatus(e);
}

function paintReplyStatus(e) {
  const el = e.statusEl;
  el.replaceChildren();
  el.className = 'reply-status';
  if (e.status === 'streaming') {
    if (e.queued) {
      el.append(h('span', { class: 'pill' }, e.queued <= 1 ? 'Waiting in line: you are next' : `Waiting in line: position ${e.queued}`));
    } else if (!e.content && !e.reasoning) {
      const b = settings && settings.backend();
      if (b && b.model_ready === false) el.append(h('span', { class: 'pill' }, b.status || 'Loading the model…'));
      else el.append(h('span', { class: 'typing', 'aria-label': 'Writing' }, h('i'), h('i'), h('i')));
    }
    if (e.error) el.append(errorBox(e.error));
    return;
  }
  if (e.status === 'failed') {
    el.append(errorBox(e.error || { message: 'The reply failed.' }));
  }
}

function errorBox(err) {
  return h('div', { class: 'error-box' }, icon('alert'), h('span', {}, err.message || 'Something went wrong.'));
}

function paintActions(e) {
  const a = e.actions;
  a.replaceChildren();
  const busy = !!state.current;
  if (e.role === 'user') {
    if (e.status === 'done' && !busy) {
      a.append(h('button', { type: 'button', class: 'act-btn', 'aria-label': 'Edit and resend', title: 'Edit', onclick: () => startEdit(e) }, icon('edit')));
    }
    a.append(copyButton(() => e.content, 'Copy message'));
    return;
  }
  if (e.status === 'streaming') return;
  if (e.status === 'failed') {
    a.append(h('button', { type: 'button', class: 'act-btn wide', onclick: () => retry(e), disabled: busy }, icon('retry'), h('span', {}, 'Try again')));
    return;
  }
  a.append(copyButton(() => e.content.trim(), 'Copy reply'));
  const hist = historyEntries();
  if (!busy && hist[hist.length - 1] === e && hist.length >= 2 && hist[hist.length - 2].role === 'user') {
    a.append(h('button', { type: 'button', class: 'act-btn', 'aria-label': 'Regenerate reply', title: 'Regenerate', onclick: regenerate }, icon('regen')));
  }
  const meta = replyMeta(e);
  if (meta.length) a.append(h('span', { class: 'meta' }, meta.join(' · ')));
}

function replyMeta(e) {
  const out = [];
  if (e.finish === 'cancelled') out.push('Stopped');
  else if (e.finish === 'length') out.push('Cut at max tokens');
  const t = e.timings;
  if (t && Number.isFinite(t.tokens_per_s)) out.push(`${t.tokens_per_s.toFixed(t.tokens_per_s < 10 ? 1 : 0)} tok/s`);
  if (t && Number.isFinite(t.ttft_ms)) out.push(`${formatMs(t.ttft_ms)} to first token`);
  if (e.usage && Number.isFinite(e.usage.completion_tokens)) out.push(`${e.usage.completion_tokens} tokens`);
  return out;
}

function paintEntry(e, final = false) {
  if (e.role === 'user') paintUser(e);
  else paintAssistant(e, final);
  paintActions(e);
}

function paintAllActions() {
  for (const e of state.entries) {
    if (e.li && !e.editing) paintActions(e);
  }
}

function addEntry(e) {
  state.entries.push(e);
  els.messages.append(buildEntry(e));
  paintEmpty();
  return e;
}

function removeEntry(e) {
  const i = state.entries.indexOf(e);
  if (i >= 0) state.entries.splice(i, 1);
  if (e.li) e.li.remove();
  paintEmpty();
}

function paintEmpty() {
  els.empty.hidden = state.entries.length > 0;
}

/**
 * Make the list show `history` (the server's truth). Entries that already match are kept
 * as they are (with their timings); only the differing tail is rebuilt.
 */
function loadHistory(history) {
  const hist = Array.isArray(history) ? history.filter((m) => m && (m.role === 'user' || m.role === 'assistant')) : [];
  const shown = historyEntries();
  let k = 0;
  while (k < hist.length && k < shown.length && shown[k].role === hist[k].role && shown[k].content === hist[k].content) k += 1;
  if (k === hist.length && k === shown.length) return; // nothing changed
  const keep = new Set(shown.slice(0, k));
  for (const e of [...state.entries]) {
    if (!keep.has(e) && e.status !== 'streaming') removeEntry(e);
  }
  for (const m of hist.slice(k)) addEntry(makeEntry(m.role, String(m.content ?? '')));
  paintAllActions();
  paintEmpty();
}

// ---------- repaint scheduling ----------

const dirty = new Set();
let frameTimer = null;
let lastPaint = 0;

function schedule(e) {
  dirty.add(e);
  if (frameTimer !== null) return;
  const wait = Math.max(0, FRAME_MS - (performance.now() - lastPaint));
  frameTimer = setTimeout(() => requestAnimationFrame(flush), wait);
}

function flush() {
  frameTimer = null;
  lastPaint = performance.now();
  for (const e of dirty) {
    if (e.li && e.status === 'streaming') paintAssistant(e, false);
  }
  dirty.clear();
  stickToEnd();
}

// ---------- scrolling ----------

let stick = true;

function nearEnd() {
  const s = els.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function stickToEnd(force = false) {
  if (force) stick = true;
  if (stick) els.scroller.scrollTop = els.scroller.scrollHeight;
  els.jump.hidden = stick || nearEnd();
}

els.scroller.addEventListener('scroll', () => {
  stick = nearEnd();
  els.jump.hidden = stick;
}, { passive: true });
els.jump.addEventListener('click', () => {
  stick = true;
  els.scroller.scrollTo({ top: els.scroller.scrollHeight, behavior: 'smooth' });
  els.jump.hidden = true;
});

// ---------- socket helpers ----------

/** Emit with an acknowledgement; resolves to the ack, or to an {ok:false} that says what went wrong. */
function call(event, payload) {
  return new Promise((resolve) => {
    const s = state.socket;
    if (!s) {
      resolve({ ok: false, error: { code: 'unavailable', message: 'Not connected to the server.' } });
      return;
    }
    s.timeout(ACK_MS).emit(event, payload, (err, res) => {
      if (err) resolve({ ok: false, error: { code: 'timeout', message: 'The server did not answer. Check the connection and try again.' } });
      else if (!res || typeof res !== 'object') resolve({ ok: false, error: { code: 'internal', message: 'The server sent an unexpected answer.' } });
      else resolve(res);
    });
  });
}

function errText(res, fallback) {
  return (res && res.error && res.error.message) || fallback;
}

// ---------- requests ----------

function newRequest(user, bot) {
  return { id: null, lastSeq: -1, user, bot, error: null, stopWanted: false, syncOnDone: false };
}

function setCurrent(req) {
  state.current = req;
  paintComposer();
  paintAllActions();
}

async function sendMessage(text) {
  const message = text.replace(/\s+$/, '');
  if (!message.trim()) return false;
  if (state.current) return false;
  if (state.conn !== 'connected') {
    toast('Not connected to the server yet. Your message is still in the box.');
    return false;
  }
  const max = state.limits.max_message_chars;
  if (max && message.length > max) {
    toast(`The message is too long: ${message.length} characters, the limit is ${max}.`);
    return false;
  }
  const bad = settings.invalid();
  if (bad.length) toast(`Some settings are out of range and were not sent: ${bad.join(', ')}.`);

  const user = addEntry(makeEntry('user', message));
  const bot = addEntry(makeEntry('assistant', '', 'streaming'));
  const req = newRequest(user, bot);
  setCurrent(req);
  stickToEnd(true);

  const res = await call('chat', { message, ...settings.payload() });
  if (state.current !== req || req.id) return true; // reset while waiting, or adopted after a reconnect
  if (!res.ok) {
    failRequest(req, res.error || { message: 'The message was not accepted.' });
    return true;
  }
  req.id = String(res.request_id);
  store.set(PENDING_KEY, { session_id: state.sessionId, request_id: req.id, message });
  const early = state.early.get(req.id) || [];
  state.early.clear();
  for (const [ev, payload] of early) HANDLERS[ev](payload);
  if (req.stopWanted && state.current === req) stopReply();
  return true;
}

function failRequest(req, error) {
  req.bot.status = 'failed';
  req.bot.error = error;
  if (req.user) {
    req.user.status = 'failed';
    paintUser(req.user);
  }
  if (req.id) state.ended.add(req.id);
  state.current = null;
  state.early.clear();
  store.remove(PENDING_KEY);
  paintAssistant(req.bot, true);
  paintComposer();
  paintAllActions();
  announce(error.message || 'The reply failed.');
}

/** Which request an event of `request_id` belongs to; null when it is not one to show. */
function route(event, payload) {
  const id = payload && payload.request_id;
  if (!id || state.ended.has(id)) return null;
  const cur = state.current;
  if (cur && cur.id === id) return cur;
  if (cur && cur.id === null) {
    // our chat's ack has not come yet: keep the event until it says which request is ours
    if (!state.early.has(id)) state.early.set(id, []);
    state.early.get(id).push([event, payload]);
    return null;
  }
  if (cur) return null;
  if (event === 'error') return null;
  // Another tab of this conversation (or this tab before a reload) started this reply.
  const bot = addEntry(makeEntry('assistant', '', 'streaming'));
  const req = newRequest(null, bot);
  req.id = id;
  req.syncOnDone = true;
  setCurrent(req);
  stickToEnd();
  return req;
}

function onToken(t) {
  const req = route('token', t);
  if (!req) return;
  if (t.seq !== req.lastSeq + 1) {
    // A gap: we missed the start (another tab's reply) — ask for it all again once.
    if (req.lastSeq === -1 && !req.resumeAsked && t.seq > 0) {
      req.resumeAsked = true;
      call('resume', { request_id: req.id, after_seq: -1 });
    }
    return;
  }
  req.lastSeq = t.seq;
  const e = req.bot;
  if (t.kind === 'reasoning') e.reasoning += t.text || '';
  else e.content += t.text || '';
  e.queued = null;
  schedule(e);
}

function onQueued(q) {
  const req = route('queued', q);
  if (!req) return;
  req.bot.queued = Number(q.position) || 1;
  paintReplyStatus(req.bot);
}

function onDone(d) {
  const req = route('done', d);
  if (!req) return;
  state.ended.add(req.id);
  const e = req.bot;
  if (typeof d.text === 'string') e.content = d.text;
  if (typeof d.reasoning === 'string' && d.reasoning) e.reasoning = d.reasoning;
  e.finish = d.finish_reason || null;
  e.timings = d.timings || null;
  e.usage = d.usage || null;
  e.queued = null;
  dirty.delete(e);
  store.remove(PENDING_KEY);
  if (e.finish === 'error') {
    failRequest(req, req.error || { message: 'The reply failed.' });
  } else {
    e.status = 'done';
    state.current = null;
    paintAssistant(e, true);
    paintComposer();
    paintAllActions();
    announce(e.finish === 'cancelled' ? 'Reply stopped.' : 'Reply finished.');
  }
  stickToEnd();
  if (req.syncOnDone) syncHistory();
}

function onError(err) {
  const id = err && err.request_id;
  const cur = state.current;
  const e = { code: err.code, message: err.message || 'Something went wrong.' };
  if (id && cur && cur.id === id) {
    cur.error = e;
    cur.bot.error = e;
    paintReplyStatus(cur.bot);
  } else if (id && cur && cur.id === null) {
    route('error', err);
  } else if (!id) {
    toast(e.message);
  }
}

function onStatus(s) {
  if (!s || !s.backend) return;
  const b = state.backends.find((x) => x.name === s.backend);
  if (b) {
    b.model_ready = !!s.model_ready;
    b.status = s.message || '';
    b.progress = s.progress;
  }
  settings.updateStatus(s);
  paintBanner();
  if (state.current) paintReplyStatus(state.current.bot);
}

function onReady(r) {
  state.readyCount += 1;
  if (r.session_id && SESSION_RE.test(r.session_id)) {
    state.sessionId = r.session_id;
    store.set(SESSION_KEY, r.session_id);
  }
  state.backends = Array.isArray(r.backends) ? r.backends : [];
  state.limits = r.limits || {};
  if (state.limits.max_message_chars) els.input.maxLength = state.limits.max_message_chars;
  if (state.limits.max_tokens) $('set-max_tokens').max = String(state.limits.max_tokens);
  settings.setBackends(state.backends, r.default_backend);
  paintHeader();
  paintBanner();

  const cur = state.current;
  if (cur && cur.id) {
    resumeAfterReconnect(cur, r.history);
  } else if (cur) {
    // Our chat was sent but its ack was lost with the old connection: if the server says a
    // reply is running, it is most likely ours; follow it (the history settles it at the end).
    if (r.active_request_id && !state.ended.has(r.active_request_id)) {
      cur.id = String(r.active_request_id);
      cur.syncOnDone = true;
      cur.resumeAsked = true;
      state.early.clear();
      call('resume', { request_id: cur.id, after_seq: -1 });
    }
  } else {
    loadHistory(r.history);
    const pending = store.get(PENDING_KEY, null);
    const mine = pending && pending.session_id === state.sessionId ? pending : null;
    // Servers that say which reply is running are trusted; otherwise what this tab last sent.
    const active = 'active_request_id' in r ? r.active_request_id : (mine && mine.request_id);
    if (active && !state.ended.has(active)) joinActive(String(active), mine && mine.request_id === active ? mine.message : null);
    else store.remove(PENDING_KEY);
    if (state.readyCount === 1) stickToEnd(true);
  }
}

async function resumeAfterReconnect(req, history) {
  const res = await call('resume', { request_id: req.id, after_seq: req.lastSeq });
  if (res.ok || state.current !== req || state.ended.has(req.id)) return;
  // The server no longer knows the reply: show what the history says instead.
  state.ended.add(req.id);
  state.current = null;
  store.remove(PENDING_KEY);
  removeEntry(req.bot);
  if (req.user) removeEntry(req.user);
  loadHistory(history);
  paintComposer();
  paintAllActions();
}

/**
 * A reply of this conversation is running that this page did not start (a reload in the
 * middle of it, or another tab): show it and have it replayed from its first token.
 */
function joinActive(id, question) {
  const user = question !== null && question !== undefined ? addEntry(makeEntry('user', String(question))) : null;
  const bot = addEntry(makeEntry('assistant', '', 'streaming'));
  const req = newRequest(user, bot);
  req.id = id;
  req.syncOnDone = true; // the history is the truth once it ends
  req.resumeAsked = true;
  setCurrent(req);
  call('resume', { request_id: id, after_seq: -1 }).then((res) => {
    if (res.ok || state.current !== req) return;
    state.ended.add(id);
    state.current = null;
    store.remove(PENDING_KEY);
    removeEntry(bot);
    if (user) removeEntry(user);
    paintComposer();
    paintAllActions();
    syncHistory();
  });
}

async function syncHistory() {
  const res = await call('history', {});
  if (res.ok && !state.current) loadHistory(res.history);
}

// ---------- user actions ----------

function stopReply() {
  const req = state.current;
  if (!req) return;
  if (!req.id) {
    req.stopWanted = true;
    return;
  }
  els.stop.disabled = true;
  call('stop', { request_id: req.id }).then((res) => {
    els.stop.disabled = false;
    if (!res.ok) toast(errText(res, 'Could not stop the reply.'));
  });
}

async function regenerate() {
  if (state.current) return;
  const hist = historyEntries();
  const question = hist[hist.length - 2];
  if (!question || question.role !== 'user' || hist[hist.length - 1].role !== 'assistant') return;
  if (state.conn !== 'connected') {
    toast('Not connected to the server.');
    return;
  }
  const res = await call('truncate', { keep: hist.length - 2 });
  if (!res.ok) {
    toast(errText(res, 'Could not regenerate the reply.'));
    return;
  }
  loadHistory(res.history);
  if (!(await sendMessage(question.content))) restoreToComposer(question.content);
}

function restoreToComposer(text) {
  els.input.value = text;
  autosize(els.input, composerMax());
  paintComposer();
  saveDraft();
}

function startEdit(e) {
  if (state.current || e.editing) return;
  e.editing = true;
  const ta = h('textarea', { class: 'edit-input', 'aria-label': 'Edit message', rows: 1 });
  ta.value = e.content;
  if (state.limits.max_message_chars) ta.maxLength = state.limits.max_message_chars;
  const cancel = h('button', { type: 'button', class: 'ghost-btn' }, 'Cancel');
  const save = h('button', { type: 'submit', class: 'primary-btn' }, 'Send');
  const form = h('form', { class: 'edit-form' }, ta, h('div', { class: 'edit-actions' }, cancel, save));
  const finish = () => {
    e.editing = false;
    form.replaceWith(e.bubble);
    e.actions.hidden = false;
    paintActions(e);
  };
  cancel.addEventListener('click', finish);
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      finish();
    } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229 && !coarse()) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  ta.addEventListener('input', () => autosize(ta, 320));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = ta.value;
    if (!text.trim() || state.current) return;
    if (state.conn !== 'connected') {
      toast('Not connected to the server.');
      return;
    }
    const keep = historyEntries().indexOf(e);
    if (keep < 0) {
      finish();
      return;
    }
    save.disabled = true;
    const res = await call('truncate', { keep });
    if (!res.ok) {
      save.disabled = false;
      toast(errText(res, 'Could not edit the message.'));
      return;
    }
    e.editing = false;
    loadHistory(res.history);
    stickToEnd(true);
    if (!(await sendMessage(text))) restoreToComposer(text); // the history is cut: keep the words
  });
  e.bubble.replaceWith(form);
  e.actions.hidden = true;
  autosize(ta, 320);
  ta.focus();
  ta.setSelectionRange(ta.value.length, ta.value.length);
}

function retry(e) {
  if (state.current) return;
  const i = state.entries.indexOf(e);
  const user = i > 0 ? state.entries[i - 1] : null;
  removeEntry(e);
  if (user && user.role === 'user' && user.status === 'failed') {
    removeEntry(user);
    sendMessage(user.content);
  }
}

async function newConversation() {
  if (state.conn !== 'connected') {
    toast('Not connected to the server.');
    return;
  }
  const cur = state.current;
  if (cur && cur.id) state.ended.add(cur.id);
  state.current = null;
  state.early.clear();
  store.remove(PENDING_KEY);
  for (const e of [...state.entries]) removeEntry(e);
  paintComposer();
  els.input.focus();
  const res = await call('reset', {});
  if (!res.ok) {
    toast(errText(res, 'Could not start a new conversation.'));
    syncHistory();
  }
}

// ---------- composer ----------

function coarse() {
  return window.matchMedia('(pointer: coarse)').matches;
}

function autosize(ta, maxPx) {
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight + 2, maxPx)}px`;
}

function composerMax() {
  return Math.max(96, Math.round(els.app.clientHeight * 0.4));
}

function paintComposer() {
  const streaming = !!state.current;
  els.send.hidden = streaming;
  els.stop.hidden = !streaming;
  els.stop.disabled = false;
  const empty = !els.input.value.trim();
  els.send.disabled = empty || state.conn !== 'connected';
  els.newChat.disabled = state.conn !== 'connected';
  const max = state.limits.max_message_chars;
  const n = els.input.value.length;
  if (max && n > max * 0.8) {
    els.counter.hidden = false;
    els.counter.textContent = `${n} / ${max}`;
    els.counter.classList.toggle('over', n >= max);
  } else {
    els.counter.hidden = true;
  }
}

els.input.addEventListener('input', () => {
  autosize(els.input, composerMax());
  paintComposer();
  saveDraft();
});

els.input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229 && !coarse()) {
    ev.preventDefault();
    els.form.requestSubmit();
  } else if (ev.key === 'Escape' && state.current) {
    ev.preventDefault();
    stopReply();
  }
});

els.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = els.input.value;
  if (!text.trim() || state.current) return;
  const ok = await sendMessage(text);
  if (ok) {
    if (els.input.value === text) els.input.value = '';
    autosize(els.input, composerMax());
    saveDraft();
    paintComposer();
  }
});

els.stop.addEventListener('click', stopReply);
els.newChat.addEventListener('click', newConversation);

let draftTimer = null;
function saveDraft() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(() => {
    if (els.input.value) store.set(DRAFT_KEY, els.input.value);
    else store.remove(DRAFT_KEY);
  }, 300);
}

// ---------- header, banner, toasts ----------

function paintHeader() {
  const b = settings.backend();
  const model = settings.model();
  els.modelName.textContent = model || (b && b.name) || 'Chat';
  els.chip.title = b ? `${b.name} · ${model || b.default_model || ''}` : 'Settings';
  const labels = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    unauthorized: 'Access token needed',
    refused: 'Not connected',
  };
  els.conn.dataset.state = state.conn;
  els.connText.textContent = labels[state.conn] || state.conn;
  els.chip.setAttribute('aria-label', `Model ${els.modelName.textContent}, ${els.connText.textContent}. Open settings`);
  els.tokenGroup.hidden = !state.token;
}

let reconnectShownAt = 0;
function paintBanner() {
  let text = '';
  let progress = null;
  let kind = 'info';
  if (state.conn === 'unauthorized') {
    text = 'This server needs an access token.';
    kind = 'warn';
  } else if (state.conn === 'refused') {
    text = state.connMessage || 'The server refused the connection. Retrying…';
    kind = 'warn';
  } else if (state.conn === 'reconnecting' && Date.now() - reconnectShownAt > 1200) {
    text = 'Connection lost. Reconnecting…';
    kind = 'warn';
  } else if (state.conn === 'connected') {
    const b = settings.backend();
    if (b && b.model_ready === false) {
      text = b.status || 'Loading the model…';
      if (Number.isFinite(b.progress)) progress = Math.max(0, Math.min(1, b.progress));
    }
  }
  els.bannerAction.hidden = state.conn !== 'unauthorized';
  els.banner.hidden = !text;
  els.banner.dataset.kind = kind;
  els.bannerText.textContent = text;
  els.bannerProgress.hidden = progress === null;
  if (progress !== null) els.bannerBar.style.width = `${Math.round(progress * 100)}%`;
}

function toast(message) {
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
  const t = h('div', { class: 'toast' }, h('span', {}, message), close);
  const remove = () => t.remove();
  close.addEventListener('click', remove);
  els.toasts.append(t);
  setTimeout(remove, 7000);
  while (els.toasts.children.length > 3) els.toasts.firstElementChild.remove();
}

let announceTimer = null;
function announce(text) {
  clearTimeout(announceTimer);
  els.announce.textContent = '';
  announceTimer = setTimeout(() => { els.announce.textContent = text; }, 50);
}

function setConn(conn, message = '') {
  if (conn === 'reconnecting' && state.conn !== 'reconnecting') {
    reconnectShownAt = Date.now();
    setTimeout(paintBanner, 1300);
  }
  state.conn = conn;
  state.connMessage = message;
  paintHeader();
  paintBanner();
  paintComposer();
}

// ---------- settings and token dialogs ----------

function openSettings() {
  if (!els.settings.open) els.settings.showModal();
}
els.openSettings.addEventListener('click', openSettings);
els.chip.addEventListener('click', openSettings);
els.settings.addEventListener('click', (ev) => {
  if (ev.target === els.settings) els.settings.close(); // a tap on the backdrop
});
els.settings.addEventListener('close', paintHeader); // the dialog gives focus back by itself
els.forgetToken.addEventListener('click', () => {
  state.token = '';
  store.remove(TOKEN_KEY);
  paintHeader();
  toast('The access token is forgotten on this device.');
});

let tokenAsked = false;
function askToken(rejected) {
  els.tokenHelp.textContent = rejected
    ? 'That access token was not accepted. Check it and try again.'
    : 'This server needs an access token. Ask whoever runs it.';
  els.tokenInput.value = '';
  if (!els.tokenDialog.open) els.tokenDialog.showModal();
  els.tokenInput.focus();
}
els.tokenForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = els.tokenInput.value.trim();
  if (!token) return;
  state.token = token;
  store.set(TOKEN_KEY, token);
  els.tokenDialog.close();
  setConn('connecting');
  state.socket.connect();
});
els.bannerAction.addEventListener('click', () => {
  if (state.conn === 'unauthorized') askToken(false);
});

// ---------- viewport: keep the composer above the on-screen keyboard ----------

function fitViewport() {
  const vv = window.visualViewport;
  if (!vv || vv.scale > 1.01) return; // pinch zoom: leave the layout alone
  const root = document.documentElement.style;
  root.setProperty('--app-h', `${Math.round(vv.height)}px`);
  root.setProperty('--app-top', `${Math.round(vv.offsetTop)}px`);
  if (stick) stickToEnd();
}
if (window.visualViewport) {
  window.visualViewport.addEventListener('resize', fitViewport);
  window.visualViewport.addEventListener('scroll', fitViewport);
  fitViewport();
}

// ---------- start ----------

const HANDLERS = { token: onToken, queued: onQueued, done: onDone, error: onError };

function connect() {
  let sid = store.get(SESSION_KEY, null);
  if (typeof sid !== 'string' || !SESSION_RE.test(sid)) {
    sid = `w${randomId(23)}`;
    store.set(SESSION_KEY, sid);
  }
  state.sessionId = sid;

  const socket = window.io({
    auth: (cb) => cb(state.token ? { session_id: state.sessionId, token: state.token } : { session_id: state.sessionId }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
    timeout: 10000,
  });
  state.socket = socket;

  socket.on('connect', () => {
    tokenAsked = false;
    setConn('connected');
  });
  socket.on('disconnect', (reason) => {
    setConn('reconnecting');
    // The server closed us on purpose: socket.io does not retry by itself then.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
  });
  socket.on('connect_error', (err) => {
    const msg = (err && err.message) || '';
    if (msg === 'unauthorized') {
      const hadToken = !!state.token;
      setConn('unauthorized');
      if (!tokenAsked || hadToken) {
        tokenAsked = true;
        askToken(hadToken);
      }
      return;
    }
    if (socket.active) {
      setConn('reconnecting'); // a network failure: socket.io retries by itself
    } else {
      // refused by the server for another reason (too many connections, ...): retry slowly
      setConn('refused', msg ? `The server refused the connection: ${msg}. Retrying…` : '');
      setTimeout(() => { if (!socket.connected) socket.connect(); }, 3000);
    }
  });
  socket.on('ready', onReady);
  socket.on('token', onToken);
  socket.on('queued', onQueued);
  socket.on('done', onDone);
  socket.on('error', onError);
  socket.on('status', onStatus);
}

function fatal(message) {
  els.banner.hidden = false;
  els.banner.dataset.kind = 'warn';
  els.bannerText.textContent = message;
  els.connText.textContent = 'Not started';
  els.send.disabled = true;
}

function main() {
  const missing = ['io', 'markdownit', 'DOMPurify'].filter((name) => typeof window[name] === 'undefined');
  if (missing.length) {
    fatal('The page is missing its libraries on the server. Whoever runs it: npm ci --prefix static, then reload.');
    return;
  }
  if (!coarse()) {
    els.input.setAttribute('enterkeyhint', 'send');
  } else {
    els.input.setAttribute('enterkeyhint', 'enter');
    els.hint.classList.add('touch');
  }
  settings = new Settings(document);
  settings.onChange(() => {
    paintHeader();
    paintBanner();
  });
  const draft = store.get(DRAFT_KEY, '');
  if (typeof draft === 'string' && draft) {
    els.input.value = draft;
    autosize(els.input, composerMax());
  }
  paintHeader();
  paintComposer();
  paintEmpty();
  connect();
  if (!coarse()) els.input.focus({ preventScroll: true });

  if (new URLSearchParams(window.location.search).has('test')) {
    // Lets the browser tests look inside without reaching into module scope.
    const handlers = { ready: onReady, token: onToken, queued: onQueued, done: onDone, error: onError, status: onStatus };
    window.__chat = { state, settings, loadHistory, handle: (event, payload) => handlers[event](payload) };
  }
}

main();

