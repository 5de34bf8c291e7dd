"""The local transformers backend through the live server, in both async modes."""
import time

import pytest

from tests import tinymodel
from tests.live import LiveServer


@pytest.fixture(scope="module")
def endless_dir(tmp_path_factory):
    return tinymodel.build(str(tmp_path_factory.mktemp("tiny-endless")), endless=True)


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def local(request, endless_dir):
    # Short heartbeats: a blocked event loop would drop sockets within seconds.
    server = LiveServer("--backend", "local", "--model", endless_dir, "--ping-interval", "1", "--ping-timeout", "2",
                        "--rate-per-minute", "0", "--rate-per-minute-ip", "0", "--grace", "0",
                        async_mode=request.param).start()
    yield server
    server.stop()


def test_streams_exactly_max_tokens(local, make_client):
    c = make_client(local.url)
    ready = c.of("ready")[0]
    assert ready["default_backend"] == "local" and ready["backends"][0]["model_ready"] is True
    rid = c.chat("hello", params={"max_tokens": 40, "do_sample": False})
    done = c.wait_done(rid)
    assert done["finish_reason"] == "length" and done["usage"]["completion_tokens"] == 40
    assert c.text_of(rid) == done["text"] and len(c.of("token", rid)) > 1
    assert c.call("history")["history"][-1] == {"role": "assistant", "content": done["text"]}


def test_others_stay_responsive_while_the_model_generates(local, make_client):
    busy = make_client(local.url)
    rid = busy.chat("go on and on", params={"max_tokens": 4000})
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


def test_second_session_waits_in_line_then_runs(local, make_client):
    first, second = make_client(local.url), make_client(local.url)
    a = first.chat("long one", params={"max_tokens": 4000})
    first.wait("token", lambda t: t["request_id"] == a)
    b = second.chat("my turn?", params={"max_tokens": 5})
    assert second.wait("queued", lambda q: q["request_id"] == b)["position"] == 1
    assert second.of("done", b) == []
    t0 = time.monotonic()
    assert first.call("stop", {"request_id": a})["stopped"]
    assert first.wait_done(a, timeout=5)["finish_reason"] == "cancelled"
    assert time.monotonic() - t0 < 1.0
    done = second.wait_done(b, timeout=30)
    assert done["finish_reason"] == "length" and done["usage"]["completion_tokens"] == 5
    kept = first.call("history")["history"]
    assert kept[-1]["content"] == first.of("done", a)[0]["text"] != ""  # the partial reply is kept


def test_reset_stops_generation_and_frees_the_model(local, make_client):
    c = make_client(local.url)
    rid = c.chat("long", params={"max_tokens": 4000})
    c.wait("token", lambda t: t["request_id"] == rid)
    assert c.call("reset") == {"ok": True}
    assert c.wait_done(rid, timeout=5)["finish_reason"] == "cancelled"
    assert c.call("history")["history"] == []
    assert c.wait_done(c.chat("again", params={"max_tokens": 3}), timeout=30)["finish_reason"] == "length"


def test_think_block_streams_as_reasoning_and_stays_out_of_history(tmp_path, make_server, make_client):
    think_dir = tinymodel.build(str(tmp_path / "think"), think=True, endless=True)
    s = make_server("--backend", "local", "--model", think_dir)
    c = make_client(s.url)
    rid = c.chat("why?", params={"max_tokens": 12})
    done = c.wait_done(rid)
    reasoning = [t for t in c.of("token", rid) if t.get("kind") == "reasoning"]
    assert reasoning and done["reasoning"] == "".join(t["text"] for t in reasoning)
    assert c.call("history")["history"][-1] == {"role": "assistant", "content": done["text"]}
    assert done["reasoning"] not in c.call("history")["history"][-1]["content"] or done["text"] == ""
