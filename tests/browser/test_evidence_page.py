"""A grounded reply the server could not back, on the page in a real Chromium:
the note, the quote, the marked sentence."""
from __future__ import annotations

import os

import pytest

from tests.browser.page import SKIPS, finished, send  # noqa: F401  (fixtures come from conftest.py)
from tests.kb_files import upload
from tests.live import ROOT, LiveServer

pytestmark = SKIPS
GYM = os.path.join(ROOT, "bench", "data", "evidence", "docs", "maple-gym.md")


@pytest.fixture(scope="module")
def server(stub):
    # The stub answers every chat with a closing time the guide does not give.
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--model", "say:The gym closes at 23:00 [1].",
                   "--rate-per-minute", "0", "--store", "memory").start()
    with open(GYM, "rb") as f:
        status, body = upload(s.url, "maple-gym.md", f.read())
    assert status == 200, body
    yield s
    s.stop()


def test_a_reply_not_in_its_evidence_shows_the_note_and_the_marked_sentence(open_page):
    rec = open_page()
    page = rec.page
    page.click("#open-settings")
    page.check("#set-knowledge")
    page.keyboard.press("Escape")
    page.wait_for_selector("#settings", state="hidden")

    send(page, "What time does Maple Street Gym close on weekdays?")
    finished(page, 1)
    reply = page.locator(".msg.assistant").first
    note = reply.locator(".kb-warning")
    assert note.locator("strong").inner_text() == "This answer may be wrong."
    assert "From maple-gym.md [1]:" in note.inner_text() and "closes at 22:30" in note.locator(".kb-quote").inner_text()
    assert reply.locator(".kb-passage").is_hidden()

    # [1] in the reply's text opens source 1 with the sentence the check quoted marked.
    reply.locator(".md .kb-cite").first.click()
    passage = reply.locator(".kb-passage")
    passage.wait_for(state="visible")
    marked = passage.locator("mark.kb-used")
    assert "closes at 22:30" in " ".join(marked.all_inner_texts())
    assert marked.first.inner_text() in passage.locator(".kb-passage-text").inner_text()
    assert reply.locator(".kb-chip").first.get_attribute("aria-expanded") == "true"
    # The chip closes it and opens it again, marked the same.
    reply.locator(".kb-chip").first.click()
    assert passage.is_hidden()
    reply.locator(".kb-chip").first.click()
    assert "closes at 22:30" in " ".join(passage.locator("mark.kb-used").all_inner_texts())

    # After a reload the reply comes from the server's history: the note, the chips and the [n] links are still there.
    page.reload()
    page.wait_for_selector("#conn[data-state=connected]")
    reply = page.locator(".msg.assistant").first
    reply.locator(".kb-warning").wait_for()
    assert "closes at 22:30" in reply.locator(".kb-warning .kb-quote").inner_text()
    assert reply.locator(".kb-chip").first.inner_text().startswith("[1]")
    reply.locator(".md .kb-cite").first.click()
    assert "closes at 22:30" in " ".join(reply.locator(".kb-passage mark.kb-used").all_inner_texts())
