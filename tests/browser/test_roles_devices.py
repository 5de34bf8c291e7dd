"""Roles and devices on the page in a real Chromium: admin-only library controls, unlocking, pairing (issue 24)."""
from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import SKIPS, connected, finished, send, stub_server  # noqa: E402
from tests.kb_files import upload  # noqa: E402
from tests.live import LiveServer  # noqa: E402

pytestmark = SKIPS
ADMIN = "adm1n-page-S3CRET"


@pytest.fixture(scope="module")
def server(stub):
    with stub_server(stub, "--store", "memory", "--embed-model", "none", "--admin-token", ADMIN) as s:
        yield s


def open_library(page):
    page.click("#open-settings")
    page.click("#open-knowledge")
    page.wait_for_selector("#knowledge[open]")
    page.wait_for_selector(".kb-doc")


def test_library_controls_only_after_unlocking(open_page, server):
    status, body = upload(server.url, "rota.txt", b"The night shift starts at 22:00 on weekdays.",
                          headers={"X-Admin-Token": ADMIN})
    assert status == 200, body
    rec = open_page()
    page = rec.page
    assert ADMIN not in page.content()
    open_library(page)
    page.wait_for_function("() => window.__chat.role.known")
    assert page.locator(".kb-doc").count() == 1
    assert page.locator(".kb-doc button:has-text('Delete')").count() == 0  # no delete for a plain device
    assert not page.is_visible("#kb-upload")
    assert "Manage this server" in page.inner_text("#kb-locked")
    page.keyboard.press("Escape")

    page.fill("#admin-input", "not-it")
    page.click("#admin-unlock")
    page.wait_for_selector("#manage-status.bad")
    assert "not accepted" in page.inner_text("#manage-status")
    page.fill("#admin-input", ADMIN)
    page.click("#admin-unlock")
    page.wait_for_selector("#manage-status:not(.bad):has-text('may now manage the server')")
    assert page.is_visible("#admin-forget") and not page.is_visible("#admin-input")
    page.click("#open-knowledge")
    page.wait_for_selector(".kb-doc button:has-text('Delete')")
    assert page.is_visible("#kb-upload") and not page.is_visible("#kb-locked")

    # Kept on this device: a reload is still unlocked.
    page.reload()
    connected(page)
    open_library(page)
    delete = page.locator(".kb-doc button:has-text('Delete')")
    delete.wait_for()

    # The server refuses (its admin token changed): the page says its sentence and locks the controls.
    page.evaluate("() => { window.__chat.role.token = 'changed-on-the-server' }")
    delete.click()
    page.wait_for_selector(".toast:has-text('Only this server')")
    assert "admin" in page.inner_text("#kb-status")
    page.wait_for_function("() => !document.querySelector('.kb-doc button')")
    assert page.locator(".kb-doc").count() == 1  # nothing was deleted
    rec.errors[:] = [e for e in rec.errors if "status of 403" not in e]  # Chromium logs the refused delete

    page.evaluate(f"() => {{ window.__chat.role.token = {ADMIN!r}; window.__chat.role.refresh() }}")
    page.locator(".kb-doc button:has-text('Delete')").click()
    page.wait_for_selector("#kb-empty:not([hidden])")
    page.keyboard.press("Escape")
    page.click("#admin-forget")
    page.wait_for_selector("#admin-input:visible")
    assert page.evaluate("() => localStorage.getItem('chat.admin_token')") is None


def test_pairing_shows_a_qr_code_and_another_browser_sees_the_list(open_page, browser, server):
    first = open_page().page
    send(first, "Where did I park the bike?")
    finished(first, 1)
    first.click("#open-settings")
    first.click("#open-pair")
    first.wait_for_selector("#pair-qr:visible")
    assert first.get_attribute("#pair-qr", "src").startswith("data:image/svg+xml")
    assert first.locator("#pair-qr").evaluate("img => img.complete && img.naturalWidth > 100")
    code = first.inner_text("#pair-code")
    assert len(code) == 9 and code[4] == "-"
    assert "Works once, for 9:5" in first.inner_text("#pair-left") or "10:00" in first.inner_text("#pair-left")
    link = first.get_attribute("#pair-link", "href")
    assert link.endswith("#pair=" + code.replace("-", ""))

    # A second browser types the code.
    second = open_page().page
    second.click("#open-settings")
    second.fill("#pair-input", code.lower())
    second.click("#pair-redeem")
    second.wait_for_selector(".toast:has-text('now shows the chats')")
    second.wait_for_selector("#conv-list .conv-title:has-text('Where did I park the bike?')")
    second.wait_for_function("() => document.querySelectorAll('.msg.assistant').length === 1")
    assert second.evaluate("() => window.__chat.core.state.clientId") == \
        first.evaluate("() => window.__chat.core.state.clientId")

    # Used once: a third browser gets the sentence.
    third_rec = open_page()
    third = third_rec.page
    third.click("#open-settings")
    third.fill("#pair-input", code)
    third.click("#pair-redeem")
    third.wait_for_selector("#pair-status.bad")
    assert "already used" in third.inner_text("#pair-status")
    third_rec.errors[:] = [e for e in third_rec.errors if "status of 404" not in e]  # Chromium logs the refusal

    # A reply asked for on the second device streams live on the first one, which follows that chat.
    first.keyboard.press("Escape")
    first.keyboard.press("Escape")
    second.keyboard.press("Escape")
    send(second, "And the car?")
    finished(second, 2)
    first.wait_for_function("() => document.querySelectorAll('.msg.assistant').length === 2")

    # A link with a fresh code opens the list by itself.
    first.click("#open-settings")
    first.click("#open-pair")
    first.wait_for_function("old => document.querySelector('#pair-link').href !== old", arg=link)
    fresh = first.get_attribute("#pair-link", "href")
    context = browser.new_context()  # as a phone that scanned the QR code: the link is the first page it opens
    try:
        fourth = context.new_page()
        fourth.goto(fresh.split("#")[0] + "?test=1#" + fresh.split("#")[1])
        connected(fourth)
        fourth.wait_for_selector("#conv-list .conv-title:has-text('Where did I park the bike?')")
        assert "pair=" not in fourth.url  # the code leaves the address bar
    finally:
        context.close()


def test_pairing_link_waits_for_the_access_token(browser, stub):
    """A phone that scans the code of a server with an access token is asked for it, then sees the list."""
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--embed-model", "none",
                   "--token", "room-42-token").start()
    first, second = browser.new_context(), browser.new_context()
    try:
        page = first.new_page()
        page.goto(s.url + "/?test=1")
        page.fill("#token-input", "room-42-token")
        page.click("#token-form button[type=submit]")
        connected(page)
        send(page, "Book the meeting room")
        finished(page, 1)
        page.click("#open-settings")
        page.click("#open-pair")
        page.wait_for_selector("#pair-qr:visible")
        link = page.get_attribute("#pair-link", "href")

        phone = second.new_page()
        phone.goto(link.replace("/#", "/?test=1#"))
        phone.wait_for_selector("#token-dialog[open]")
        phone.fill("#token-input", "room-42-token")
        phone.click("#token-form button[type=submit]")
        phone.wait_for_selector("#conv-list .conv-title:has-text('Book the meeting room')")
        phone.wait_for_function("() => document.querySelectorAll('.msg.assistant').length === 1")
    finally:
        first.close()
        second.close()
        s.stop()
