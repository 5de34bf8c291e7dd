"""The bundled chat page in a real Chromium against a live server: sending, streaming, Stop, reload and reconnect,
regenerate and edit, reasoning, long replies.

Most tests run the server on the OpenAI-compatible stub (tests/openai_stub.py), whose model
name picks the reply: "slow-200" streams 200 words 50 ms apart, "reasoner" thinks first,
"say:TEXT" says TEXT. One test uses the tiny local model when that backend exists.

Needs the page's libraries (`npm ci --prefix static`) and Chromium at /usr/bin/chromium
(or CHROMIUM=path).
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import (DESKTOP, ROOT, SKIPS, SLOW_TEXT, choose_model, connected, finished,  # noqa: E402
                                history_of, send, session_of, shown, streaming_text, word_count)
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
