"""The knowledge graph on the page in a real Chromium: a fact chip under a reply opens the graph at that fact;
its writes (delete, build, merge) only once the device is unlocked as the server's admin."""
from __future__ import annotations

import pytest

from tests.browser.page import SKIPS, connected, finished, send  # noqa: F401  (fixtures come from conftest.py)
from tests.browser.page import stub_server, switch_on
from tests.kb_files import upload

pytestmark = SKIPS
ADMIN = "adm1n-graph-S3CRET"
CSV = """head,relation,tail,head_type,tail_type
胃炎,症状,胃痛,疾病,症状
胃炎,就诊科室,消化内科,疾病,科室
胃炎,常用药品,奥美拉唑,疾病,药品
""".encode()


@pytest.fixture(scope="module")
def server(stub):
    with stub_server(stub, "--store", "memory", "--admin-token", ADMIN) as s:
        status, body = upload(s.url, "med.csv", CSV, path="/api/graph/import", headers={"X-Admin-Token": ADMIN})
        assert status == 200, body
        yield s


def test_fact_chip_opens_the_graph_at_its_fact(open_page, stub):
    rec = open_page()
    page = rec.page
    switch_on(page, "#set-graph", model="words-5")

    send(page, "胃痛应该挂什么科？")
    finished(page, 1)
    chip = page.locator(".msg.assistant .fact-chip").first
    assert chip.inner_text() == "[1] 胃炎 → 消化内科"
    assert "胃炎 -就诊科室-> 消化内科" in stub.requests[-1]["messages"][0]["content"]
    chip.click()
    page.wait_for_selector("#graph[open]")
    page.wait_for_selector("#graph-detail .graph-fact")
    assert page.inner_text("#graph-detail .graph-fact") == "胃炎 —就诊科室→ 消化内科"
    assert page.inner_text("#graph-detail .graph-sources") == "imported from med.csv"
    assert page.inner_text("#graph-status") == "胃炎: 3 facts."
    assert page.locator("#graph-canvas canvas").count() >= 1  # cytoscape drew the neighbourhood
    # A plain device sees the fact but no delete, and why.
    page.wait_for_function("() => window.__chat.role.known")
    assert page.locator("#graph-detail button:has-text('Delete this fact')").count() == 0
    page.click(".graph-admin summary")
    assert "Manage this server" in page.inner_text("#graph-locked")
    assert not page.is_visible("#graph-build")
    assert page.locator("#graph-admin").count() == 0  # no token field of its own: the one role decides

    # Unlocked through the shared role, the delete appears at once.
    assert page.evaluate(f"() => window.__chat.role.unlock({ADMIN!r}).then((r) => r.ok)")
    page.wait_for_selector("#graph-detail button:has-text('Delete this fact')")
    assert page.is_visible("#graph-build") and not page.is_visible("#graph-locked")

    # The server refuses (its admin token changed): the sheet says its sentence and locks again.
    page.evaluate("() => { window.__chat.role.token = 'changed-on-the-server' }")
    page.click("#graph-detail button:has-text('Delete this fact')")
    page.wait_for_selector("#graph-status.bad:has-text('Only this server')")
    page.wait_for_function("() => !document.querySelector('#graph-detail button')")
    assert page.is_visible("#graph-locked") and not page.is_visible("#graph-build")
    rec.errors[:] = [e for e in rec.errors if "status of 403" not in e]  # Chromium logs the refused delete

    # Search another entity and open its neighbourhood.
    page.fill("#graph-q", "胃痛")
    page.click("#graph-search")
    page.click(".graph-entity button")
    page.wait_for_function("() => document.querySelector('#graph-status').textContent === '胃痛: 1 facts.'")
    assert rec.errors == []

    # The switch is kept with the conversation.
    page.keyboard.press("Escape")
    page.reload()
    connected(page)
    page.click("#open-settings")
    assert page.is_checked("#set-graph")


def test_build_from_the_library_shows_its_progress(open_page, server):
    status, body = upload(server.url, "clinic.txt", "胆囊炎 就诊科室 肝胆外科。右上腹痛常在饭后出现。".encode(),
                          headers={"X-Admin-Token": ADMIN})
    assert status == 200, body
    rec = open_page()
    page = rec.page
    assert page.evaluate(f"() => window.__chat.role.unlock({ADMIN!r}).then((r) => r.ok)")
    page.click("#open-settings")
    page.select_option("#set-model", "words-5")  # not an extraction model: its answer holds no facts
    page.click("#open-graph")
    page.wait_for_selector("#graph[open]")
    page.click(".graph-admin summary")
    page.click("#graph-build")
    page.wait_for_function("() => document.querySelector('#graph-build-status').textContent.startsWith('Build done')")
    assert page.inner_text("#graph-build-status") == "Build done: 1 of 1 passages, 0 facts."
    assert page.is_hidden("#graph-stop") and rec.errors == []


def test_proposed_facts_are_reviewed_with_their_sentence(open_page, server):
    from tests.live import http_json

    text = ("Anaemia often goes unnoticed, but some patients have tiredness and pale skin. "
            "Anaemia is usually treated with iron.").encode()
    status, body = upload(server.url, "anaemia.txt", text, headers={"X-Admin-Token": ADMIN})
    assert status == 200, body
    status, body = http_json(server.url + "/api/graph/build",
                             {"documents": [body["document"]["id"]], "extractor": "rules"},
                             headers={"X-Admin-Token": ADMIN})
    assert status == 200, body
    rec = open_page()
    page = rec.page
    assert page.evaluate(f"() => window.__chat.role.unlock({ADMIN!r}).then((r) => r.ok)")
    page.click("#open-settings")
    page.click("#open-graph")
    page.wait_for_selector("#graph[open]")
    page.click(".graph-admin summary")
    page.wait_for_function("async () => (await (await fetch('/api/graph/jobs/" + body["job"]["id"] +
                           "')).json()).status === 'done'")
    page.click("#graph-review-load")
    page.wait_for_selector("#graph-review .graph-proposal")
    rows = page.locator("#graph-review .graph-proposal .graph-fact").all_inner_texts()
    assert sorted(rows) == ["Anaemia —drug→ iron", "Anaemia —symptom→ pale skin", "Anaemia —symptom→ tiredness"]
    assert page.inner_text("#graph-status") == "3 proposed facts."
    skin = page.locator("#graph-review .graph-proposal", has=page.locator(".graph-fact", has_text="pale skin"))
    assert "“Anaemia often goes unnoticed, but some patients have tiredness and pale skin.” (anaemia.txt" in \
        skin.locator(".graph-sources").inner_text()
    skin.get_by_role("button", name="Drop").click()
    page.wait_for_function("() => document.querySelectorAll('#graph-review .graph-proposal').length === 2")
    # Accept all from 0.65: iron (a drug with no dosage form, 0.65) goes in, tiredness (0.6) stays proposed.
    page.fill("#graph-review-min", "0.65")
    page.click("#graph-review-all")
    page.wait_for_function("() => document.querySelectorAll('#graph-review .graph-proposal').length === 1")
    assert page.locator("#graph-review .graph-fact").inner_text() == "Anaemia —symptom→ tiredness"
    status, body = http_json(server.url + "/api/graph/proposals", headers={"X-Admin-Token": ADMIN})
    assert [p["tail"] for p in body["proposals"]] == ["tiredness"]
    status, body = http_json(server.url + "/api/graph/entities?q=Anaemia")
    assert body["entities"][0]["facts"] == 1 and rec.errors == []
