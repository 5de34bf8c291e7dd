"""The page's conversation list (protocol 1.1) in a real Chromium against a live server: a sidebar
on a desktop, a drawer on a phone; new, switch, rename, delete with undo, search, export and
import, and pages of 50 loaded as the list scrolls."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("playwright.sync_api")

from tests.browser.page import PHONE, SKIPS, connected, finished, no_horizontal_scroll, send, shown  # noqa: E402
from tests.live import http_json  # noqa: E402

pytestmark = SKIPS
REPLY = "w0 w1 w2 w3 w4"  # the stub's default model says this


def titles(page):
    return page.locator("#conv-list .conv-title").all_inner_texts()


def wait_titles(page, expected, timeout=10000):
    page.wait_for_function("want => JSON.stringify([...document.querySelectorAll('#conv-list .conv-title')]"
                           ".map(e => e.textContent)) === JSON.stringify(want)", arg=expected, timeout=timeout)


def item(page, title):
    return page.locator("#conv-list li.conv", has=page.locator(".conv-title", has_text=title)).first


def act(page, title, action):
    """Open an item's menu and press one of its actions."""
    row = item(page, title)
    row.locator("button[data-act=menu]").click()
    row.locator(f"button[data-act={action}]").click()


def new_chat_with(page, question):
    page.click("#side-new")
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 0")
    send(page, question)
    finished(page, 1)


def test_three_chats_switch_rename_search_delete_export_import(open_page, tmp_path):
    page = open_page().page
    assert page.is_visible("#sidebar") and not page.is_visible("#open-list")  # a sidebar on a desktop
    send(page, "Alpha question")
    finished(page, 1)
    new_chat_with(page, "Beta question")
    new_chat_with(page, "Gamma question")
    wait_titles(page, ["Gamma question", "Beta question", "Alpha question"])  # newest first
    assert item(page, "Gamma question").get_attribute("aria-current") == "true"

    # Switch: the other conversation's history comes back.
    item(page, "Alpha question").locator(".conv-open").click()
    page.wait_for_function("() => document.querySelector('.msg.user .bubble')?.textContent === 'Alpha question'")
    assert shown(page) == [("user", "Alpha question"), ("assistant", REPLY)]
    assert item(page, "Alpha question").get_attribute("aria-current") == "true"

    # Rename, kept by the server.
    act(page, "Beta question", "rename")
    page.fill(".conv-rename", "Fruit talk")
    page.press(".conv-rename", "Enter")
    wait_titles(page, ["Gamma question", "Fruit talk", "Alpha question"])
    page.reload()
    connected(page)
    wait_titles(page, ["Gamma question", "Fruit talk", "Alpha question"])
    assert shown(page)[0] == ("user", "Alpha question"), "the reload stays in the conversation it showed"

    # Search titles and text.
    page.fill("#conv-search", "gamma")
    wait_titles(page, ["Gamma question"])
    page.fill("#conv-search", "")
    wait_titles(page, ["Gamma question", "Fruit talk", "Alpha question"])

    # Delete, undo, delete for good.
    act(page, "Gamma question", "delete")
    wait_titles(page, ["Fruit talk", "Alpha question"])
    page.click(".toast-action:has-text('Undo')")
    wait_titles(page, ["Gamma question", "Fruit talk", "Alpha question"])
    act(page, "Gamma question", "delete")
    wait_titles(page, ["Fruit talk", "Alpha question"])
    page.wait_for_timeout(6500)  # the undo time runs out: the server deletes it
    page.reload()
    connected(page)
    wait_titles(page, ["Fruit talk", "Alpha question"])

    # Export as Markdown and JSON, then import the JSON: the same conversation comes back.
    with page.expect_download() as dl:
        act(page, "Alpha question", "md")
    md = open(dl.value.path(), encoding="utf-8").read()
    assert "Alpha question" in md and REPLY in md
    with page.expect_download() as dl:
        act(page, "Alpha question", "json")
    assert dl.value.suggested_filename == "Alpha-question.json"
    doc = json.load(open(dl.value.path(), encoding="utf-8"))
    assert [(m["role"], m["content"].strip()) for m in doc["messages"]] == [("user", "Alpha question"),
                                                                            ("assistant", REPLY)]
    saved = tmp_path / "alpha.json"
    saved.write_text(json.dumps(doc))
    page.set_input_files("#import-file", str(saved))
    page.wait_for_selector(".toast:has-text('Imported 1 conversation.')")
    page.wait_for_function("() => [...document.querySelectorAll('#conv-list .conv-title')]"
                           ".filter(e => e.textContent === 'Alpha question').length === 2")
    page.locator("#conv-list li.conv").first.locator(".conv-open").click()
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2")
    assert shown(page) == [("user", "Alpha question"), ("assistant", REPLY)]


def test_phone_drawer(open_page):
    page = open_page(**PHONE).page
    page.fill("#input", "On the go")
    page.tap("#send")  # on a touch screen Enter is a new line
    finished(page, 1)
    assert not page.is_visible("#sidebar")  # a drawer, closed
    assert no_horizontal_scroll(page) == {"scroll": True, "wide": []}
    page.tap("#open-list")
    page.wait_for_selector("#sidebar", state="visible")
    wait_titles(page, ["On the go"])
    assert no_horizontal_scroll(page)["scroll"]
    page.tap("#side-new")
    page.wait_for_selector("#sidebar", state="hidden")
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 0")
    page.tap("#open-list")
    item(page, "On the go").locator(".conv-open").tap()
    page.wait_for_selector("#sidebar", state="hidden")
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2")


def test_hundreds_of_chats_load_page_by_page(open_page, server):
    page = open_page().page
    client_id = page.evaluate("JSON.parse(localStorage.getItem('chat.client_id'))")
    docs = [{"title": f"Chat {i:03d}", "messages": [{"role": "user", "content": f"question {i}"},
                                                  {"role": "assistant", "content": "answer"}]} for i in range(130)]
    status, body = http_json(server.url + "/api/conversations/import", docs, headers={"X-Client-Id": client_id})
    assert status == 200 and body["ok"], body
    page.reload()
    connected(page)
    page.wait_for_function("() => document.querySelectorAll('#conv-list li').length >= 50")
    assert page.locator("#conv-list li").count() == 50  # one page, not all 130
    for want in (100, 130):
        page.eval_on_selector("#conv-scroll", "el => el.scrollTop = el.scrollHeight")
        page.wait_for_function("n => document.querySelectorAll('#conv-list li').length >= n", arg=want)
    ids = page.eval_on_selector_all("#conv-list li", "els => els.map(e => e.dataset.id)")
    assert len(ids) == len(set(ids)) == 130  # every conversation once
    assert titles(page)[:2] == ["Chat 129", "Chat 128"] and titles(page)[-1] == "Chat 000"  # newest first
    # A change redraws its own row only: the other 129 keep their nodes.
    page.evaluate("document.querySelectorAll('#conv-list li')[100].dataset.mark = 'kept'")
    act(page, "Chat 129", "rename")
    page.fill(".conv-rename", "Renamed")
    page.press(".conv-rename", "Enter")
    page.wait_for_function("() => document.querySelector('#conv-list .conv-title').textContent === 'Renamed'")
    assert page.evaluate("document.querySelectorAll('#conv-list li')[100].dataset.mark") == "kept"
