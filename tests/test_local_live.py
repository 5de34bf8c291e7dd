"""The local backend behind the live server (both async modes): streaming, turns with positions, stop, thinking."""
from __future__ import annotations

import time

import pytest

from tests.live import LiveServer, http_json
from tests.tinymodel import build


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-live")
    # A long context (and --max-tokens-cap below) so that one reply outlasts the responsiveness check:
    # the tiny model streamed 1,100 tokens/s here, so a reply of 4,096 tokens ended within its 4 s.
    return {"endless": build(str(root / "endless"), endless=True, max_positions=16384),
            "think": build(str(root / "think"), endless=True, think=True)}


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def local(request, tiny_dirs):
    # Short heartbeats: an event loop blocked by torch would drop sockets within seconds.
    server = LiveServer("--backend", "local", "--model", tiny_dirs["endless"], "--rate-per-minute", "0",
                        "--rate-per-minute-ip", "0", "--orphan-limit", "0", "--ping-interval", "1",
                        "--ping-timeout", "2", "--batch-size", "2",
                        "--default-max-tokens", "24", "--max-tokens-cap", "16000",
                        async_mode=request.param).start(timeout=180)
    yield server
    server.stop()


def test_reply_streams_to_max_tokens_and_enters_history(local, make_client):
    c = make_client(local.url)
    backend = [b for b in c.of("ready")[0]["backends"] if b["name"] == "local"][0]
    assert backend["model_ready"] and backend["default_model"] == "endless"
    rid = c.chat("hello", params={"max_tokens": 40, "do_sample": False})
    done = c.wait_done(rid)
    tokens = c.of("token", rid)
    assert [t["seq"] for t in tokens] == list(range(len(tokens)))
    assert done["finish_reason"] == "length" and done["usage"]["completion_tokens"] == 40
    assert done["text"] == c.text_of(rid) and done["text"].strip()
    assert c.call("history")["history"] == [{"role": "user", "content": "hello"},
                                            {"role": "assistant", "content": done["text"]}]
    # Greedy is greedy through the whole server too.
    again = c.wait_done(c.chat("hello", params={"max_tokens": 40, "do_sample": False}))
    assert c.call("truncate", {"keep": 0})["ok"]
    assert again["text"] != "" and done["usage"]["prompt_tokens"] < again["usage"]["prompt_tokens"]  # history sent


def test_default_max_tokens_is_the_reply_budget_of_a_chat_that_names_none(local, make_client):
    c = make_client(local.url)
    done = c.wait_done(c.chat("hello"))
    assert done["finish_reason"] == "length" and done["usage"]["completion_tokens"] == 24
    backend = [b for b in c.of("ready")[0]["backends"] if b["name"] == "local"][0]
    assert backend["label"] == "local model (endless)" and backend["hint"] == ""


def test_third_session_waits_beyond_the_batch_and_stop_frees_a_slot(local, make_client):
    a, a2, b = make_client(local.url), make_client(local.url), make_client(local.url)
    ra = a.chat("long one", params={"max_tokens": 1500})
    ra2 = a2.chat("another long one", params={"max_tokens": 1500})
    a.wait("token", lambda d: d["request_id"] == ra)
    a2.wait("token", lambda d: d["request_id"] == ra2)  # two at once: the batch (--batch-size 2) is full
    rb = b.chat("short one", params={"max_tokens": 10})
    assert b.wait("queued", lambda d: d["request_id"] == rb)["position"] == 1
    assert not b.of("token", rb)
    # The page stays responsive while the model works (the hub is not blocked by torch).
    for _ in range(5):
        t0 = time.monotonic()
        status, body = http_json(local.url + "/healthz")
        assert status == 200 and time.monotonic() - t0 < 1.0
    assert a.call("stop", {"request_id": ra})["stopped"]
    t_stop = time.monotonic()
    done_a = a.wait_done(ra, timeout=10)
    assert done_a["finish_reason"] == "cancelled" and time.monotonic() - t_stop < 2
    assert (done_a.get("usage") or {}).get("completion_tokens", 0) < 1500
    assert a.call("history")["history"][-1] == {"role": "assistant", "content": done_a["text"]}  # partial kept
    done_b = b.wait_done(rb, timeout=30)
    assert done_b["finish_reason"] == "length" and done_b["usage"]["completion_tokens"] == 10
    assert not a2.of("done", ra2)  # the other row ran on beside b, undisturbed by the stop
    assert a2.call("stop", {"request_id": ra2})["stopped"]
    assert a2.wait_done(ra2, timeout=10)["finish_reason"] == "cancelled"


def test_others_stay_responsive_while_the_model_generates(local, make_client):
    busy = make_client(local.url)
    rid = busy.chat("go on and on", params={"max_tokens": 16000})
    busy.wait("token", lambda t: t["request_id"] == rid)
    other = make_client(local.url)
    started = time.monotonic()
    while time.monotonic() - started < 4:  # four ping intervals: pongs must keep flowing both ways
        t0 = time.monotonic()
        assert other.call("history", timeout=5)["ok"]
        assert time.monotonic() - t0 < 0.5
        time.sleep(0.2)
    assert other.sio.connected and busy.sio.connected
    assert busy.of("done", rid) == []  # still generating all along
    assert len(busy.of("token", rid)) > 5
    assert busy.call("stop", {"request_id": rid})["stopped"]
    busy.wait_done(rid)


def test_reset_stops_generation_and_frees_the_model(local, make_client):
    c = make_client(local.url)
    rid = c.chat("long", params={"max_tokens": 4000})
    c.wait("token", lambda t: t["request_id"] == rid)
    assert c.call("reset") == {"ok": True}
    assert c.wait_done(rid, timeout=5)["finish_reason"] == "cancelled"
    assert c.call("history")["history"] == []
    assert c.wait_done(c.chat("again", params={"max_tokens": 3}), timeout=30)["finish_reason"] == "length"


def test_thinking_streams_as_reasoning_and_stays_out_of_history(tiny_dirs, make_server, make_client):
    server = make_server("--backend", "local", "--model", tiny_dirs["think"], "--rate-per-minute", "0")
    c = make_client(server.url)
    rid = c.chat("think first", params={"max_tokens": 15})
    done = c.wait_done(rid)
    tokens = c.of("token", rid)
    assert tokens and all(t.get("kind") == "reasoning" for t in tokens)
    assert done["reasoning"] == "".join(t["text"] for t in tokens) and done["reasoning"].strip()
    assert done["text"] == ""
    history = c.call("history")["history"]
    assert all(done["reasoning"] not in m["content"] for m in history)
