"""/v1 through the official openai SDK, on an OpenAI-compatible upstream (the stub), in both async modes."""
from __future__ import annotations

import json
import urllib.request

import openai
import pytest

from tests.live import http_json

USER = [{"role": "user", "content": "hi"}]


def sdk(server, key: str = "none", **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=30, **kw)


def test_model_list_names_backend_ids_and_bare_names(relay):
    ids = [m.id for m in sdk(relay).models.list()]
    assert ids == ["openai/words-5", "openai/slow-200", "openai/reasoner", "words-5", "slow-200", "reasoner"]


def test_non_streamed_completion_is_stateless(relay, stub):
    client = sdk(relay)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "one"},
                {"role": "assistant", "content": "uno"}, {"role": "user", "content": [{"type": "text", "text": "two"}]}]
    r = client.chat.completions.create(model="openai/say:dos y tres", messages=messages, max_tokens=9, temperature=0.2,
                                       top_p=0.9, seed=7)
    assert r.object == "chat.completion" and r.model == "openai/say:dos y tres"
    assert r.choices[0].message.content == "dos y tres" and r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (7, 3, 10)
    sent = stub.requests[-1]
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "one"},
                                {"role": "assistant", "content": "uno"}, {"role": "user", "content": "two"}]
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"], sent["seed"]) == (9, 0.2, 0.9, 7)
    client.chat.completions.create(model="words-5", messages=USER)
    assert stub.requests[-1]["messages"] == USER  # nothing of the first request was kept


def test_streamed_completion_with_usage_in_the_last_chunk(relay):
    stream = sdk(relay).chat.completions.create(model="words-5", messages=USER, stream=True,
                                                stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "w0 w1 w2 w3 w4 "
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5 and chunks[-1].usage.total_tokens == 12
    assert all(c.usage is None for c in chunks[:-1])
    # Without include_usage no usage chunk comes.
    plain = list(sdk(relay).chat.completions.create(model="words-5", messages=USER, stream=True))
    assert plain[-1].choices and plain[-1].choices[0].finish_reason == "stop"


def test_reasoning_streams_as_reasoning_content(relay):
    chunks = list(sdk(relay).chat.completions.create(model="reasoner", messages=USER, stream=True))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "Let me think."
    assert "".join(d.content or "" for d in deltas) == "The answer."
    r = sdk(relay).chat.completions.create(model="reasoner", messages=USER)
    assert r.choices[0].message.content == "The answer."
    assert r.choices[0].message.reasoning_content == "Let me think."


def test_stop_strings_cut_the_reply_streamed_or_not(relay, stub):
    client = sdk(relay)
    model = "openai/say:alpha beta gamma delta"
    r = client.chat.completions.create(model=model, messages=USER, stop=["gam", "zzz"])
    assert r.choices[0].message.content == "alpha beta " and r.choices[0].finish_reason == "stop"
    assert stub.requests[-1]["stop"] == ["gam", "zzz"]  # passed on to the upstream too
    stream = client.chat.completions.create(model=model, messages=USER, stop="ta ga", stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "alpha be"


def test_client_that_hangs_up_closes_the_upstream_stream(relay, stub):
    message = f"hang up on me ({relay.url})"
    stream = sdk(relay).chat.completions.create(model="slow-200", messages=[{"role": "user", "content": message}],
                                                stream=True)
    got = [c for _, c in zip(range(4), stream)]
    assert got[-1].choices[0].delta.content
    stream.close()
    assert stub.wait_hung_up(message, timeout=10)


def test_upstream_breaking_off_mid_stream_reaches_the_sdk_as_an_error(relay):
    stream = sdk(relay).chat.completions.create(model="openai/cut", messages=USER, stream=True)
    text = []
    with pytest.raises(openai.APIError) as e:
        for chunk in stream:
            text.append(chunk.choices[0].delta.content or "")
    assert "".join(text) == "w0 w1 w2 " and "broke off" in e.value.message  # what came, then the reason


def _status_and_error(server, body=None, raw: bytes | None = None, headers=None, method="POST",
                      path="/v1/chat/completions"):
    req = urllib.request.Request(server.url + path, data=raw if raw is not None else json.dumps(body).encode(),
                                 method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("body, raw, status, code", [
    (None, b"{not json", 400, "bad_request"),
    ({"messages": USER}, None, 400, "bad_request"),
    ({"model": "words-5", "messages": []}, None, 400, "bad_request"),
    ({"model": "words-5", "messages": [{"role": "robot", "content": "x"}]}, None, 400, "bad_request"),
    ({"model": "words-5", "messages": USER, "temperature": 3}, None, 400, "bad_request"),
    ({"model": "words-5", "messages": USER, "n": 2}, None, 400, "bad_request"),
    ({"model": "words-5", "messages": USER, "bogus": 1}, None, 400, "bad_request"),
    ({"model": "no-such-model", "messages": USER}, None, 404, "not_found"),
    ({"model": "words-5", "messages": [{"role": "user", "content": "x" * 40000}]}, None, 413, "too_long"),
    (None, b'{"model": "words-5", "pad": "' + b"x" * 1_100_000 + b'"}', 413, "too_long"),
    ({"model": "openai/e429", "messages": USER, "stream": True}, None, 429, "rate_limited"),
    ({"model": "openai/e500", "messages": USER}, None, 503, "unavailable"),
])
def test_errors_have_openai_shape_and_status(relay, body, raw, status, code):
    got_status, got = _status_and_error(relay, body, raw)
    assert got_status == status and got["error"]["code"] == code, got
    assert got["error"]["type"] and got["error"]["message"] and "Traceback" not in got["error"]["message"]
    assert set(got) == {"error"}


def test_sdk_raises_its_own_error_classes(relay):
    client = sdk(relay)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=USER)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="openai/e429", messages=USER, stream=True)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="words-5", messages=USER, top_p=0)
    assert _status_and_error(relay, method="GET")[0] == 405
    status, body = _status_and_error(relay, method="GET", raw=None, body=None, path="/v1/nothing-here")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_token_is_the_api_key_and_origins_and_rates_are_guarded(make_server, stub):
    server = make_server("--backend", "openai", "--base-url", stub.url, "--model", "words-5", "--token", "s3cret",
                         "--rate-per-minute-ip", "2")
    with pytest.raises(openai.AuthenticationError) as e:
        sdk(server, key="wrong").models.list()
    assert e.value.body["code"] == "unauthorized"
    assert [m.id for m in sdk(server, key="s3cret").models.list()][:1] == ["openai/words-5"]
    status, body = _status_and_error(server, {"model": "words-5", "messages": USER},
                                     headers={"Authorization": "Bearer s3cret", "Origin": "https://evil.example"})
    assert status == 401 and body["error"]["type"] == "authentication_error"
    # A LAN page may call it, with the CORS headers a browser needs (its preflight carries no token).
    status, _ = http_json(server.url + "/v1/models", headers={"Authorization": "Bearer s3cret", "Origin": "http://192.168.1.5:8080"})
    assert status == 200
    preflight = urllib.request.Request(server.url + "/v1/chat/completions", method="OPTIONS", headers={
        "Origin": "http://192.168.1.5:8080", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    with urllib.request.urlopen(preflight, timeout=10) as r:
        assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "http://192.168.1.5:8080"
        assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()
    client = sdk(server, key="s3cret")
    for _ in range(2):
        assert client.chat.completions.create(model="words-5", messages=USER).choices[0].message.content
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="words-5", messages=USER)
    assert e.value.status_code == 429 and e.value.body["code"] == "rate_limited"
