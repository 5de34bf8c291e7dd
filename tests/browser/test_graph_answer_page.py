"""A graph reply the facts cannot back, on the page in a real Chromium: the note quotes the fact it left out."""
from __future__ import annotations

import pytest

from tests.browser.page import SKIPS, finished, send  # noqa: F401  (fixtures come from conftest.py)
from tests.browser.page import stub_server, switch_on
from tests.kb_files import upload

pytestmark = SKIPS
ADMIN = "adm1n-graph-answer"
# 胸闷 is a symptom of two diseases seen in two departments: a reply naming one of them is a guess.
CSV = """head,relation,tail,head_type,tail_type
冠心病,症状,胸闷,疾病,症状
冠心病,就诊科室,心内科,疾病,科室
哮喘,症状,胸闷,疾病,症状
哮喘,就诊科室,呼吸科,疾病,科室
""".encode()


@pytest.fixture(scope="module")
def server(stub):
    with stub_server(stub, "--model", "say:挂心内科 [1]。", "--store", "memory", "--admin-token", ADMIN) as s:
        status, body = upload(s.url, "heart.csv", CSV, path="/api/graph/import", headers={"X-Admin-Token": ADMIN})
        assert status == 200, body
        yield s


def test_a_fact_quote_in_the_note_under_a_graph_reply(open_page):
    rec = open_page()
    page = rec.page
    switch_on(page, "#set-graph")

    send(page, "胸闷应该挂什么科？")
    finished(page, 1)
    reply = page.locator(".msg.assistant").first
    note = reply.locator(".kb-warning")
    note.wait_for()
    assert note.locator("strong").inner_text() == "这个回答可能有误。"
    assert "知识图谱 [2]：" in note.inner_text()
    assert note.locator(".kb-quote").inner_text() == "哮喘 —就诊科室→ 呼吸科"
    assert reply.locator(".fact-chip").nth(1).inner_text() == "[2] 哮喘 → 呼吸科"  # the quoted fact's own chip

    page.reload()  # the note comes back with the reply from the server's history
    page.wait_for_selector("#conn[data-state=connected]")
    page.locator(".msg.assistant .kb-warning").first.wait_for()
    assert page.locator(".msg.assistant .kb-warning .kb-quote").first.inner_text() == "哮喘 —就诊科室→ 呼吸科"
