"""Bad input and upstream failures: each answered with a code and a sentence, never a crash."""
import time

import pytest

from tests.live import free_port


@pytest.mark.parametrize("payload, code", [
    ({"message": ""}, "bad_request"),
    ({"message": "   "}, "bad_request"),
    ({"message": 5}, "bad_request"),
    ({}, "bad_request"),
    ("just a string", "bad_request"),
    ({"message": "x" * 40001}, "too_long"),
    ({"message": "hi", "params": {"temperature": 3}}, "bad_request"),
    ({"message": "hi", "params": {"top_p": 0}}, "bad_request"),
    ({"message": "hi", "params": {"max_tokens": 0}}, "bad_request"),
    ({"message": "hi", "params": {"top_k": 1.5}}, "bad_request"),
    ({"message": "hi", "params": {"do_sample": 1}}, "bad_request"),
    ({"message": "hi", "params": {"temperature": True}}, "bad_request"),
    ({"message": "hi", "params": {"seed": 1}}, "bad_request"),
    ({"message": "hi", "params": []}, "bad_request"),
    ({"message": "hi", "backend": "nope"}, "unknown_backend"),
    ({"message": "hi", "extra": 1}, "bad_request"),
])
def test_bad_chat_payloads_get_a_clear_error(relay, make_client, payload, code):
    c = make_client(relay.url)
    ack = c.call("chat", payload)
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert len(ack["error"]["message"]) > 10
    assert c.of("done") == []


@pytest.mark.parametrize("event, payload", [
    ("truncate", {"keep": -1}), ("truncate", {"keep": "2"}), ("truncate", {}), ("stop", {"request_id": 5}),
    ("reset", {"x": 1}), ("history", [1]), ("resume", {"request_id": "nope", "after_seq": -1}),
    ("resume", {"after_seq": 1}), ("no-such-event", {}),
])
def test_bad_payloads_on_other_events(relay, make_client, event, payload):
    c = make_client(relay.url)
    ack = c.call(event, payload)
    assert ack["ok"] is False and ack["error"]["code"] in ("bad_request", "not_found")


@pytest.mark.parametrize("model, code, words", [
    ("e401", "unavailable", "API key"),
    ("e402", "unavailable", "balance"),
    ("e429", "rate_limited", "rate-limiting"),
    ("e500", "unavailable", "HTTP 500"),
    ("cut", "unavailable", "broke off"),
])
def test_upstream_failures_end_in_error_then_one_done(relay, make_client, model, code, words):
    c = make_client(relay.url)
    c.wait_done(c.chat("before", model="say:kept"))
    before = c.call("history")["history"]
    rid = c.chat("hi", model=model)
    done = c.wait_done(rid)
    time.sleep(0.2)  # a second done would arrive by now
    assert done["finish_reason"] == "error"
    assert len(c.of("done", rid)) == 1
    errors = c.of("error", rid)
    assert len(errors) == 1 and errors[0]["code"] == code and words in errors[0]["message"]
    assert "sk-upstream" not in errors[0]["message"]  # the upstream body is reworded, not forwarded
    assert c.call("history")["history"] == before  # a failed reply leaves the history as it was
    assert c.wait_done(c.chat("after", model="words-2"))["finish_reason"] == "stop"


def test_unreachable_and_silent_upstreams(make_server, make_client, stub):
    dead = make_server("--backend", "openai", "--base-url", f"http://127.0.0.1:{free_port()}/v1", "--model", "m")
    c = make_client(dead.url)
    rid = c.chat("hi")
    assert c.wait_done(rid)["finish_reason"] == "error"
    assert "Could not reach" in c.of("error", rid)[0]["message"]

    slow = make_server("--backend", "openai", "--base-url", stub.url, "--upstream-timeout", "1")
    c2 = make_client(slow.url)
    t0 = time.monotonic()
    rid = c2.chat("hi", model="hang")
    assert c2.wait_done(rid, timeout=10)["finish_reason"] == "error"
    assert time.monotonic() - t0 < 5
    assert "did not answer in time" in c2.of("error", rid)[0]["message"]
