"""server/ passes mypy with the repository's config (mypy.ini), and the wire's shapes (server/shapes.py) hold."""
import os
import subprocess
import sys
import time

import pytest

from tests.live import LiveServer, http_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mypy(*args: str) -> subprocess.CompletedProcess:
    pytest.importorskip("mypy", reason="mypy is in requirements-dev.txt")
    # The cache (.mypy_cache, ignored by git) makes a second run take ~2 s; a first one ~12 s on 2 cores.
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True)


def test_mypy_finds_nothing():
    run = mypy()
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_payload_off_the_protocol_is_caught(tmp_path):
    """A `done` with a finish reason the protocol does not name, or a misspelt key, is an error."""
    wrong = tmp_path / "wrong.py"
    wrong.write_text("from server.shapes import Done, Token\n"
                     "done: Done = {'request_id': 'r', 'finish_reason': 'finished', 'text': ''}\n"
                     "token: Token = {'request_id': 'r', 'seq': 0, 'txt': 'hi'}\n")
    run = mypy(str(wrong))
    assert run.returncode == 1, run.stdout + run.stderr
    assert '"finish_reason"' in run.stdout and '"txt"' in run.stdout, run.stdout


def assert_fits(shape, payload: dict) -> None:
    """Every key the shape requires is there, and no key it does not name."""
    assert shape.__required_keys__ <= payload.keys(), (shape.__name__, shape.__required_keys__ - payload.keys())
    assert payload.keys() <= shape.__required_keys__ | shape.__optional_keys__, (
        shape.__name__, payload.keys() - shape.__required_keys__ - shape.__optional_keys__)


def test_a_live_chat_sends_what_the_shapes_say(stub, make_client):
    """`ready`, `token` and `done` of a real reply (with reasoning and usage) have the keys server/shapes.py names."""
    from server.shapes import BackendInfo, ConversationSummary, Done, HistoryMessage, Ready, Token

    server = LiveServer("--backend", "openai", "--base-url", stub.url, async_mode="threading").start()
    try:
        deadline = time.monotonic() + 15  # the upstream's models are listed in the background after start
        while not http_json(server.url + "/api/backends")[1]["backends"][0]["models"]:
            assert time.monotonic() < deadline, "the stub's models were never discovered"
            time.sleep(0.1)
        first = make_client(server.url, session_id="shapes-check")
        first.wait_done(first.chat("why?", model="reasoner"))
        again = make_client(server.url, session_id="shapes-check", client_id=first.of("ready")[0]["client_id"])
        rid = again.chat("and?", model="reasoner")
        done = again.wait_done(rid)
        ready = again.of("ready")[0]
    finally:
        server.stop()
    assert_fits(Ready, ready)
    assert ready["history"] and ready["conversations"] and ready["backends"]
    for message in ready["history"]:
        assert_fits(HistoryMessage, message)
    for summary in ready["conversations"]:
        assert_fits(ConversationSummary, summary)
    for backend in ready["backends"]:
        assert_fits(BackendInfo, backend)
    tokens = again.of("token", rid)
    assert {t.get("kind") for t in tokens} == {"reasoning", None}
    for token in tokens:
        assert_fits(Token, token)
    assert "reasoning" in done and "usage" in done
    assert_fits(Done, done)
