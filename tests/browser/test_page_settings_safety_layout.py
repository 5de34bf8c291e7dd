"""The bundled chat page in a real Chromium against a live server: replies that cannot run code, settings,
keyboard and screen readers, phones and insecure contexts, the access token, screenshots, backend names and states.

The server runs on the OpenAI-compatible stub (tests/openai_stub.py), whose model name picks the reply:
"say:TEXT" says TEXT. Needs the page's libraries (`npm ci --prefix static`) and Chromium at /usr/bin/chromium
(or CHROMIUM=path). Screenshots go to $CHAT_SCREENSHOTS (default: a pytest temp folder).
"""
from __future__ import annotations

import os
import re
import time

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import (DESKTOP, PHONE, SKIPS, connected, finished, no_horizontal_scroll, send,  # noqa: E402
                                session_of, tab_of)
from tests.live import LiveServer  # noqa: E402

pytestmark = SKIPS


# ---------- tests ----------

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
