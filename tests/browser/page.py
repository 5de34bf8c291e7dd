"""What the browser tests share: Chromium's place and flags, screen sizes, and helpers that read the page."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

from tests.live import Client, LiveServer, stub_args

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions"]
SLOW_TEXT = " ".join(f"w{i}" for i in range(200))
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}

# On a developer's machine a missing browser or page library skips; in CI (CI=true) it fails.
IN_CI = bool(os.environ.get("CI"))
SKIPS = [
    pytest.mark.skipif(not IN_CI and not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.skipif(not IN_CI and not os.path.exists(os.path.join(ROOT, "static", "vendor", "socket.io.min.js")),
                       reason="page libraries not installed: npm ci --prefix static"),
]


class PageRecorder:
    """A page plus what it did: every request URL, script errors and dialogs."""

    def __init__(self, context, page):
        self.context = context
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)


def connected(page, timeout=30000):
    page.wait_for_selector("#conn[data-state=connected]", timeout=timeout)


def send(page, text):
    page.fill("#input", text)
    page.press("#input", "Enter")


def finished(page, count, timeout=60000):
    """Wait until `count` replies are shown and none is streaming; return their texts."""
    page.wait_for_function(
        """n => document.querySelectorAll('.msg.assistant').length === n
             && !document.querySelector('.msg.assistant.streaming')
             && !document.querySelector('#stop:not([hidden])')""",
        arg=count, timeout=timeout)
    return page.locator(".msg.assistant .md").all_inner_texts()


def shown(page):
    """[(role, text)] of the list as a person sees it."""
    return [tuple(x) for x in page.evaluate("""() => [...document.querySelectorAll('#messages > li')].map(li => [
        li.classList.contains('user') ? 'user' : 'assistant',
        (li.querySelector('.bubble') || li.querySelector(':scope > .md') || {innerText: ''}).innerText.trim()])""")]


def session_of(page):
    return page.evaluate("JSON.parse(localStorage.getItem('chat.session_id'))")


def client_of(page):
    return page.evaluate("JSON.parse(localStorage.getItem('chat.client_id'))")


def tab_of(server, page) -> Client:
    """Another tab of the page's conversation: a python-socketio client with the page's ids."""
    return Client(server.url, session_id=session_of(page), client_id=client_of(page))


def history_of(server, page):
    c = tab_of(server, page)
    try:
        return [(m["role"], m["content"].strip()) for m in c.call("history")["history"]]
    finally:
        c.close()


def choose_model(page, model):
    page.click("#open-settings")
    page.select_option("#set-model", model)
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings", state="hidden")


def switch_on(page, checkbox, model=None):
    """In the settings tick `checkbox` (#set-knowledge, #set-graph) and pick `model` if given; back to the chat."""
    page.click("#open-settings")
    if model:
        page.select_option("#set-model", model)
    page.check(checkbox)
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings", state="hidden")


@contextmanager
def stub_server(stub, *args, **options):
    """A live server on the OpenAI stub with no chat rate limit (the pages send many), stopped on leaving."""
    s = LiveServer(*stub_args(stub, *args), **options).start()
    try:
        yield s
    finally:
        s.stop()


def streaming_text(page):
    return page.locator(".msg.assistant").last.locator(":scope > .md").inner_text()


def word_count(page):
    return len(streaming_text(page).split())


def no_horizontal_scroll(page):
    return page.evaluate("""() => {
        const d = document.documentElement;
        const wide = [...document.querySelectorAll('body *')].filter(el => {
            const r = el.getBoundingClientRect();
            return r.width && (r.right > innerWidth + 1 || r.left < -1)
                && !el.closest('pre, .table-wrap, dialog:not([open])')
                   && getComputedStyle(el).position !== 'fixed';
        }).map(el => el.className || el.tagName);
        return {scroll: d.scrollWidth <= innerWidth && document.body.scrollWidth <= innerWidth, wide};
    }""")


