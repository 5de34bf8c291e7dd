"""The OpenAI-compatible path against a real OpenAI-compatible server: `transformers serve` with a tiny model."""
import shutil
import subprocess
import time

import pytest

from tests import tinymodel
from tests.live import LiveServer, free_port, http_json

pytestmark = pytest.mark.skipif(shutil.which("transformers") is None, reason="needs transformers[serving]")


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    model_dir = tinymodel.build(str(tmp_path_factory.mktemp("tiny-endless")), endless=True)
    port = free_port()
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w+")
    proc = subprocess.Popen(["transformers", "serve", model_dir, "--port", str(port), "--device", "cpu"],
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            if http_json(url + "/models")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail("transformers serve did not start:\n" + log.read()[-3000:])
        time.sleep(0.3)
    yield url, model_dir
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def server(request, upstream):
    url, model_dir = upstream
    s = LiveServer("--backend", "openai", "--base-url", url, "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                   async_mode=request.param).start()
    yield s
    s.stop()


def test_model_is_discovered_from_the_upstream(server, upstream):
    deadline = time.monotonic() + 10  # discovery runs in the background after start
    while time.monotonic() < deadline:
        body = http_json(server.url + "/api/backends")[1]
        if body["backends"][0]["models"]:
            break
        time.sleep(0.1)
    assert body["backends"][0]["models"] == [upstream[1]]
    assert body["backends"][0]["default_model"] == upstream[1]


def test_multi_turn_streamed_reply_with_max_tokens(server, make_client):
    c = make_client(server.url)
    first = c.chat("hello there", params={"max_tokens": 12, "do_sample": False})
    done = c.wait_done(first)
    assert done["finish_reason"] == "length"
    assert done["usage"]["completion_tokens"] == 12
    assert done["text"] and c.text_of(first) == done["text"]
    assert len(c.of("token", first)) >= 2  # streamed, not one lump
    second = c.chat("and again", params={"max_tokens": 5})
    assert c.wait_done(second)["usage"]["completion_tokens"] == 5
    # The second prompt held the first turn: more prompt tokens than the first.
    assert c.of("done", second)[0]["usage"]["prompt_tokens"] > done["usage"]["prompt_tokens"]
    history = c.call("history")["history"]
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[1]["content"] == done["text"]


def test_stop_cancels_a_real_upstream_stream(server, make_client):
    c = make_client(server.url)
    rid = c.chat("talk forever", params={"max_tokens": 4000})
    c.wait("token", lambda t: t["request_id"] == rid and t["seq"] >= 3)
    t0 = time.monotonic()
    assert c.call("stop", {"request_id": rid})["stopped"]
    done = c.wait_done(rid, timeout=5)
    assert time.monotonic() - t0 < 1.0
    assert done["finish_reason"] == "cancelled" and done["text"]
    # The upstream is free again: a new reply comes through.
    assert c.wait_done(c.chat("next", params={"max_tokens": 3}), timeout=30)["finish_reason"] == "length"
