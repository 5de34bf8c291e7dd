"""Fixtures of the browser tests: one Chromium per module, a live server on the stub,
pages that record what they did."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.page import ARGS, CHROMIUM, DESKTOP, PageRecorder, connected, stub_server


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(stub):
    with stub_server(stub) as s:
        yield s


@pytest.fixture
def open_page(browser, server):
    """open_page(url=None, **context_options) -> PageRecorder, already connected."""
    made: list[PageRecorder] = []

    def open_(url=None, wait=True, init_script=None, context=None, **options):
        opts = {**DESKTOP, **options}
        ctx = context or browser.new_context(**opts)
        ctx.set_default_timeout(30000)
        if init_script:
            ctx.add_init_script(init_script)
        rec = PageRecorder(ctx, ctx.new_page())
        made.append(rec)
        rec.page.goto((url or server.url) + "/?test=1")
        if wait:
            connected(rec.page)
        return rec

    yield open_
    origins = set()
    for rec in made:
        for u in rec.requests:
            parts = urlsplit(u)
            if parts.scheme in ("data", "blob"):
                continue
            origins.add(f"{parts.scheme}://{parts.netloc}")
    for rec in made:
        try:
            rec.context.close()
        except Exception:
            pass
    # Every asset and socket comes from the server itself: the page must work with no internet.
    allowed = {server.url, server.url.replace("http://", "ws://")}
    assert origins <= allowed | {u.replace("127.0.0.1", "localhost") for u in allowed}, origins
    errors = [e for rec in made for e in rec.errors
              if not any(k in e for k in ("net::ERR", "favicon", "WebSocket", "socket.io"))]
    assert not errors, errors


