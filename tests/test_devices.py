"""One person's chats on two devices (protocol 1.2, "Devices"): pair, redeem, same list, live replies (issue 24)."""
from __future__ import annotations

import itertools
import time

import pytest

from server.devices import ALPHABET, MemoryCodes, RedisCodes, normalize
from server.errors import ChatError
from tests.cluster import Cluster, RedisServer
from tests.live import LiveServer, http_json

FIRST = "first-device-client-id-0000000001"
_addresses = itertools.count(10)


def address() -> dict:
    """A client address of its own (the server trusts X-Forwarded-For here), so limits do not mix tests."""
    return {"X-Forwarded-For": f"10.0.0.{next(_addresses)}"}


def pair(url: str, client_id: str = FIRST, headers: dict | None = None) -> dict:
    status, body = http_json(url + "/api/devices/pair", {},
                             headers={"X-Client-Id": client_id, **(headers or address())})
    assert status == 200 and body["ok"], body
    return body


def redeem(url: str, code: str, headers: dict | None = None):
    return http_json(url + "/api/devices/redeem", {"code": code}, headers=headers or address())


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def server(stub, request):
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--embed-model", "none",
                   "--behind-proxy", "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                   async_mode=request.param).start()
    yield s
    s.stop()


def test_pair_gives_a_short_code_a_link_and_a_qr_code(server):
    body = pair(server.url)
    code = body["code"]
    assert len(code) == 8 and set(code) <= set(ALPHABET) and not set(code) & set("01OI")
    assert body["expires_in"] == 600
    assert body["url"].endswith("/#pair=" + code) and body["url"].startswith("http://")
    assert body["qr"].startswith("data:image/svg+xml")
    status, body = http_json(server.url + "/api/devices/pair", {}, headers={**address(), "X-Client-Id": "short"})
    assert status == 400 and body["error"]["code"] == "bad_request"


def test_second_device_sees_the_same_list_and_the_reply_live(server, make_client):
    a = make_client(server.url, client_id=FIRST + "a")
    first = a.chat("Remember the blue door", model="words-4")
    a.wait_done(first)
    code = pair(server.url, FIRST + "a")["code"]
    status, body = redeem(server.url, code.lower()[:4] + "-" + code.lower()[4:])  # as a person types it
    assert status == 200 and body == {"ok": True, "client_id": FIRST + "a"}

    b = make_client(server.url, client_id=body["client_id"])
    listed = b.call("list")
    assert [c["session_id"] for c in listed["conversations"]] == [a.session_id]
    assert listed["conversations"][0]["title"].startswith("Remember the blue door")
    opened = b.call("open", {"session_id": a.session_id})
    assert opened["ok"] and [m["role"] for m in opened["history"]] == ["user", "assistant"]
    status, body = http_json(server.url + "/api/conversations", headers={"X-Client-Id": FIRST + "a"})
    assert [c["session_id"] for c in body["conversations"]] == [a.session_id]

    # A reply asked for on the first device streams live to the second, which follows the conversation.
    rid = a.chat("And the red one?", model="slow-20")
    done = b.wait_done(rid)
    assert done["finish_reason"] == "stop"
    assert b.text_of(rid) == a.text_of(rid) == done["text"] != ""
    assert [t["seq"] for t in b.of("token", rid)] == list(range(len(b.of("token", rid))))
    # ...and the other way round.
    rid = b.chat("Which door?", model="words-3")
    assert a.wait_done(rid)["text"] == b.wait_done(rid)["text"]


def test_used_wrong_and_malformed_codes_are_refused(server):
    code = pair(server.url)["code"]
    assert redeem(server.url, code)[0] == 200
    status, body = redeem(server.url, code)
    assert status == 404 and body["error"]["code"] == "not_found" and "already used" in body["error"]["message"]
    other = "".join(ALPHABET[(ALPHABET.index(c) + 1) % len(ALPHABET)] for c in pair(server.url)["code"])
    status, body = redeem(server.url, other)
    assert status == 404 and "No such code" in body["error"]["message"]
    for bad in ("0000-0000", "abc", 12345678, None):
        status, body = redeem(server.url, bad)
        assert status == 400 and body["error"]["code"] == "bad_request" and "8 letters" in body["error"]["message"]
    status, body = http_json(server.url + "/api/devices/redeem", {"code": code, "client_id": "x"}, headers=address())
    assert status == 400


def test_guessing_from_one_address_is_throttled(server):
    guesser = address()
    statuses = [redeem(server.url, "ABCD" + f"{n:04d}".translate(str.maketrans("0123456789", "23456789AB")),
                       guesser)[0] for n in range(100)]
    assert statuses[:10] == [404] * 10 and statuses[10:] == [429] * 90
    status, body = redeem(server.url, "ABCDEFGH", guesser)
    assert status == 429 and "codes tried" in body["error"]["message"]
    # Even a right code waits, from that address; another address redeems it.
    code = pair(server.url)["code"]
    assert redeem(server.url, code, guesser)[0] == 429
    assert redeem(server.url, code)[0] == 200


def test_expired_code_is_refused(stub):
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--embed-model", "none",
                   "--pair-ttl", "1").start()
    try:
        body = pair(s.url, headers={})
        assert body["expires_in"] == 1
        time.sleep(1.5)  # the code's own lifetime, not a wait on the server
        status, body = redeem(s.url, body["code"], headers={})
        assert status == 404 and "expired" in body["error"]["message"]
        assert "codes last 1 second)" in body["error"]["message"]  # this server's --pair-ttl, not the default
    finally:
        s.stop()


def test_forwarded_addresses_are_believed_only_from_the_trusted_proxy(stub, make_server):
    """A client that reaches the port directly cannot name itself anew in X-Forwarded-For to dodge the throttle."""
    direct = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--embed-model", "none",
                         "--behind-proxy", "--trusted-proxy", "10.9.9.9,192.168.0.0/16")
    statuses = [http_json(direct.url + "/api/devices/redeem", {"code": "ABCDEFGH"}, headers=address())[0]
                for _ in range(11)]
    assert statuses == [404] * 10 + [429]  # every try counted against 127.0.0.1, whatever it claimed
    # Through a proxy on loopback (the default --trusted-proxy) each forwarded address has its own count.
    proxied = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--embed-model", "none",
                          "--behind-proxy")
    statuses = [http_json(proxied.url + "/api/devices/redeem", {"code": "ABCDEFGH"}, headers=address())[0]
                for _ in range(11)]
    assert statuses == [404] * 11


def test_codes_work_on_every_process_of_a_cluster(stub):
    cluster = Cluster(2, "--backend", "openai", "--base-url", stub.url, "--embed-model", "none").start()
    try:
        one, two = cluster.servers
        code = pair(one.url, FIRST + "c")["code"]
        status, body = redeem(two.url, code)
        assert status == 200 and body["client_id"] == FIRST + "c"
        status, body = redeem(one.url, code)
        assert status == 404 and "already used" in body["error"]["message"]
        assert cluster.redis.client().keys("chat:pair:" + code) == []  # taken, not left behind
    finally:
        cluster.stop()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def refusal(codes, code) -> str:
    with pytest.raises(ChatError) as e:
        codes.take(code)
    assert e.value.code == "not_found"
    return e.value.message


@pytest.fixture(params=["memory", "redis"])
def codes(request, tmp_path):
    clock = Clock()
    if request.param == "memory":
        yield MemoryCodes(clock), clock
        return
    redis = RedisServer(str(tmp_path)).start()
    try:
        yield RedisCodes(redis.client(), clock), clock
    finally:
        redis.stop()


def test_code_store_one_use_and_expiry(codes):
    store, clock = codes
    code = store.put(FIRST, 600)
    clock.now += 599
    assert store.take(code) == FIRST
    assert "already used" in refusal(store, code)
    late = store.put(FIRST, 600)
    clock.now += 600
    assert "expired" in refusal(store, late)
    assert "expired" in refusal(store, late)  # still says why, not "no such code"
    assert "No such code" in refusal(store, "ABCDEFGH")


def test_typed_codes_are_normalized():
    assert normalize(" abcd-efgh ") == "ABCDEFGH"
    assert normalize("ABCD EFGH") == "ABCDEFGH"
    assert normalize("ABCDEFG0") is None and normalize("ABCDEFGHJ") is None and normalize(None) is None
