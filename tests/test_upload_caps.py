"""Documents and imports far beyond their size are refused early, store nothing, and never starve the server."""
import threading
import time

import pytest

from tests.kb_files import docx, docx_bomb, upload
from tests.live import LiveServer, http_json

ADMIN = {"X-Admin-Token": "adm1n"}


@pytest.fixture(scope="module")
def server(stub):
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--admin-token", "adm1n",
                   "--kb-max-chars", "2000000", "--graph-max-rows", "1000", async_mode="eventlet").start()
    yield s
    s.stop()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def uploaded_while_probing(url: str, name: str, data: bytes, path: str = "/api/kb/documents", chat=None):
    """(status, body, slowest /healthz in seconds) of an upload, /healthz asked over and over while it runs
    (and, with a socket client as chat, one chat sent meanwhile that must end within 10 s)."""
    answer = {}
    worker = threading.Thread(target=lambda: answer.update(r=upload(url, name, data, headers=ADMIN, path=path,
                                                                   timeout=300)))
    worker.start()
    if chat is not None:
        time.sleep(0.5)
        assert worker.is_alive(), "the upload ended before the chat could overlap it"
        done = chat.wait_done(chat.chat("still there?", model="words-3"), timeout=10)
        assert done["finish_reason"] == "stop"
    slowest = 0.0
    while worker.is_alive():
        t0 = time.monotonic()
        status, body = http_json(url + "/healthz")
        assert status == 200 and body["status"] == "ok"
        slowest = max(slowest, time.monotonic() - t0)
        time.sleep(0.2)
    worker.join()
    status, body = answer["r"]
    return status, body, slowest


def documents(url: str) -> list:
    return http_json(url + "/api/kb/documents")[1]["documents"]


def test_a_docx_bomb_is_refused_with_a_sentence_and_leaves_memory_and_health_alone(server, make_client):
    bomb = docx_bomb(60_000, 1000)  # 180 KB that expands to 60 million characters
    assert len(bomb) < 400_000
    before = rss_mb(server.proc.pid)
    status, body, slowest = uploaded_while_probing(server.url, "bomb.docx", bomb)
    assert status == 413 and body["error"]["code"] == "too_long", body
    assert "2,000,000 characters" in body["error"]["message"], body
    assert documents(server.url) == []
    assert slowest < 3, f"/healthz took {slowest:.1f} s while the bomb was read"
    assert rss_mb(server.proc.pid) - before < 100
    # A docx of pure markup (no text at all) that expands to hundreds of MB is refused too, health still answered.
    status, body, slowest = uploaded_while_probing(server.url, "empty.docx", docx_bomb(100, 170_000, text_runs=False),
                                                   chat=make_client(server.url))
    assert status in (400, 413) and body["ok"] is False, body
    assert slowest < 3, f"/healthz took {slowest:.1f} s while the markup bomb was read"
    assert rss_mb(server.proc.pid) - before < 100
    # An ordinary document still goes in.
    status, body = upload(server.url, "ok.docx", docx(["The canteen opens at 7."]), headers=ADMIN)
    assert status == 200 and body["document"]["chunks"] == 1, body


def test_a_huge_graph_import_is_refused_at_its_row_cap(server):
    rows = b"head,relation,tail\n" + b"".join(b"Entity number %d,relates to,Other entity %d\n" % (i, i)
                                               for i in range(600_000))
    assert len(rows) > 25_000_000
    before = rss_mb(server.proc.pid)
    status, body, slowest = uploaded_while_probing(server.url, "huge.csv", rows, path="/api/graph/import")
    assert status == 413 and "1,000 rows" in body["error"]["message"], body
    assert http_json(server.url + "/api/graph/stats")[1]["entities"] == 0
    assert slowest < 3, f"/healthz took {slowest:.1f} s during the import"
    assert rss_mb(server.proc.pid) - before < 100
