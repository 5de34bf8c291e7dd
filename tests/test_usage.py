"""Usage per device per day and the daily token quota (protocol 1.3), on one process and on two sharing Redis."""
from __future__ import annotations

import uuid
from datetime import datetime

from server.store.ledger import device_of
from tests.cluster import Cluster
from tests.live import LiveServer, http_json

ADMIN = "usage-admin-5521"
AS_ADMIN = {"X-Admin-Token": ADMIN}
# The stub answers "words-3" with three words and reports 7 prompt + 3 completion tokens: 10 a chat.
PER_CHAT, QUOTA = 10, 25  # so a device chats three times (0, 10, 20 used before each) and the fourth is refused
FLAGS = ("--embed-model", "none", "--admin-token", ADMIN, "--quota-tokens", str(QUOTA),
         "--rate-per-minute", "0", "--rate-per-minute-ip", "0")


def chat(make_client, url: str, client_id: str) -> dict:
    """One chat over Socket.IO: the ack, and once accepted, its `done`."""
    c = make_client(url, client_id=client_id)
    ack = c.call("chat", {"message": "hello", "model": "words-3"})
    if ack["ok"]:
        c.wait_done(ack["request_id"])
    return ack


def rows_of(url: str, client_id: str) -> list[dict]:
    status, body = http_json(url + "/api/usage?days=2", headers=AS_ADMIN)
    assert status == 200, body
    return [r for r in body["days"] if r["device"] == device_of(client_id)]


def check_quota(make_client, urls: list[str]) -> None:
    """One device chats (spread over the servers given) until refused; another goes on; usage shows both."""
    heavy, light = "heavy-" + uuid.uuid4().hex, "light-" + uuid.uuid4().hex
    for i in range(3):
        assert chat(make_client, urls[i % len(urls)], heavy)["ok"]
    refused = chat(make_client, urls[-1], heavy)
    assert refused["ok"] is False and refused["error"]["code"] == "quota"
    message = refused["error"]["message"]
    assert f"{QUOTA:,} tokens" in message and "midnight" in message and " in " in message, message
    assert chat(make_client, urls[0], light)["ok"]  # other devices go on

    # /api/chat is refused the same way, with 429.
    status, body = http_json(urls[0] + "/api/chat", {"message": "hi", "model": "words-3"},
                             headers={"X-Client-Id": heavy})
    assert status == 429 and body["error"]["code"] == "quota"

    today = datetime.now().strftime("%Y-%m-%d")
    assert rows_of(urls[-1], heavy) == [{"date": today, "device": device_of(heavy), "backend": "openai",
                                         "model": "words-3",
                                         "requests": 3, "prompt_tokens": 21, "completion_tokens": 9}]
    assert [(r["requests"], r["completion_tokens"]) for r in rows_of(urls[0], light)] == [(1, 3)]


def test_usage_and_quota_on_one_process(stub, make_client):
    server = LiveServer("--backend", "openai", "--base-url", stub.url, *FLAGS).start()
    try:
        check_quota(make_client, [server.url])
        # A /v1 caller has no client id: it counts under its address.
        status, body = http_json(server.url + "/v1/chat/completions",
                                 {"model": "words-5", "messages": [{"role": "user", "content": "hi"}]})
        assert status == 200, body
        assert [(r["requests"], r["prompt_tokens"], r["completion_tokens"])
                for r in rows_of(server.url, "addr:127.0.0.1")] \
            == [(1, 7, 5)]
        status, body = http_json(server.url + "/api/usage")
        assert status == 403 and body["error"]["code"] == "forbidden"
        assert http_json(server.url + "/api/usage?days=0", headers=AS_ADMIN)[0] == 400
    finally:
        server.stop()


def test_usage_and_quota_across_two_processes_on_redis(stub, make_client):
    cluster = Cluster(2, "--backend", "openai", "--base-url", stub.url, *FLAGS).start()
    try:
        urls = [s.url for s in cluster.servers]
        check_quota(make_client, urls)
        # The audit log is shared too: a refusal on one process is read on the other, once.
        assert http_json(urls[0] + "/api/graph/merge", {"keep": "a", "merge": ["b"]})[0] == 403
        status, body = http_json(urls[1] + "/api/audit?action=graph.merge", headers=AS_ADMIN)
        assert status == 200 and [(e["action"], e["ok"], e["role"]) for e in body["entries"]] \
            == [("graph.merge", False, "user")]
    finally:
        cluster.stop()
