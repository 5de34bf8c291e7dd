"""The audit log (protocol 1.3): every shared change and every refused admin request,
kept with the data, never a token."""
from __future__ import annotations

import os
import uuid

import pytest

from server.web.audit import action_of
from tests.live import LiveServer, http_json
from tests.test_roles import (ADMIN, AS_ADMIN, AS_CHAT, CHAT, graph_fact_delete, graph_import, graph_merge,
                              graph_unmerge, library_delete, library_upload, refused_or_reached)

DEVICE = "audit-device-" + uuid.uuid4().hex[:12]  # a client id (X-Client-Id): only its hash may be kept
ADMIN_DEVICE = {**AS_ADMIN, "X-Client-Id": DEVICE}
# (write, the action it is logged as)
WRITES = [
    (library_upload, "kb.add"),
    (library_delete, "kb.delete"),
    (graph_import, "graph.import"),
    (graph_fact_delete, "graph.fact_delete"),
    (graph_merge, "graph.merge"),
    (graph_unmerge, "graph.unmerge"),
    (refused_or_reached("POST", "/api/graph/build", {"documents": ["no-such-document"]}), "graph.build"),
    (refused_or_reached("POST", "/api/tuning/jobs", {}), "tuning.start"),
    (refused_or_reached("DELETE", "/api/tuning/jobs/no-such-job"), "tuning.delete"),
]


@pytest.fixture(scope="module")
def server(stub):
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none",
                   "--token", CHAT, "--admin-token", ADMIN).start()
    yield s
    s.stop()


def audit(url: str, query: str = "", headers: dict = AS_ADMIN) -> list[dict]:
    status, body = http_json(f"{url}/api/audit{query}", headers=headers)
    assert status == 200, body
    return body["entries"]


def test_every_shared_change_and_every_refusal_is_logged_without_a_token(server):
    url = server.url
    for write, action in WRITES:
        before = audit(url, "?limit=1")
        status, _, _ = write(url, ADMIN_DEVICE, AS_ADMIN)
        new = [e for e in audit(url, "?limit=20") if not before or e["at"] > before[0]["at"]]
        mine = [e for e in new if e["action"] == action and e["role"] == "admin"]
        assert mine, (action, new)
        last = mine[0]  # newest first: the write itself, after any setup the helper did
        assert last["ok"] == (status < 400) and last["address"] == "127.0.0.1", last
        assert last["device"] and last["device"] != DEVICE and DEVICE not in str(new)

        status, body, changed = write(url, AS_CHAT, AS_ADMIN)  # someone with the chat token only
        assert status == 403 and not changed
        refusal = audit(url, "?limit=1")[0]
        assert refusal == {**refusal, "action": action, "ok": False, "role": "user", "detail": "forbidden"}

    kb = audit(url, "?action=kb.add&limit=50")
    assert kb and {e["action"] for e in kb} == {"kb.add"}
    added = [e for e in kb if e["ok"]]
    assert {e["detail"] for e in added} >= {"note-0.txt", "gone-1.txt"}  # the document's file name...
    assert all(len(e["target"]) == 16 for e in added)  # ...and its id
    # Pages: everything older than an entry, newest first.
    everything = audit(url, "?limit=500")
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    assert audit(url, f"?before={everything[2]['at']}&limit=3") == everything[3:6]

    # Reading the log is for the admin; trying is itself logged.
    status, body = http_json(url + "/api/audit", headers=AS_CHAT)
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert audit(url, "?limit=1")[0]["action"] == "audit.entries"
    assert http_json(url + "/api/audit?limit=0", headers=AS_ADMIN)[0] == 400

    # A wrong admin token and a missing access token are refusals too.
    http_json(url + "/api/graph/merge", {"keep": "a", "merge": ["b"]},
              headers={**AS_CHAT, "X-Admin-Token": "wrong-guess"})
    http_json(url + "/api/graph/merge", {"keep": "a", "merge": ["b"]})
    last_two = audit(url, "?limit=2")
    assert [(e["action"], e["ok"], e["detail"]) for e in last_two] == [("graph.merge", False, "unauthorized"),
                                                                      ("graph.merge", False, "forbidden")]

    # Kept with the data, and no token in any file of the data folder (nor the client id in clear).
    for root, _, files in os.walk(server.data_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            for secret in (ADMIN, CHAT, "wrong-guess", DEVICE):
                assert secret.encode() not in data, (secret, name)


def test_the_log_outlives_a_restart(stub):
    first = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--admin-token", ADMIN)
    first.start()
    try:
        assert http_json(first.url + "/api/graph/merge", {"keep": "x", "merge": ["y"]})[0] == 403
    finally:
        first.stop()
    again = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--admin-token", ADMIN,
                       "--data-dir", first.data_dir).start()
    try:
        entries = audit(again.url, headers={"X-Admin-Token": ADMIN})
        assert [(e["action"], e["ok"], e["role"]) for e in entries] == [("graph.merge", False, "user")]
    finally:
        again.stop()


def test_a_delete_that_stops_a_running_job_is_a_cancel():
    rule = "/api/tuning/jobs/<job_id>"
    assert action_of("DELETE", rule, {"ok": True, "job": {"id": "j", "status": "cancelled"}}) == "tuning.cancel"
    assert action_of("DELETE", rule, {"ok": True}) == "tuning.delete"
    assert action_of("POST", "/api/graph/proposals/<proposal_id>/accept", {"ok": True}) == "graph.proposal"
    assert action_of("POST", "/api/kb/search", {"ok": True}) is None
