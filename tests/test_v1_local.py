"""/v1 on the local model (the tiny one) through the openai SDK: sharing the batch, hanging up, loading, chaining."""
from __future__ import annotations

import threading
import time

import openai
import pytest

from tests.live import LiveServer
from tests.tinymodel import build

USER = [{"role": "user", "content": "hello"}]


def sdk(url: str, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=60, **kw)


@pytest.fixture(scope="module")
def endless(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("tiny-v1") / "endless"), endless=True, max_positions=4096)


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def local(request, endless):
    server = LiveServer("--backend", "local", "--model", endless, "--batch-size", "5", "--rate-per-minute", "0",
                        "--rate-per-minute-ip", "0", "--grace", "0", async_mode=request.param).start(timeout=180)
    yield server
    server.stop()


def test_local_completion_streamed_and_not(local):
    client = sdk(local.url)
    assert [m.id for m in client.models.list()] == ["local/endless", "endless"]
    r = client.chat.completions.create(model="endless", messages=USER, max_completion_tokens=12, temperature=0)
    assert r.choices[0].finish_reason == "length" and r.choices[0].message.content.strip()
    assert r.usage.completion_tokens == 12 and r.usage.prompt_tokens > 0
    chunks = list(client.chat.completions.create(model="local/endless", messages=USER, max_tokens=12, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == r.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].usage.completion_tokens == 12
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 2  # streamed, not one lump


def test_stop_string_ends_a_local_reply_and_frees_its_row(local):
    client = sdk(local.url)
    full = client.chat.completions.create(model="endless", messages=USER, max_tokens=40, temperature=0)
    text = full.choices[0].message.content
    cut = text.index(" ", 10)  # a stop string that first occurs well inside the greedy reply
    stop = text[cut:cut + 3]
    r = client.chat.completions.create(model="endless", messages=USER, max_tokens=40, temperature=0, stop=[stop])
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == text[:text.index(stop)]


def _stream_until(client, n_chunks: int, started: threading.Barrier, results: list, i: int):
    stream = client.chat.completions.create(model="endless", messages=[{"role": "user", "content": f"sdk {i}"}],
                                            max_tokens=1500, stream=True)  # batch rows hold 2048 tokens
    got = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            got += 1
            if got == n_chunks:
                started.wait(60)
                break
    stream.close()
    results[i] = got


def test_four_sdk_streams_share_the_batch_with_a_socket_chat(local, make_client):
    c = make_client(local.url)
    rid = c.chat("socket", params={"max_tokens": 1500})
    c.wait("token", lambda t: t["request_id"] == rid)
    # Each SDK stream holds on until all four have streamed: only rows of one batch can all do that at once.
    started = threading.Barrier(5)
    results = [0] * 4
    threads = [threading.Thread(target=_stream_until, args=(sdk(local.url), 5, started, results, i)) for i in range(4)]
    for t in threads:
        t.start()
    started.wait(60)
    assert not c.of("done", rid) and not c.of("queued")  # the socket's reply ran on beside them, never queued
    for t in threads:
        t.join(30)
    assert results == [5] * 4
    assert c.call("stop", {"request_id": rid})["stopped"]
    assert c.wait_done(rid)["finish_reason"] == "cancelled"


def test_a_second_server_chats_through_the_first_as_its_upstream(local, make_server, make_client):
    second = make_server("--backend", "openai", "--base-url", local.url + "/v1", "--rate-per-minute", "0")
    deadline = time.monotonic() + 15
    while not (models := [m.id for m in sdk(second.url).models.list()]):
        assert time.monotonic() < deadline, "the first server's models were never discovered"
        time.sleep(0.2)
    assert models[:2] == ["openai/local/endless", "openai/endless"]
    c = make_client(second.url)
    rid = c.chat("through two servers", params={"max_tokens": 10})
    done = c.wait_done(rid)
    assert done["finish_reason"] == "length" and done["usage"]["completion_tokens"] == 10 and done["text"].strip()
    r = sdk(second.url).chat.completions.create(model="openai/endless", messages=USER, max_tokens=6, stream=False)
    assert r.usage.completion_tokens == 6 and r.choices[0].finish_reason == "length"


def test_hanging_up_mid_stream_frees_the_local_model(endless, make_server):
    # One request at a time: the next one can start only once the abandoned one has let go of the model.
    server = make_server("--backend", "local", "--model", endless, "--batch-size", "1", "--rate-per-minute-ip", "0",
                         timeout=180)
    client = sdk(server.url)
    t0 = time.monotonic()
    client.chat.completions.create(model="endless", messages=USER, max_tokens=200)
    rate = 200 / (time.monotonic() - t0)  # tokens per second this machine makes now
    stream = client.chat.completions.create(model="endless", messages=USER, max_tokens=4000, stream=True)
    got = [c for _, c in zip(range(20), stream)]
    stream.close()
    closed = time.monotonic()
    after = client.chat.completions.create(model="endless", messages=USER, max_tokens=3, stream=True)
    first = next(c for c in after if c.choices and c.choices[0].delta.content)
    waited = time.monotonic() - closed
    assert got[-1].choices[0].delta.content and first.choices[0].delta.content
    # Had the model gone on, the next reply would have waited for the rest of the 4000 tokens.
    assert waited < 0.25 * 4000 / rate, (waited, rate)
    print(f"hung up -> next reply's first token: {waited * 1000:.0f} ms; "
          f"the rest would have taken ~{4000 / rate:.0f} s")
    assert "went away mid-reply" in server.output()


def test_model_still_loading_answers_503(endless, make_server):
    server = make_server("--backend", "local", "--model", endless, wait_ready=False)
    with pytest.raises(openai.InternalServerError) as e:
        sdk(server.url).chat.completions.create(model="endless", messages=USER, max_tokens=3)
    assert e.value.status_code == 503 and e.value.body["code"] == "unavailable"
