"""The knowledge base on the page in a real Chromium: upload with the library sheet, then a cited reply."""
from __future__ import annotations

import pytest

from tests.browser.page import SKIPS, connected, finished, send, stub_server  # noqa: F401  (fixtures come from conftest.py)

pytestmark = SKIPS


@pytest.fixture(scope="module")
def server(stub):
    with stub_server(stub, "--store", "memory") as s:
        yield s


def test_upload_then_a_grounded_reply_shows_its_sources(open_page, tmp_path, stub):
    rec = open_page()
    page = rec.page
    doc = tmp_path / "bikes.md"
    doc.write_text("# Greenway Bike Rental\nAn electric bike costs 9 credits per hour. Riders leave a deposit "
                   "of 150 credits.\n")
    page.click("#open-settings")
    page.select_option("#set-model", "words-5")
    page.check("#set-knowledge")
    page.click("#open-knowledge")
    page.wait_for_selector("#knowledge[open]")
    page.set_input_files("#kb-file", str(doc))
    page.wait_for_selector(".kb-doc .kb-title:text('bikes.md')")
    assert "Added bikes.md" in page.inner_text("#kb-status")
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ")
    page.set_input_files("#kb-file", str(bad))
    page.wait_for_selector("#kb-status.bad")
    assert ".exe" in page.inner_text("#kb-status") and page.locator(".kb-doc").count() == 1
    rec.errors[:] = [e for e in rec.errors if "status of 400" not in e]  # Chromium logs the refused upload
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings", state="hidden")

    send(page, "How much is an electric bike per hour?")
    finished(page, 1)
    chip = page.locator(".msg.assistant .kb-chip").first
    assert chip.inner_text() == "[1] bikes.md"
    chip.click()
    assert "9 credits per hour" in page.locator(".msg.assistant .kb-passage").inner_text()
    assert "9 credits per hour" in stub.requests[-1]["messages"][0]["content"]

    send(page, "What is the boiling point of tungsten?")
    finished(page, 2)
    unanswered = page.locator(".msg.assistant").nth(1)
    assert "Not found in the knowledge base." in unanswered.inner_text()
    assert unanswered.locator(".kb-none").inner_text() == "No passage of the knowledge base matched."

    # The switch is kept with the conversation: after a reload it is still on.
    page.reload()
    connected(page)
    page.click("#open-settings")
    assert page.is_checked("#set-knowledge")
