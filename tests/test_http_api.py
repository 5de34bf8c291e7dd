"""The HTTP routes: health, backends, and the non-streaming chat."""
from tests.live import http_json


def test_healthz_and_backends(relay):
    status, health = http_json(relay.url + "/healthz")
    assert status == 200 and health["status"] == "ok"
    assert (health["backend"], health["model_ready"]) == ("openai", True)
    status, body = http_json(relay.url + "/api/backends")
    assert status == 200 and body["default_backend"] == "openai"
    assert body["backends"][0]["name"] == "openai"


def test_post_chat_is_the_same_chat_not_streamed(relay, stub):
    status, body = http_json(relay.url + "/api/chat", {"message": "one", "model": "say:uno"})
    assert status == 200 and body["ok"] and body["text"] == "uno" and body["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] == 1
    status, body2 = http_json(relay.url + "/api/chat",
                              {"message": "two", "model": "say:dos", "session_id": body["session_id"]})
    assert body2["text"] == "dos"
    assert [m["content"] for m in stub.requests[-1]["messages"]] == ["one", "uno", "two"]


def test_http_errors_have_status_and_body(relay):
    cases = [
        ({"message": ""}, 400, "bad_request"),
        ({"message": "x" * 40000}, 413, "too_long"),
        ({"message": "hi", "backend": "nope"}, 400, "unknown_backend"),
        ({"message": "hi", "session_id": "bad id!"}, 400, "bad_request"),
        ({"message": "hi", "model": "e429"}, 429, "rate_limited"),
        ({"message": "hi", "model": "e500"}, 503, "unavailable"),
    ]
    for body, status, code in cases:
        got_status, got = http_json(relay.url + "/api/chat", body)
        assert (got_status, got["ok"], got["error"]["code"]) == (status, False, code), body
    assert http_json(relay.url + "/api/nothing-here")[0] == 404
    status, got = http_json(relay.url + "/api/chat", method="POST", body=None)
    assert status == 400 and got["error"]["code"] == "bad_request"
