"""run.py backup / restore (protocol 1.3): taken while a reply streams and an upload embeds, restored into an empty
folder and served: conversations, library, graph and tuned models whole."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
import requests

from tests.kb_files import upload
from tests.live import ROOT, Client, LiveServer, http_json
from tests.test_tuning import ADMIN, QUESTION, facts, post_job, until_job
from tests.tinymodel import build

NOTE = b"The pharmacy on the second floor opens at 07:30 and closes at 19:00."


def run_py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(ROOT, "run.py"), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def serve(stub, model: str, data_dir: str) -> LiveServer:
    return LiveServer("--backend", "openai", "--base-url", stub.url, "--local-model", model, "--embed-model", "builtin",
                      "--token", "TOK", "--admin-token", "ADM", "--data-dir", data_dir, "--rate-per-minute", "0",
                      "--rate-per-minute-ip", "0").start(timeout=240)


def greedy(url: str, model: str) -> str:
    c = Client(url, token="TOK")
    try:
        rid = c.chat(QUESTION, backend="local", model=model, params={"max_tokens": 8, "temperature": 0})
        c.wait_done(rid)
        return c.text_of(rid)
    finally:
        c.close()


def snapshot(url: str, client_id: str) -> dict:
    """What a restore must give back whole: a client's conversations, the library, a graph entity, tuned models."""
    conversations = requests.get(url + "/api/conversations",
                                 headers={"Authorization": "Bearer TOK", "X-Client-Id": client_id},
                                 timeout=30).json()["conversations"]
    _, docs = http_json(url + "/api/kb/documents", headers=ADMIN)
    _, found = http_json(url + "/api/kb/search", {"query": "When does the pharmacy open?"}, headers=ADMIN)
    _, entities = http_json(url + "/api/graph/entities?q=Aspirin", headers=ADMIN)
    _, backends = http_json(url + "/api/backends", headers=ADMIN)
    local = next(b for b in backends["backends"] if b["name"] == "local")
    return {"conversations": [(c["session_id"], c["title"], c["messages"]) for c in conversations],
            "documents": {d["id"]: (d["title"], d["chunks"]) for d in docs["documents"]},
            "pharmacy": found["results"][0]["text"] if found["results"] else None,
            "aspirin": [e["name"] for e in entities["entities"]], "tuned": local["tuned"]}


def test_backup_while_busy_then_restore_and_serve(stub, tmp_path):
    model = build(str(tmp_path / "tiny"), endless=True)
    data = str(tmp_path / "data")
    server = serve(stub, model, data)
    try:
        status, body = post_job(server, "rooms-v1", facts(12), epochs=10, learning_rate=0.01)
        assert status == 200, body
        assert until_job(server, body["job"]["id"],
                         lambda j: j["status"] not in ("queued", "running"))["status"] == "done"
        tuned = greedy(server.url, "rooms-v1")
        assert upload(server.url, "pharmacy.txt", NOTE, headers=ADMIN)[0] == 200
        csv = "head,relation,tail\nAspirin,treats,Headache\nIbuprofen,treats,Fever\n".encode()
        assert upload(server.url, "facts.csv", csv, headers=ADMIN, path="/api/graph/import")[0] == 200
        client_id = "backup-client-0123456789abcdef"
        chat = Client(server.url, token="TOK", client_id=client_id)
        chat.wait_done(chat.chat("Where is the pharmacy?", model="words-5"))
        before = snapshot(server.url, client_id)

        # Busy: a reply streams (400 words, 50 ms apart: 20 s) and a long upload is being embedded. 200 paragraphs
        # embedded for 35 s on the loaded 2 cores (600 for 105 s), the backup taking 3 s there; with 100 the upload
        # still ran 27 s after the backup's end (load 6-7: the library reads at nice 10). A reply of 10 s had ended
        # before the backup at load 15 (its own start imports the server); the upload's end is waited for anyway.
        streaming = chat.chat("Tell me more.", model="slow-400")
        chat.wait("token", lambda t: t["request_id"] == streaming)
        big = "\n\n".join(f"Ward {i} visiting hours are {i % 12 + 1} to {i % 12 + 3} in the afternoon, room {i * 3}."
                          for i in range(100)).encode()
        uploaded = {}
        uploader = threading.Thread(target=lambda: uploaded.update(r=upload(server.url, "wards.txt", big, headers=ADMIN,
                                                                            timeout=300)))
        uploader.start()
        for _ in range(600):
            progress = http_json(server.url + "/api/kb/progress", headers=ADMIN)[1]["progress"]
            if progress and progress["phase"] == "embedding":
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the upload never reached its embedding phase")

        archive = str(tmp_path / "backup.tar.gz")
        made = run_py("backup", archive, "--data-dir", data)
        assert made.returncode == 0, made.stderr
        assert "Backed up" in made.stdout
        busy_at_the_end = uploader.is_alive() and not chat.of("done", streaming)
        uploader.join(300)
        assert uploaded["r"][0] == 200 and chat.wait_done(streaming)["finish_reason"] == "stop"
        assert busy_at_the_end  # the backup did not wait for them, nor stop them
    finally:
        server.stop()

    refused = run_py("restore", archive, "--data-dir", data)
    assert refused.returncode != 0 and "already holds data" in refused.stderr
    restored_dir = str(tmp_path / "restored")
    restored = run_py("restore", archive, "--data-dir", restored_dir)
    assert restored.returncode == 0, restored.stderr

    again = serve(stub, model, restored_dir)
    try:
        after = snapshot(again.url, client_id)
        # The conversation from before, whole; the one streaming during the backup is there as far as it was kept.
        first = next(c for c in before["conversations"])
        assert first in after["conversations"] \
            or any(c[0] == first[0] and c[2] >= first[2] for c in after["conversations"])
        history = Client(again.url, token="TOK", client_id=client_id, session_id=first[0])
        try:
            shown = history.wait("ready")["history"]
            assert shown[0]["content"] == "Where is the pharmacy?" and shown[1]["content"] == "w0 w1 w2 w3 w4 "
        finally:
            history.close()
        # The library as it was before the upload that was embedding (a half-added document never shows).
        assert after["documents"] == before["documents"] and after["pharmacy"] == before["pharmacy"]
        assert after["aspirin"] == ["Aspirin"] and after["tuned"] == before["tuned"] != []
        assert greedy(again.url, "rooms-v1") == tuned  # the tuned model answers as it did
    finally:
        again.stop()
