"""Roles (protocol 1.2): the admin token guards what everyone shares; the access token only chats (issue 24)."""
from __future__ import annotations

import urllib.request
import uuid

import pytest

from tests.kb_files import upload
from tests.live import Client, LiveServer, http_json

CHAT, ADMIN = "chat-T0KEN-7781", "adm1n-S3CRET-9042"
NOTE = "The staff room code is 4711 and the kettle is in the second cupboard.".encode()
NONE, AS_CHAT = {}, {"Authorization": f"Bearer {CHAT}"}
AS_ADMIN = {"Authorization": f"Bearer {CHAT}", "X-Admin-Token": ADMIN}  # what the page sends once unlocked
ADMIN_ALONE = {"Authorization": f"Bearer {ADMIN}"}  # a script holding only the admin token
OPEN_ADMIN = {"X-Admin-Token": ADMIN}


def titles(url: str, headers: dict) -> list[str]:
    status, body = http_json(url + "/api/kb/documents", headers=headers)
    assert status == 200, body
    return [d["title"] for d in body["documents"]]


def library_upload(url: str, headers: dict, setup: dict):
    """Add a document; (status, body, whether the library changed)."""
    name = f"note-{len(titles(url, setup))}.txt"
    status, body = upload(url, name, NOTE + name.encode(), headers=headers)
    return status, body, name in titles(url, setup)


def library_delete(url: str, headers: dict, setup: dict):
    """Delete a document the admin added; (status, body, whether the library changed)."""
    name = f"gone-{len(titles(url, setup))}.txt"
    status, body = upload(url, name, NOTE + name.encode(), headers=setup)
    assert status == 200, body
    status, body = http_json(f"{url}/api/kb/documents/{body['document']['id']}", headers=headers, method="DELETE")
    return status, body, name not in titles(url, setup)


def graph_csv(url: str, headers: dict, *heads: str) -> int:
    """Import one fact per head (head -treats-> a shared tail); the import's status."""
    rows = "".join(f"{h},treats,Tail-{h}\n" for h in heads)
    return upload(url, "facts.csv", f"head,relation,tail\n{rows}".encode(), headers=headers,
                  path="/api/graph/import")[0]


def graph_entity(url: str, headers: dict, name: str) -> dict | None:
    status, body = http_json(f"{url}/api/graph/entities?q={name}", headers=headers)
    assert status == 200, body
    return next((e for e in body["entities"] if e["name"] == name), None)


def graph_import(url: str, headers: dict, setup: dict):
    """Import a fact; (status, body, whether the graph changed)."""
    name = f"Imp{uuid.uuid4().hex[:8]}"
    rows = f"head,relation,tail\n{name},treats,Tail-{name}\n".encode()
    status, body = upload(url, "facts.csv", rows, headers=headers, path="/api/graph/import")
    return status, body, graph_entity(url, setup, name) is not None


def graph_fact_delete(url: str, headers: dict, setup: dict):
    """Delete a fact the admin imported; (status, body, whether the graph changed)."""
    name = f"Del{uuid.uuid4().hex[:8]}"
    assert graph_csv(url, setup, name) == 200
    fact = lambda: http_json(f"{url}/api/graph/entities/{graph_entity(url, setup, name)['id']}",  # noqa: E731
                             headers=setup)[1]["facts"]
    status, body = http_json(f"{url}/api/graph/facts/{fact()[0]['id']}", headers=headers, method="DELETE")
    return status, body, fact() == []


def two_entities(url: str, setup: dict) -> tuple[dict, str]:
    """Two new entities imported by the admin: ({keep, merge} ids, the name of the one to merge)."""
    keep, gone = f"Keep{uuid.uuid4().hex[:8]}", f"Gone{uuid.uuid4().hex[:8]}"
    assert graph_csv(url, setup, keep, gone) == 200
    return {"keep": graph_entity(url, setup, keep)["id"], "merge": [graph_entity(url, setup, gone)["id"]]}, gone


def graph_merge(url: str, headers: dict, setup: dict):
    """Merge one entity into another; (status, body, whether the merged one is gone)."""
    ids, gone = two_entities(url, setup)
    status, body = http_json(f"{url}/api/graph/merge", ids, headers=headers)
    return status, body, graph_entity(url, setup, gone) is None


def graph_unmerge(url: str, headers: dict, setup: dict):
    """Undo a merge the admin made; (status, body, whether the merged entity stands alone again)."""
    ids, gone = two_entities(url, setup)
    status, body = http_json(f"{url}/api/graph/merge", ids, headers=setup)
    assert status == 200 and graph_entity(url, setup, gone) is None, body
    status, body = http_json(f"{url}/api/graph/merges/{body['merge']['id']}", headers=headers, method="DELETE")
    return status, body, graph_entity(url, setup, gone) is not None


def refused_or_reached(method: str, path: str, body=None):
    """A write whose real success is slow (a build, a training run): (status, body, False); "ok" is that the
    route let the caller in (any answer but 401/403: 404 for an unknown id, 400 for a bad body, 503 without
    the local model)."""
    def write(url: str, headers: dict, setup: dict):
        status, answer = http_json(url + path, body, headers=headers, method=method)
        return status, answer, False
    return write


def done(status: int, body, changed: bool) -> bool:
    """What an admin's write must give: a real change, or for a slow one, being let in."""
    return status == 200 and body["ok"] and changed


def let_in(status: int, body, changed: bool) -> bool:
    return status not in (401, 403) and isinstance(body, dict) and "ok" in body


# Every route that changes what everyone shares (library, graph, fine-tuning): (name, write, what an admin gets).
SHARED_WRITES = [
    ("library upload", library_upload, done),
    ("library delete", library_delete, done),
    ("graph import", graph_import, done),
    ("graph fact delete", graph_fact_delete, done),
    ("graph merge", graph_merge, done),
    ("graph merge undo", graph_unmerge, done),
    ("graph build", refused_or_reached("POST", "/api/graph/build", {"documents": ["no-such-document"]}), let_in),
    ("graph build cancel", refused_or_reached("DELETE", "/api/graph/jobs/no-such-job"), let_in),
    ("tuning job create", refused_or_reached("POST", "/api/tuning/jobs", {}), let_in),
    ("tuning job list", refused_or_reached("GET", "/api/tuning/jobs"), let_in),
    ("tuning job delete", refused_or_reached("DELETE", "/api/tuning/jobs/no-such-job"), let_in),
]


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def mode(request):
    return request.param


def serve(stub, mode: str, *flags: str) -> LiveServer:
    return LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--store", "memory",
                      "--log-level", "DEBUG", *flags, async_mode=mode).start()


@pytest.fixture(scope="module")
def both_tokens(stub, mode):
    s = serve(stub, mode, "--token", CHAT, "--admin-token", ADMIN)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin_only(stub, mode):
    s = serve(stub, mode, "--admin-token", ADMIN)
    yield s
    s.stop()


@pytest.mark.parametrize("name, write, ok", SHARED_WRITES, ids=[w[0] for w in SHARED_WRITES])
def test_shared_writes_need_the_admin_token(both_tokens, name, write, ok):
    url = both_tokens.url
    status, body, changed = write(url, NONE, AS_ADMIN)
    assert status == 401 and body["error"]["code"] == "unauthorized" and not changed  # not even let in
    status, body, changed = write(url, AS_CHAT, AS_ADMIN)
    assert status == 403 and not changed, (name, body)
    assert body["error"]["code"] == "forbidden" and "admin" in body["error"]["message"]
    status, body, changed = write(url, {**AS_CHAT, "X-Admin-Token": "wrong"}, AS_ADMIN)
    assert status == 403 and not changed
    for headers in (AS_ADMIN, ADMIN_ALONE):
        status, body, changed = write(url, headers, AS_ADMIN)
        assert ok(status, body, changed), (name, status, body)


@pytest.mark.parametrize("name, write, ok", SHARED_WRITES, ids=[w[0] for w in SHARED_WRITES])
def test_open_server_with_an_admin_token(admin_only, name, write, ok):
    """No access token: anyone chats and reads, only the admin token writes."""
    status, body, changed = write(admin_only.url, NONE, OPEN_ADMIN)
    assert status == 403 and body["error"]["code"] == "forbidden" and not changed
    status, body, changed = write(admin_only.url, OPEN_ADMIN, OPEN_ADMIN)
    assert ok(status, body, changed), (name, status, body)


def test_reads_and_chats_need_only_the_access_token(both_tokens, admin_only):
    for url, reader in ((both_tokens.url, AS_CHAT), (admin_only.url, NONE)):
        assert http_json(url + "/api/kb/documents", headers=reader)[0] == 200
        assert http_json(url + "/api/kb/search", {"query": "kettle"}, headers=reader)[0] == 200
        status, body = http_json(url + "/api/chat", {"message": "hi", "model": "words-3"}, headers=reader)
        assert status == 200 and body["ok"], body
    # The admin token is an access token too: for a socket and for /api/.
    c = Client(both_tokens.url, token=ADMIN)
    try:
        assert c.of("ready")
    finally:
        c.close()
    assert http_json(both_tokens.url + "/api/backends", headers=OPEN_ADMIN)[0] == 200


def test_roles_route_says_what_a_token_may_do(both_tokens, admin_only):
    url = both_tokens.url
    assert http_json(url + "/api/roles", headers=AS_CHAT)[1] == {"ok": True, "admin": False, "admin_token_set": True}
    assert http_json(url + "/api/roles", headers=AS_ADMIN)[1]["admin"] is True
    assert http_json(url + "/api/roles", headers=ADMIN_ALONE)[1]["admin"] is True
    assert http_json(url + "/api/roles", headers={**AS_CHAT, "X-Admin-Token": "nope"})[1]["admin"] is False
    assert http_json(url + "/api/roles")[0] == 401
    assert http_json(admin_only.url + "/api/roles")[1] == {"ok": True, "admin": False, "admin_token_set": True}


def test_admin_token_never_in_logs_or_pages(both_tokens):
    url = both_tokens.url
    seen = []
    for path in ("/", "/?test=1"):
        with urllib.request.urlopen(url + path) as r:
            seen.append(r.read().decode())
    seen.append(repr(http_json(url + "/api/roles", headers=AS_ADMIN)))
    seen.append(repr(http_json(url + "/api/kb/documents/nope", headers={**AS_CHAT, "X-Admin-Token": ADMIN + "x"},
                               method="DELETE")))
    seen.append(both_tokens.output())  # the server's own log, at DEBUG, after admin requests
    assert "admin token changes" in seen[-1]  # the start-up sentence is there...
    for text in seen:
        assert ADMIN not in text and "S3CRET-9042" not in text  # ...the token is not
        assert CHAT not in text


@pytest.mark.parametrize("flags, sentence", [
    ((), "Anyone on this network may chat and change the library"),
    (("--token", CHAT), "The token lets a device chat and change the library"),
    (("--admin-token", ADMIN), "Anyone on this network may chat; the admin token changes the library"),
    (("--token", CHAT, "--admin-token", ADMIN), "The token lets a device chat; the admin token changes the library"),
])
def test_start_up_says_who_may_do_what(stub, flags, sentence):
    s = serve(stub, "threading", *flags)
    try:
        out = s.output()
        assert sentence in out and ADMIN not in out and CHAT not in out
    finally:
        s.stop()


def test_single_token_holder_is_admin_without_admin_token(stub, mode):
    """Before --admin-token existed the token holder managed the library: that still holds."""
    s = serve(stub, mode, "--token", CHAT)
    try:
        for name, write, ok in SHARED_WRITES:
            status, body, changed = write(s.url, AS_CHAT, AS_CHAT)
            assert ok(status, body, changed), (name, status, body)
            status, body, changed = write(s.url, NONE, AS_CHAT)
            assert status == 401 and not changed
        assert http_json(s.url + "/api/roles", headers=AS_CHAT)[1] == {"ok": True, "admin": True,
                                                                       "admin_token_set": False}
    finally:
        s.stop()
