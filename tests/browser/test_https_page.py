"""The page over --https in a real Chromium told to ignore the self-signed certificate: it chats over wss:// and shows
the fingerprint to compare (#36)."""
from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import ARGS, CHROMIUM, DESKTOP, SKIPS, connected, finished, send  # noqa: E402
from tests.test_https import HttpsServer  # noqa: E402

pytestmark = SKIPS


@pytest.mark.parametrize("mode", ["eventlet", "threading"])
def test_the_page_chats_over_https_and_shows_the_fingerprint(stub, mode):
    from playwright.sync_api import sync_playwright

    server = HttpsServer("--backend", "openai", "--base-url", stub.url, "--rate-per-minute", "0",
                         "--embed-model", "none",
                         async_mode=mode).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, "--ignore-certificate-errors"])
            try:
                page = browser.new_context(**DESKTOP).new_page()
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(server.url + "/?test=1")
                connected(page)
                assert page.evaluate("() => window.isSecureContext && location.protocol") == "https:"
                send(page, "hello")
                assert finished(page, 1)[0].strip().startswith("w0 w1")
                page.click("#open-settings")
                note = page.inner_text("#tls-status")
                assert server.printed_fingerprint() in note and "warns" in note
                # The socket runs over TLS too: a websocket from an https page is wss://.
                assert page.evaluate("() => window.__chat.socket.io.engine.transport.name") == "websocket"
                assert not errors, errors
            finally:
                browser.close()
    finally:
        server.stop()
