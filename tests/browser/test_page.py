"""The bundled chat page in a real Chromium against a live server.

Most tests run the server on the OpenAI-compatible stub (tests/openai_stub.py), whose model
name picks the reply: "slow-200" streams 200 words 50 ms apart, "reasoner" thinks first,
"say:TEXT" says TEXT. One test uses the tiny local model when that backend exists.

Needs the page's libraries (`npm ci --prefix static`) and Chromium at /usr/bin/chromium
(or CHROMIUM=path). Screenshots go to $CHAT_SCREENSHOTS (default: a pytest temp folder).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import (DESKTOP, PHONE, ROOT, SKIPS, SLOW_TEXT, choose_model, connected, finished,  # noqa: E402
                                history_of, no_horizontal_scroll, send, session_of, shown, streaming_text, tab_of,
                                word_count)
from tests.live import LiveServer  # noqa: E402

pytestmark = SKIPS


# ---------- tests ----------

def test_chat_streams_then_ends(open_page):
    rec = open_page()
    page = rec.page
    choose_model(page, "slow-200")
    page.evaluate("document.querySelector('#messages').dataset.mark = 'same-list'")
    send(page, "Count for me")
    page.wait_for_selector(".msg.assistant.streaming")
    first_user = page.locator(".msg.user .bubble").first.element_handle()
    seen = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and len(set(seen)) < 4:
        seen.append(word_count(page))
        time.sleep(0.25)
    assert len(set(seen)) >= 4 and seen == sorted(seen), seen  # the text grows while it streams
    assert seen[-1] < 200
    assert page.is_visible("#stop") and not page.is_visible("#send")
    texts = finished(page, 1, timeout=60000)
    assert texts == [SLOW_TEXT]
    # Only the streaming reply was redrawn: the question above kept its node.
    assert first_user.evaluate("el => el.isConnected")
    meta = page.locator(".msg.assistant .meta").inner_text()
    assert "tok/s" in meta and "to first token" in meta
    assert page.is_visible("#send") and not page.is_visible("#stop")


def test_stop_ends_reply_and_marks_it(open_page, server):
    page = open_page().page
    choose_model(page, "slow-200")
    send(page, "Go on forever")
    page.wait_for_function("() => (document.querySelector('.msg.assistant .md')?.innerText || '')"
                           ".split(/\\s+/).length >= 5")
    page.click("#stop")
    texts = finished(page, 1, timeout=20000)
    n = len(texts[0].split())
    assert 3 <= n < 200, texts
    assert "Stopped" in page.locator(".msg.assistant .meta").inner_text()
    # the partial reply is kept, as the server keeps it
    hist = history_of(server, page)
    assert hist[0] == ("user", "Go on forever") and hist[1][0] == "assistant"
    assert SLOW_TEXT.startswith(hist[1][1].strip())


def test_reload_keeps_the_conversation(open_page):
    rec = open_page()
    page = rec.page
    send(page, "Remember me")
    finished(page, 1)
    sid = session_of(page)
    page.reload()
    connected(page)
    page.wait_for_selector(".msg.assistant")
    assert session_of(page) == sid
    assert shown(page) == [("user", "Remember me"), ("assistant", "w0 w1 w2 w3 w4")]


def test_reload_mid_reply_replays_it(open_page, server):
    page = open_page().page
    choose_model(page, "slow-200")
    send(page, "Long one")
    page.wait_for_function("() => (document.querySelector('.msg.assistant .md')?.innerText || '')"
                           ".split(/\\s+/).length >= 5")
    page.reload()
    connected(page)
    page.wait_for_selector(".msg.assistant.streaming", timeout=10000)
    assert shown(page)[0] == ("user", "Long one")
    texts = finished(page, 1, timeout=60000)
    assert texts == [SLOW_TEXT]
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2")
    assert shown(page) == [("user", "Long one"), ("assistant", SLOW_TEXT)]


def test_reconnect_resumes_without_gaps(open_page):
    page = open_page().page
    choose_model(page, "slow-200")
    send(page, "Keep going")
    page.wait_for_function("() => (document.querySelector('.msg.assistant .md')?.innerText || '')"
                           ".split(/\\s+/).length >= 5")
    # Drop the connection as a phone leaving the hotspot would; socket.io reconnects by itself.
    page.evaluate("window.__chat.socket.io.engine.close()")
    page.wait_for_selector("#conn[data-state=reconnecting]", timeout=5000)
    connected(page)
    texts = finished(page, 1, timeout=60000)
    assert texts == [SLOW_TEXT]  # every word once, in order


def test_unsafe_reply_runs_nothing(open_page, server):
    rec = open_page()
    page = rec.page
    page.evaluate("window.__xss = 0")
    reply = ('<img src=x onerror="window.__xss=1;alert(1)"> [click](javascript:window.__xss=2) '
             '<script>window.__xss=3</script> ![pic](http://198.51.100.7/p.png) '
             '<a href="javascript:window.__xss=4">a</a> <iframe src="http://198.51.100.7/"></iframe>')
    # Another tab of the same conversation asks: the page shows that reply as it streams.
    c = tab_of(server, page)
    try:
        rid = c.chat("show me html", model="say:" + reply)
        c.wait_done(rid)
    finally:
        c.close()
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2 "
                           "&& !document.querySelector('.streaming')", timeout=20000)
    body = page.locator(".msg.assistant .md")
    handlers = body.evaluate("""el => [...el.querySelectorAll('*')].flatMap(n => [...n.attributes]
        .filter(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))
        .map(a => n.tagName + ' ' + a.name))""")
    assert handlers == []
    assert '<img src=x onerror="window.__xss=1;alert(1)">' in body.inner_text()  # shown as text
    assert body.locator("img[src], script, iframe").count() == 0
    assert body.locator("a[href^='javascript' i]").count() == 0
    assert "[image: pic]" in body.inner_text()
    # Click every link whose href was taken away; nothing may run.
    for a in body.locator("a:not([href])").all():
        a.click()
    # User text is shown as text, never as HTML.
    send(page, '<img src=y onerror="window.__xss=5">')
    finished(page, 2)
    assert page.locator(".msg.user .bubble").last.inner_text() == '<img src=y onerror="window.__xss=5">'
    time.sleep(0.3)
    assert page.evaluate("window.__xss") == 0
    assert rec.dialogs == []
    assert not any("198.51.100.7" in u for u in rec.requests)
    for a in body.locator("a[href]").all():
        assert a.get_attribute("rel") == "noopener noreferrer nofollow" and a.get_attribute("target") == "_blank"


def test_regenerate_replaces_last_reply(open_page, server, stub):
    page = open_page().page
    send(page, "hello")
    finished(page, 1)
    before = len(stub.requests)
    page.click(".msg.assistant .actions button[aria-label='Regenerate reply']")
    deadline = time.monotonic() + 20
    while len(stub.requests) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    finished(page, 1)
    assert len(stub.requests) == before + 1
    sent = [m for m in stub.requests[-1]["messages"] if m["role"] != "system"]
    assert sent == [{"role": "user", "content": "hello"}]  # the old reply was truncated away
    assert shown(page) == [("user", "hello"), ("assistant", "w0 w1 w2 w3 w4")]
    assert history_of(server, page) == [("user", "hello"), ("assistant", "w0 w1 w2 w3 w4")]


def test_edit_and_resend(open_page, server, stub):
    page = open_page().page
    send(page, "first")
    finished(page, 1)
    send(page, "second")
    finished(page, 2)
    first = page.locator(".msg.user").first
    first.hover()
    first.locator("button[aria-label='Edit and resend']").click()
    page.fill(".edit-input", "edited")
    page.press(".edit-input", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2")
    finished(page, 1)
    assert shown(page) == [("user", "edited"), ("assistant", "w0 w1 w2 w3 w4")]
    sent = [m for m in stub.requests[-1]["messages"] if m["role"] != "system"]
    assert sent == [{"role": "user", "content": "edited"}]
    assert history_of(server, page) == [("user", "edited"), ("assistant", "w0 w1 w2 w3 w4")]


def test_settings_persist_and_are_sent(open_page, stub):
    page = open_page().page
    page.click("#open-settings")
    page.select_option("#set-model", "words-5")
    page.fill("#set-system", "Be brief.")
    page.fill("#set-temperature", "0.3")
    page.fill("#set-top_p", "0.9")
    page.fill("#set-top_k", "5")
    page.fill("#set-max_tokens", "64")
    page.fill("#set-repetition_penalty", "1.1")
    page.keyboard.press("Escape")
    page.reload()
    connected(page)
    values = page.evaluate("""() => ['set-model', 'set-system', 'set-temperature', 'set-top_p', 'set-top_k',
        'set-max_tokens', 'set-repetition_penalty'].map(id => document.getElementById(id).value)""")
    assert values == ["words-5", "Be brief.", "0.3", "0.9", "5", "64", "1.1"]
    send(page, "hi")
    finished(page, 1)
    body = stub.requests[-1]
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9 and body["max_tokens"] == 64
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    # an out-of-range value is flagged and not sent
    page.click("#open-settings")
    page.fill("#set-temperature", "7")
    assert page.get_attribute("#set-temperature", "aria-invalid") == "true"
    page.click("#reset-params")
    page.keyboard.press("Escape")
    page.reload()
    connected(page)
    assert page.input_value("#set-temperature") == "" and page.input_value("#set-system") == "Be brief."


def test_reasoning_shows_in_a_collapsed_block(open_page):
    page = open_page().page
    choose_model(page, "reasoner")
    send(page, "Think first")
    finished(page, 1)
    think = page.locator(".msg.assistant details.thinking")
    assert think.count() == 1
    assert think.get_attribute("open") is None
    assert page.locator(".msg.assistant > .md").inner_text() == "The answer."
    think.locator("summary").click()
    assert think.locator(".think-body").inner_text() == "Let me think."


def test_new_conversation_empties_it(open_page, server):
    page = open_page().page
    send(page, "one")
    finished(page, 1)
    page.click("#new-chat")
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 0")
    assert page.is_visible("#empty")
    time.sleep(0.3)
    assert history_of(server, page) == []
    page.reload()
    connected(page)
    assert page.locator("#messages > li").count() == 0


def test_keyboard_enter_sends_shift_enter_newline(open_page):
    page = open_page().page
    page.focus("#input")
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    assert page.input_value("#input") == "line one\nline two"
    page.keyboard.press("Enter")
    finished(page, 1)
    assert page.locator(".msg.user .bubble").inner_text() == "line one\nline two"
    assert page.input_value("#input") == ""
    # Every control has a name a screen reader can say, and Tab reaches the settings.
    unnamed = page.evaluate("""() => [
        ...document.querySelectorAll('button, input:not([type=hidden]):not([hidden]), select, textarea')]
        .filter(el => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim() || el.title))
        .map(el => el.outerHTML.slice(0, 80))""")
    assert unnamed == []
    page.keyboard.press("Shift+Tab")
    for _ in range(8):
        if page.evaluate("document.activeElement.id") == "open-settings":
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "open-settings"
    page.keyboard.press("Enter")
    page.wait_for_selector("#settings[open]")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_works_without_secure_context_apis(open_page):
    # What a phone sees on http://192.168.x.y: no clipboard API, no crypto.randomUUID.
    insecure = """
        Object.defineProperty(window, 'isSecureContext', {get: () => false});
        Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});
        delete Crypto.prototype.randomUUID;
        window.__copied = [];
        const exec = Document.prototype.execCommand;
        Document.prototype.execCommand = function (cmd, ...rest) {
            if (cmd === 'copy') { window.__copied.push(document.activeElement.value); return true; }
            return exec.call(this, cmd, ...rest);
        };
    """
    rec = open_page(init_script=insecure, **PHONE)
    page = rec.page
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", session_of(page))
    send_button_click(page, "copy this")
    finished(page, 1)
    page.click(".msg.assistant .actions button[aria-label='Copy reply']")
    assert page.evaluate("window.__copied") == ["w0 w1 w2 w3 w4"]
    assert page.locator(".msg.assistant .actions .act-btn.done").count() == 1


def send_button_click(page, text):
    """On a touch screen Enter is a new line: the send button sends."""
    before = page.locator(".msg.user").count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    assert page.locator(".msg.user").count() == before
    assert page.input_value("#input") == text + "\n"
    page.fill("#input", text)
    page.tap("#send")


def test_phone_layout_has_no_horizontal_scroll(open_page, server):
    page = open_page(**PHONE).page
    long_reply = ("A very long word: " + "x" * 90 + " and a URL https://example.com/" + "y" * 50
                  + "\n\n```python\nprint('" + "z" * 90 + "')\n```\n\n| a | b | c |\n|---|---|---|\n| "
                  + "cell " * 8 + "| " + "q" * 30 + " | 3 |")
    assert len(long_reply) < 500
    c = tab_of(server, page)
    try:
        c.wait_done(c.chat("u" * 400, model="say:" + long_reply))
    finally:
        c.close()
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2 && "
                           "!document.querySelector('.streaming')")
    result = no_horizontal_scroll(page)
    assert result == {"scroll": True, "wide": []}
    # the composer is inside the viewport, at the bottom
    box = page.locator("#composer").bounding_box()
    assert box["y"] + box["height"] <= 844 and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_access_token_form(browser, stub):
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--token", "s3cret").start()
    try:
        ctx = browser.new_context(**DESKTOP)
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + "/")
        page.wait_for_selector("#token-dialog[open]")
        page.keyboard.press("Escape")  # closed by mistake: the banner offers it again
        page.wait_for_selector("#token-dialog", state="hidden")
        assert page.inner_text("#conn-text") == "Access token needed"
        page.click("#banner-action")
        page.wait_for_selector("#token-dialog[open]")
        page.fill("#token-input", "wrong")
        page.press("#token-input", "Enter")
        page.wait_for_function("() => document.querySelector('#token-help').textContent.includes('not accepted')")
        page.fill("#token-input", "s3cret")
        page.click("#token-form button[type=submit]")
        connected(page)
        assert page.evaluate("JSON.parse(localStorage.getItem('chat.token'))") == "s3cret"
        page.reload()
        connected(page)
        assert not page.is_visible("#token-dialog")
        assert dialogs == []  # no prompt()
        ctx.close()
    finally:
        server.stop()


RICH = ("Use a `with` block so the file is closed for you:\n\n```python\nwith open('notes.txt') as f:\n"
        "    for line in f:\n        print(line.rstrip())\n```\n\n| mode | meaning |\n|---|---|\n| `r` | read |\n"
        "| `a` | append |\n\n1. Open the file\n2. Read it\n\nSee [the docs](https://docs.python.org/3/).")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_screenshots(open_page, server, tmp_path, scheme, size):
    out = os.environ.get("CHAT_SCREENSHOTS") or str(tmp_path)
    os.makedirs(out, exist_ok=True)
    opts = PHONE if size == "phone" else DESKTOP
    page = open_page(color_scheme=scheme, **opts).page
    c = tab_of(server, page)
    try:
        c.wait_done(c.chat("How do I read a file line by line in Python?", model="say:" + RICH))
    finally:
        c.close()
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2 && "
                           "!document.querySelector('.streaming')")
    send(page, "Thanks!") if size == "desktop" else send_button_click(page, "Thanks!")
    finished(page, 2)
    page.evaluate("document.activeElement.blur()")
    path = os.path.join(out, f"chat-{size}-{scheme}.png")
    page.screenshot(path=path)
    assert os.path.getsize(path) > 10000
    assert no_horizontal_scroll(page) == {"scroll": True, "wide": []}
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (bg == "rgb(255, 255, 255)") == (scheme == "light")
    page.click("#open-settings")
    page.screenshot(path=os.path.join(out, f"settings-{size}-{scheme}.png"))


def test_eventlet_server_streams_and_reloads(browser, stub):
    """The default async mode, as users run it."""
    pytest.importorskip("eventlet")
    server = LiveServer("--backend", "openai", "--base-url", stub.url, async_mode="eventlet").start()
    try:
        ctx = browser.new_context(**DESKTOP)
        page = ctx.new_page()
        page.goto(server.url + "/")
        connected(page)
        send(page, "hello")
        finished(page, 1)
        page.reload()
        connected(page)
        page.wait_for_selector(".msg.assistant")
        assert shown(page) == [("user", "hello"), ("assistant", "w0 w1 w2 w3 w4")]
        ctx.close()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    subprocess.run([sys.executable, "-m", "tests.tinymodel", str(out), "--endless"], cwd=ROOT, check=True)
    return str(out)


def test_local_model_streams_queues_and_stops(browser, tiny_model):
    # One request at a time, so that the second person sees the queue (by default the two would share a batch).
    server = LiveServer("--backend", "local", "--model", tiny_model, "--batch-size", "1").start(timeout=300)
    try:
        pages = []
        for _ in range(2):  # two people, two conversations, one model
            ctx = browser.new_context(**DESKTOP)
            ctx.set_default_timeout(60000)
            page = ctx.new_page()
            page.goto(server.url + "/")
            connected(page)
            page.click("#open-settings")
            page.fill("#set-max_tokens", "2000")
            page.keyboard.press("Escape")
            pages.append(page)
        first, second = pages
        send(first, "Tell me a long story")
        first.wait_for_function("() => (document.querySelector('.msg.assistant .md')?.innerText || '').length > 20")
        n1 = len(streaming_text(first))
        first.wait_for_function("n => (document.querySelector('.msg.assistant .md')?.innerText || '').length > n",
                                arg=n1)
        send(second, "Me too")
        second.wait_for_selector(".msg.assistant .reply-status .pill:has-text('Waiting in line')")
        first.click("#stop")
        finished(first, 1, timeout=30000)
        assert "Stopped" in first.locator(".msg.assistant .meta").inner_text()
        # the one waiting goes next
        second.wait_for_function("() => (document.querySelector('.msg.assistant .md')?.innerText || '').length > 10")
        assert second.locator(".reply-status .pill").count() == 0
        second.click("#stop")
        finished(second, 1, timeout=30000)
        for page in pages:
            page.context.close()
    finally:
        server.stop()


LONG_MD = "\n\n".join(
    f"## Part {i}\n\nSome text for part {i}, with `code` and **bold** words that go on for a while.\n\n"
    f"- item one of {i}\n- item two of {i}\n\n```python\ndef part_{i}():\n    return {i}\n```"
    for i in range(40))


def test_long_reply_redraws_only_its_tail_at_a_bounded_rate(open_page):
    """Tokens come much faster than frames: the page draws at most every ~50 ms, and keeps finished blocks."""
    page = open_page().page
    result = page.evaluate("""async (text) => {
        const chat = window.__chat;
        const pieces = text.match(/[\\s\\S]{1,6}/g);
        chat.handle('token', {request_id: 'fake-long', seq: 0, text: pieces[0]});
        const md = document.querySelector('.msg.assistant:last-child > .md');
        let batches = 0;
        new MutationObserver(() => { batches += 1; })
            .observe(md, {childList: true, subtree: true, characterData: true});
        let firstHeading = null;
        const t0 = performance.now();
        for (let i = 1; i < pieces.length; i++) {
            chat.handle('token', {request_id: 'fake-long', seq: i, text: pieces[i]});
            if (i % 20 === 0) await new Promise(r => setTimeout(r, 2));
            if (!firstHeading) firstHeading = md.querySelector('.md-frozen h2');
        }
        await new Promise(r => setTimeout(r, 200));
        const elapsed = performance.now() - t0;
        return {
            batches, elapsed, n: pieces.length,
            shown: md.innerText.length,
            sameHeading: !!firstHeading && firstHeading.isConnected
                && firstHeading === md.querySelector('.md-frozen h2'),
            frozenBlocks: md.querySelector('.md-frozen').children.length,
            tail: chat.messages.last().renderer.tailSrc.length,
            codeCopy: md.querySelectorAll('.code-block .mini-btn').length,
        };
    }""", LONG_MD)
    assert result["n"] > 1000
    assert result["batches"] <= result["elapsed"] / 40 + 5, result  # coalesced: not one redraw per token
    assert result["sameHeading"], result  # finished blocks are not redrawn
    assert result["frozenBlocks"] > 100 and result["tail"] < 200, result
    assert result["codeCopy"] == 40, result
    assert result["shown"] > 3000


def test_backends_are_named_by_their_label_and_hint(open_page):
    """Where the model is chosen, the server's label and one-line hint (#11); the name where it gives none."""
    page = open_page().page
    page.evaluate("""() => { const s = window.__chat.core.state; window.__chat.handle('ready', {
        session_id: s.sessionId, client_id: s.clientId, history: [], default_backend: 'local', limits: {},
        backends: [{name: 'local', models: ['gemma-3-270m'], default_model: 'gemma-3-270m', model_ready: true,
                    label: 'built-in demo model (Gemma 3 270M, base)',
                    hint: 'For better answers put a DeepSeek key in .env, or run with --model PATH.'},
                   {name: 'openai', models: ['words-5'], default_model: 'words-5', model_ready: true}]}) }""")
    page.click("#open-settings")
    options = page.locator("#set-backend option").all_inner_texts()
    assert options == ["built-in demo model (Gemma 3 270M, base) (default)", "openai"]
    assert page.inner_text("#backend-hint") == \
        "For better answers put a DeepSeek key in .env, or run with --model PATH."
    page.keyboard.press("Escape")
    assert page.inner_text("#model-name") == "built-in demo model (Gemma 3 270M, base)"
    page.click("#open-settings")
    page.select_option("#set-backend", "openai")
    assert page.inner_text("#backend-hint") == ""
    page.keyboard.press("Escape")
    assert page.inner_text("#model-name") == "words-5"


def test_states_are_shown(open_page):
    """Model loading with progress, queue position, errors as readable messages."""
    page = open_page().page
    chat = "(e, p) => window.__chat.handle(e, p)"
    page.evaluate(f"({chat})('status', "
                  f"{{backend: 'openai', model_ready: false, progress: 0.35, message: 'Loading model (35%)'}})")
    assert page.inner_text("#banner-text") == "Loading model (35%)"
    assert page.evaluate("document.getElementById('banner-bar').style.width") == "35%"
    page.evaluate(f"({chat})('status', {{backend: 'openai', model_ready: true, message: ''}})")
    assert not page.is_visible("#banner")
    page.evaluate(f"({chat})('queued', {{request_id: 'fake-q', position: 2}})")
    assert "position 2" in page.inner_text(".msg.assistant .reply-status")
    page.evaluate(f"({chat})('error', "
                  f"{{request_id: 'fake-q', code: 'unavailable', message: 'The model server is down.'}})")
    page.evaluate(f"({chat})('done', {{request_id: 'fake-q', finish_reason: 'error', text: ''}})")
    assert "The model server is down." in page.inner_text(".msg.assistant .error-box")
    page.evaluate(f"({chat})('error', {{code: 'rate_limited', message: 'Slow down a little.'}})")
    assert "Slow down a little." in page.inner_text("#toasts")
