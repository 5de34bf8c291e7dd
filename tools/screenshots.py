"""Screenshots of the page for the README: a phone and a desktop asking the built-in model (run by hand).

python -m tools.screenshots  (needs Chromium and `npm ci --prefix static`; writes docs/img/*.png)
"""
from __future__ import annotations

import os
import time

from tests.browser.page import ARGS, CHROMIUM, DESKTOP, PHONE, connected, shown
from tests.live import ROOT, LiveServer

QUESTIONS = ["What is the capital of France?", "Name three planets of the solar system."]


def replied(page, count: int, timeout: float = 180) -> None:
    """Wait until `count` replies are shown whole (none streaming any more)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = [text for role, text in shown(page) if role == "assistant" and text]
        if len(replies) >= count and not page.query_selector(".streaming"):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{count} replies not shown in {timeout} s: {shown(page)}")


def shoot(browser, url: str, options: dict, path: str) -> None:
    """Open the page, ask each question of the built-in model, wait for the replies, and save the screen."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(url)
    connected(page, timeout=180000)
    for n, question in enumerate(QUESTIONS, 1):
        page.fill("#input", question)
        page.click("#send")  # on a touch screen Enter is a new line
        replied(page, n)
    page.screenshot(path=path)
    context.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    server = LiveServer("--store", "memory", "--embed-model", "none", async_mode="eventlet").start(timeout=300)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name, options in (("phone", PHONE), ("desktop", DESKTOP)):
                path = os.path.join(ROOT, "docs", "img", f"chat-{name}.png")
                shoot(browser, server.url, options, path)
                print(path, os.path.getsize(path), "bytes")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
