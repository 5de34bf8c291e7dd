"""Hostile input found by probing (#34): each gets a 400-class answer with a sentence, and nothing changes."""
import csv
import io
import os
import time

import pytest
import socketio

from tests.kb_files import upload
from tests.live import LiveServer, http_json

ADMIN = {"X-Admin-Token": "adm1n"}


@pytest.fixture(scope="module")
def server(stub):
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--admin-token", "adm1n",
                   "--token", "t0ken", "--graph-max-rows", "1000", "--rate-per-minute", "0",
                   "--rate-per-minute-ip", "0",
                   async_mode="eventlet").start()
    yield s
    s.stop()


def send(server, path: str, name: str, data: bytes):
    return upload(server.url, name, data, headers={**ADMIN, "Authorization": "Bearer t0ken"}, path=path)


def get(server, path: str):
    return http_json(server.url + path, headers={"Authorization": "Bearer t0ken"})


def entities(server) -> int:
    return get(server, "/api/graph/stats")[1]["entities"]


# ---- graph import and tuning files: parser errors are 400 with the line -------------------------------

def test_graph_import_refuses_unreadable_files_with_the_line_and_stores_nothing(server):
    cases = [
        (b"head,relation,tail\nA,r," + b"x" * 140_000 + b"\n", "Line 2"),  # a field past the csv module's limit
        (b"[" * 100_000 + b"\n", "line 1: nested too deeply"),  # RecursionError in json
        ('{"head": "\\ud800", "relation": "r", "tail": "B"}\n'.encode(), "line 1"),  # a lone surrogate
        (b"head,relation,tail\n!!!,r,???\nLoop,r,LOOP\n", "line 2: 'head' has no letters or digits"),
    ]
    for data, where in cases:
        name = "bad.jsonl" if data.startswith((b"[", b"{")) else "bad.csv"
        status, body = send(server, "/api/graph/import", name, data)
        assert status == 400 and body["error"]["code"] == "bad_request", (data[:40], body)
        assert where in body["error"]["message"], body
    assert entities(server) == 0  # not one entity was made


def test_graph_import_skips_names_that_reduce_to_nothing_and_self_loops_and_reads_cr_line_ends(server):
    status, body = send(server, "/api/graph/import", "mixed.csv",
                        b"head,relation,tail\r!!!,r,???\rLoop,r,LOOP\rAspirin,treats,Headache\r")
    assert status == 200, body
    assert body["import"]["facts"] == 1 and body["import"]["rows"] == 3
    assert body["import"]["skipped"] == [{"line": 2, "reason": "'head' has no letters or digits"},
                                         {"line": 3, "reason": "the head and the tail are the same"}]
    status, body = send(server, "/api/graph/import", "big.csv",
                        b"head,relation,tail\n" + b"".join(b"E%d,r,F%d\n" % (i, i) for i in range(1001)))
    assert status == 413 and "1,000 rows" in body["error"]["message"], body
    assert entities(server) == 2  # the refused file stored nothing


def test_csv_export_neutralizes_formulas_and_the_import_reads_them_back(server):
    names = ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)", "\tTabbed", "'quoted"]
    rows = io.StringIO()
    csv.writer(rows).writerows([("head", "relation", "tail")]
                               + [(n, "links", f"Plain{i}") for i, n in enumerate(names)])
    status, body = send(server, "/api/graph/import", "formulas.csv", rows.getvalue().encode())
    assert status == 200 and body["import"]["facts"] == len(names), body
    import urllib.request

    req = urllib.request.Request(server.url + "/api/graph/export?format=csv", headers={"Authorization": "Bearer t0ken"})
    with urllib.request.urlopen(req) as r:
        text = r.read().decode()
    cells = [row[0] for row in csv.reader(io.StringIO(text)) if row[1] == "links"]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'-3" in cells and "''quoted" in cells, cells
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
    # Imported again, the names are what they were: no new entity appears.
    before = entities(server)
    status, body = send(server, "/api/graph/import", "again.csv", text.encode())
    assert status == 200, body
    assert entities(server) == before
    found = get(server, "/api/graph/entities?q=HYPERLINK")[1]["entities"]
    assert [e["name"] for e in found] == ['=HYPERLINK("http://x")']


def test_tuning_preview_refuses_unreadable_files_with_the_line(server):
    cases = [
        ("t.csv", b"question,answer\nq," + b"x" * 140_000 + b"\n", 2),
        ("t.jsonl", b"[" * 100_000 + b"\n", 1),
        ("t.jsonl", b'{"prompt": "ok", "completion": "ok"}\n{"prompt": "\\ud800", "completion": "x"}\n', 2),
    ]
    for name, data, line in cases:
        status, body = send(server, "/api/tuning/preview", name, data)
        assert status == 400 and body["error"]["code"] == "bad_request", body
        assert body["error"]["lines"][0]["line"] == line and f"line {line}" in body["error"]["message"], body
    status, body = send(server, "/api/tuning/preview", "cr.csv", b"question,answer\rq1,a1\rq2,a2\r")
    assert status == 200 and body["examples"] == 2, body


def test_a_refused_tuning_file_leaves_no_file_behind(tmp_path):
    from server.tuning import Base, TuningService
    from server.tuning.data import DataError

    svc = TuningService(str(tmp_path), lambda wait: Base("base-model", str(tmp_path), True, "cpu"))
    with pytest.raises(DataError) as refused:
        svc.create("t.jsonl", b'{"prompt": "\\ud800", "completion": "x"}\n', {"name": "m1"})
    assert refused.value.lines[0]["line"] == 1
    assert [f for _, _, files in os.walk(tmp_path) for f in files] == []
    # And a write that fails halfway leaves no .tmp beside the file it was to replace.
    with pytest.raises(UnicodeEncodeError):
        svc.folder.write_json(str(tmp_path / "x.json"), {"text": "\ud800"})
    assert not (tmp_path / "x.json.tmp").exists()


# ---- sockets: lone surrogates --------------------------------------------------------------------------

def test_a_lone_surrogate_token_is_refused_at_once_as_a_wrong_token(server):
    sio = socketio.Client(reconnection=False)
    errors = []
    sio.on("connect_error", lambda data=None: errors.append(data))
    t0 = time.monotonic()
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(server.url, auth={"token": "\ud800"}, transports=["websocket"], wait_timeout=10)
    assert time.monotonic() - t0 < 5
    assert "unauthorized" in str(errors)
    assert "Traceback" not in server.output()


def test_lone_surrogates_in_messages_are_invalid_input_and_change_nothing(server, make_client):
    c = make_client(server.url, token="t0ken")
    done = c.wait_done(c.chat("hello there", model="words-3"))
    assert done["finish_reason"] == "stop"
    for event, payload in [("chat", {"message": "hi \ud800"}),
                           ("rename", {"session_id": c.session_id, "title": "\udfff"}),
                           ("list", {"query": "\ud800"}), ("settings", {"system": "be \ud800 kind"}),
                           ("chat", {"message": "hi", "system": "\ud800"}), ("settings", {"\ud800": 1})]:
        ack = c.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", (event, ack)
        assert "not valid Unicode" in ack["error"]["message"]
    # Nothing changed, and everything still works.
    assert c.call("settings")["settings"] == {}
    listed = c.call("list")["conversations"]
    assert [x["title"] for x in listed] == ["hello there"]
    assert len(c.call("history")["history"]) == 2
    assert c.call("rename", {"session_id": c.session_id, "title": "fine"})["ok"]
    assert "Traceback" not in server.output()


def test_bidi_overrides_are_taken_out_of_titles(server, make_client):
    c = make_client(server.url, token="t0ken")
    assert c.call("rename", {"session_id": c.session_id, "title": "invoice\u202etxt.exe\u2066"})["ok"]
    listed = c.call("list")["conversations"]
    assert [x["title"] for x in listed if x["session_id"] == c.session_id] == ["invoicetxt.exe"]
    ack = c.call("rename", {"session_id": c.session_id, "title": "\u202e\u202d"})
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request"


# ---- models that do not exist ------------------------------------------------------------------------

def test_an_unknown_model_is_not_found_and_settings_refuse_it(tmp_path_factory, make_server, make_client):
    from tests.tinymodel import build

    folder = build(str(tmp_path_factory.mktemp("tiny-model")))
    s = make_server("--backend", "local", "--model", folder, "--store", "memory", "--default-max-tokens", "4",
                    "--rate-per-minute", "0", "--rate-per-minute-ip", "0")
    c = make_client(s.url)
    ack = c.call("chat", {"message": "hi", "backend": "local", "model": "no-such-model"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
    assert "no-such-model" in ack["error"]["message"]
    assert c.of("done") == [] and c.call("history")["history"] == []
    ack = c.call("settings", {"model": "no-such-model"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
    assert c.call("settings")["settings"] == {}
    status, body = http_json(s.url + "/api/chat", {"message": "hi", "model": "no-such-model"})
    assert status == 404 and body["error"]["code"] == "not_found", body
    model = c.call("history") and http_json(s.url + "/api/backends")[1]["backends"][0]["default_model"]
    assert c.call("settings", {"model": model})["ok"]
    assert c.wait_done(c.chat("hi"))["finish_reason"] in ("stop", "length")


# ---- library uploads: names and transfer ----------------------------------------------------------------

def test_upload_names_are_checked_as_the_docs_say(server):
    status, body = send(server, "/api/kb/documents", "a/b.txt", b"Some text.")
    assert status == 400 and "plain name" in body["error"]["message"], body
    status, body = send(server, "/api/kb/documents", "x" * 5000 + ".txt", b"The canteen opens at 7.")
    assert status == 200 and body["document"]["title"].endswith(".txt"), body
    assert len(body["document"]["title"]) == 200
    status, body = send(server, "/api/kb/documents", "report\u202etxt.md", b"Quarterly numbers.")
    assert status == 200 and body["document"]["title"] == "reporttxt.md", body


def chunked_upload(server, name: str, text: bytes, piece_size: int = 40):
    """(status, JSON body) of a multipart upload sent with Transfer-Encoding: chunked (no Content-Length)."""
    import http.client
    import json
    import uuid

    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + text + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", "/api/kb/documents")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Transfer-Encoding", "chunked")
    for k, v in {**ADMIN, "Authorization": "Bearer t0ken"}.items():
        conn.putheader(k, v)
    conn.endheaders()
    try:
        for i in range(0, len(body), piece_size):
            piece = body[i:i + piece_size]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered before the end and closed: its answer is still there to read
    answer = conn.getresponse()
    return answer.status, json.loads(answer.read())


def test_a_chunked_upload_is_read_up_to_the_cap(server):
    status, body = chunked_upload(server, "chunked.txt", b"Sent in pieces.")
    assert status == 200 and body["document"]["title"] == "chunked.txt", body
    status, body = chunked_upload(server, "huge.txt", b"word " * 4_400_000, piece_size=1 << 20)  # 22 MB > 20 MB
    assert status == 413 and body["error"]["code"] == "too_long" and "20 MB" in body["error"]["message"], body


def test_a_deleted_tuned_model_is_not_found():
    from server.backends.local.backend import LocalBackend
    from server.chat.service import check_model
    from server.errors import ChatError

    backend = LocalBackend("/models/tiny")  # not started: the check reads only the names it serves
    backend.add_tuned("my-tuned", "/models/adapters/my-tuned")
    check_model(backend, "my-tuned")
    check_model(backend, backend.default_model)
    backend.remove_tuned("my-tuned")
    with pytest.raises(ChatError) as refused:
        check_model(backend, "my-tuned")
    assert refused.value.code == "not_found" and "'my-tuned'" in refused.value.message
    assert backend.default_model in refused.value.message  # the sentence names what there is instead
