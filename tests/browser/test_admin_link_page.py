"""The admin link the server prints at first start (#39), opened in a real Chromium: it unlocks, and leaves no trace."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import SKIPS, connected, stub_server  # noqa: E402

pytestmark = SKIPS


@pytest.fixture(scope="module")
def server(stub):
    """The server as `python run.py` starts with no token flags: it makes an admin token and prints its link."""
    with stub_server(stub, "--store", "memory", "--embed-model", "none", mode="safe") as s:
        yield s


def token_of(server) -> str:
    m = re.search(r"open http://127\.0\.0\.1:\d+/#admin=([A-Za-z0-9_-]+) ", server.output())
    assert m, server.output()
    return m.group(1)


def open_link(open_page, server, fragment: str):
    """A fresh load of the page at the printed link (with ?test=1, which lets the test look inside)."""
    rec = open_page(wait=False)
    rec.page.goto("about:blank")
    rec.page.goto(f"{server.url}/?test=1#{fragment}")
    connected(rec.page)
    return rec


def test_the_admin_link_unlocks_once_and_leaves_the_address_bar_clean(open_page, server):
    token = token_of(server)
    page = open_link(open_page, server, f"admin={token}").page
    page.wait_for_selector(".toast:has-text('may now manage the server')")
    assert page.evaluate("() => window.__chat.role.admin") is True
    assert page.url == f"{server.url}/?test=1"
    assert page.evaluate("() => location.href") == f"{server.url}/?test=1"
    # as Manage this server keeps it
    assert page.evaluate("() => JSON.parse(localStorage.getItem('chat.admin_token'))") == token
    assert token not in page.content()
    page.click("#open-settings")
    # "may now manage" right after the unlock, "may manage ...: add and delete" once the role is asked again
    assert re.search(r"may (now )?manage the server[.:]", page.inner_text("#manage-status"))
    page.click("#open-knowledge")
    page.wait_for_selector("#kb-upload:visible")  # the library's Add is there
    page.keyboard.press("Escape")

    # Back goes to about:blank, not to an address that still carries the token.
    page.go_back()
    assert page.url == "about:blank"
    page.go_forward()
    connected(page)
    assert "admin=" not in page.url
    assert page.evaluate("() => window.__chat.role.admin") is True  # still unlocked: the token was kept


def test_a_wrong_admin_link_says_so_and_unlocks_nothing(open_page, server):
    rec = open_link(open_page, server, "admin=not-the-token")
    page = rec.page
    page.wait_for_selector(".toast:has-text('did not unlock this browser')")
    assert page.url == f"{server.url}/?test=1"
    assert page.evaluate("() => window.__chat.role.admin") is False
    assert page.evaluate("() => localStorage.getItem('chat.admin_token')") is None
    page.click("#open-settings")
    page.wait_for_selector("#admin-input:visible")


def test_the_link_pasted_into_an_open_tab_or_the_field_unlocks(open_page, server):
    token = token_of(server)
    page = open_page().page
    page.wait_for_function("() => window.__chat.role.known")
    page.evaluate(f"() => {{ location.hash = 'admin={token}' }}")
    page.wait_for_function("() => window.__chat.role.admin")
    page.wait_for_function("() => !location.hash")
    page.click("#open-settings")
    page.click("#admin-forget")
    page.wait_for_selector("#admin-input:visible")
    page.fill("#admin-input", f"http://localhost:{server.port}/#admin={token}")  # the whole printed link
    page.click("#admin-unlock")
    page.wait_for_selector("#manage-status:not(.bad):has-text('may now manage the server')")
    assert page.evaluate("() => JSON.parse(localStorage.getItem('chat.admin_token'))") == token
