"""The knowledge base through a live server: real PDF/Word uploads, search, grounded chats with sources."""
from __future__ import annotations

import pytest

from tests.kb_files import docx, pdf, upload
from tests.live import LiveServer, http_json

HANDBOOK = [
    "Harbor Dental Studio patient guide.\nA routine cleaning costs 64 credits and takes forty minutes.",
    "Dr. Ilse Varga does root canals on Wednesdays only.\nLate cancellations are charged a 20-credit fee.",
]
CANTEEN = ["员工食堂在综合楼一层。", "每周三中午供应特色菜桂花糖藕。", "清真窗口在食堂东侧，由马师傅负责。"]


@pytest.fixture(scope="module")
def kb_server(stub, tmp_path_factory):
    """A server on the stub upstream with its own data folder, in eventlet mode (ingest must stay off its hub)."""
    data = tmp_path_factory.mktemp("kb-data")
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--data-dir", str(data),
                        "--rate-per-minute", "0", "--rate-per-minute-ip", "0", async_mode="eventlet").start()
    server.data_dir = str(data)
    yield server
    server.stop()


def titles(url: str) -> list[str]:
    status, body = http_json(url + "/api/kb/documents")
    assert status == 200 and body["ok"]
    return sorted(d["title"] for d in body["documents"])


def search(url: str, query: str, k: int = 5) -> list[dict]:
    status, body = http_json(url + "/api/kb/search", {"query": query, "k": k})
    assert status == 200 and body["ok"], body
    return body["results"]


def test_upload_list_search_delete(kb_server):
    url = kb_server.url
    handbook = pdf(HANDBOOK)
    status, body = upload(url, "dental.pdf", handbook)
    assert status == 200 and body["ok"], body
    dental = body["document"]
    assert dental["title"] == "dental.pdf" and dental["chunks"] >= 2 and dental["bytes"] > 0
    status, body = upload(url, "食堂.docx", docx(CANTEEN))
    assert status == 200, body
    canteen = body["document"]
    assert {"dental.pdf", "食堂.docx"} <= set(titles(url))

    best = search(url, "Which day does Dr. Varga do root canals?")[0]
    assert best["document_id"] == dental["id"] and "Wednesdays" in best["text"]
    assert set(best) >= {"document_id", "title", "chunk_id", "text", "score"}
    best = search(url, "清真窗口由谁负责？")[0]
    assert best["title"] == "食堂.docx" and "马师傅" in best["text"]

    # The same bytes again: the first document, not a second copy.
    status, body = upload(url, "dental-copy.pdf", handbook)
    assert status == 200 and body["document"]["id"] == dental["id"]
    assert titles(url).count("dental.pdf") == 1 and "dental-copy.pdf" not in titles(url)

    assert http_json(url + f"/api/kb/documents/{canteen['id']}", method="DELETE") == (200, {"ok": True})
    assert "食堂.docx" not in titles(url)
    assert all(r["document_id"] != canteen["id"] for r in search(url, "清真窗口由谁负责？"))
    status, body = http_json(url + f"/api/kb/documents/{canteen['id']}", method="DELETE")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_bad_uploads_are_refused_and_store_nothing(kb_server):
    url = kb_server.url
    before = titles(url)
    cases = [
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", 400, "bad_request", "PDF"),
        ("empty.txt", b"", 400, "bad_request", "empty"),
        ("blank.md", b"   \n\n  ", 400, "bad_request", "text"),
        ("huge.txt", b"a" * 50_000_000, 413, "too_long", "MB"),
        ("tool.exe", b"MZ\x90\x00", 400, "bad_request", ".exe"),
        ("../../etc/passwd.txt", b"root:x:0:0", 400, "bad_request", "path"),
        ("..\\..\\boot.ini.txt", b"[boot loader]", 400, "bad_request", "path"),
        ("scan.pdf", pdf([""]), 400, "bad_request", "text"),
    ]
    for name, data, status, code, words in cases:
        got_status, body = upload(url, name, data)
        assert (got_status, body["ok"], body["error"]["code"]) == (status, False, code), name
        assert words.lower() in body["error"]["message"].lower(), (name, body)
    assert titles(url) == before
    status, body = http_json(url + "/api/kb/search", {"query": ""})
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body = http_json(url + "/api/kb/search", {"query": "x", "k": 50})
    assert status == 400


def test_chat_with_knowledge_cites_the_right_document(kb_server, stub, make_client):
    url = kb_server.url
    status, body = upload(url, "bikes.md", b"# Greenway Bike Rental\nAn electric bike costs 9 credits per hour. "
                                          b"Riders leave a deposit of 150 credits.")
    assert status == 200, body
    bikes = body["document"]["id"]
    client = make_client(url)
    rid = client.chat("How much is an electric bike per hour?", model="say:Nine credits [1].", knowledge=True)
    done = client.wait_done(rid)
    assert done["finish_reason"] == "stop" and done["text"] == "Nine credits [1]."
    assert done["sources"][0]["n"] == 1 and done["sources"][0]["document_id"] == bikes
    assert "9 credits per hour" in done["sources"][0]["text"]
    system = stub.requests[-1]["messages"][0]
    assert system["role"] == "system" and "[1]" in system["content"] and "9 credits per hour" in system["content"]

    status, body = http_json(url + "/api/chat", {"message": "How large is the bike deposit?", "knowledge": True,
                                                 "model": "say:150 credits [1].", "system": "Be brief."})
    assert status == 200 and body["sources"][0]["title"] == "bikes.md"
    system = stub.requests[-1]["messages"][0]["content"]
    assert system.startswith("Be brief.") and "deposit of 150 credits" in system

    # Without knowledge: no sources, no passages in the prompt.
    rid = client.chat("How much is an electric bike per hour?", model="say:no idea")
    assert "sources" not in client.wait_done(rid)
    assert all(m["role"] != "system" for m in stub.requests[-1]["messages"])


def test_unanswerable_question_gets_no_sources_and_no_guess(kb_server, stub, make_client):
    client = make_client(kb_server.url)
    for question, reply in (("What is the boiling point of tungsten?", "Not found in the knowledge base."),
                            ("地铁三号线的首班车是几点？", "知识库中没有找到相关内容。")):
        asked = len(stub.requests)
        rid = client.chat(question, model="say:It boils at 42 degrees.", knowledge=True)
        done = client.wait_done(rid)
        assert done["sources"] == [] and done["finish_reason"] == "stop", question
        assert done["text"] == reply  # the server says so itself: no model was asked to guess
        assert len(stub.requests) == asked
    # The history keeps the reply with what done carried: no sources.
    assert client.call("history")["history"][-1] == {"role": "assistant", "content": "知识库中没有找到相关内容。",
                                                     "sources": []}
    status, body = http_json(kb_server.url + "/api/chat", {"message": "hello", "knowledge": "yes"})
    assert status == 400 and "knowledge" in body["error"]["message"]


def test_restart_keeps_the_library(kb_server, stub):
    status, body = upload(kb_server.url, "tea.txt", "云雾茶舍的招牌茶是白露银针，每壶售价六十八元。".encode())
    assert status == 200, body
    kb_server.stop()
    again = LiveServer("--backend", "openai", "--base-url", stub.url, "--data-dir", kb_server.data_dir).start()
    try:
        assert "tea.txt" in titles(again.url)
        assert search(again.url, "白露银针多少钱一壶？")[0]["title"] == "tea.txt"
    finally:
        again.stop()
    kb_server.start()


def test_token_guards_the_library(stub, make_server):
    server = make_server("--backend", "openai", "--base-url", stub.url, "--token", "s3cret", "--store", "memory")
    status, body = upload(server.url, "a.txt", b"The office opens at nine.")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = upload(server.url, "a.txt", b"The office opens at nine.", token="s3cret")
    assert status == 200, body
    assert http_json(server.url + "/api/kb/documents")[0] == 401
    status, body = http_json(server.url + "/api/kb/documents", headers={"Authorization": "Bearer s3cret"})
    assert [d["title"] for d in body["documents"]] == ["a.txt"]


def test_servers_sharing_a_data_folder_share_the_library(stub, make_server, tmp_path):
    first = make_server("--backend", "openai", "--base-url", stub.url, "--data-dir", str(tmp_path))
    second = make_server("--backend", "openai", "--base-url", stub.url, "--data-dir", str(tmp_path))
    assert search(second.url, "How old is Bramble the tortoise?") == []
    status, body = upload(first.url, "shelter.txt",
                          b"The shelter's oldest resident is a tortoise named Bramble, who is 71.")
    assert status == 200, body
    assert search(second.url, "How old is Bramble the tortoise?")[0]["title"] == "shelter.txt"
    assert http_json(second.url + f"/api/kb/documents/{body['document']['id']}", method="DELETE")[0] == 200
    assert search(first.url, "How old is Bramble the tortoise?") == []
