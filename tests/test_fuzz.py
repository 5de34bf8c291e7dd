"""Hundreds of malformed payloads on every event: each gets ok:false and a code; the server stays up."""
import random

import pytest

CODES = {"bad_request", "too_long", "busy", "unknown_backend", "unauthorized", "rate_limited", "not_found",
         "unavailable", "internal"}
ODD_STRINGS = ["", " ", "\x00", "\u202e", "😀" * 50, "\uffff", "a\r\nb", "'\"<script>", "%s%n", "\\u0000"]
# Halves of UTF-16 pairs: JSON carries them, UTF-8 cannot encode them (#34).
SURROGATES = ["\ud800", "a\udfff", "\ud83d", "x\ud800y" * 3]
WRONG_TYPES = [None, True, False, 0, -1, 1.5, float("1e308"), "x", [], [1, 2], {}, {"a": {"b": []}}, b"\x00\xff",
               bytes(300)]


def deep(n: int):
    value = "bottom"
    for _ in range(n):
        value = {"k": [value]}
    return value


def bad_chat(rng: random.Random):
    """A chat payload that is wrong in one random way."""
    choice = rng.randrange(12)
    if choice == 11:
        key = rng.choice(["message", "system", "model", "backend"])
        return {"message": "hi", key: rng.choice(SURROGATES)} if rng.random() < 0.8 \
            else {"message": "hi", "params": {rng.choice(SURROGATES): 1}}
    if choice == 0:
        return rng.choice([v for v in WRONG_TYPES if not isinstance(v, dict)] + ["message"])
    if choice == 1:
        return {"message": rng.choice([v for v in WRONG_TYPES if not isinstance(v, str)])}
    if choice == 2:
        return {"message": rng.choice(["", " ", "\n\t", "\x00"])}
    if choice == 3:
        return {"message": "x" * rng.randint(32001, 200000)}
    if choice == 4:
        return {"message": "hi", rng.choice(["msg", "Message", "params2", "", "😀"]): rng.choice(WRONG_TYPES)}
    if choice == 5:
        key = rng.choice(["temperature", "top_p", "top_k", "max_tokens", "repetition_penalty", "do_sample"])
        bad = {"temperature": [-0.1, 2.1, "1", None, True, [1]], "top_p": [0, 1.01, -1, "0.5", None],
               "top_k": [-1, 1.5, "3", None, True], "max_tokens": [0, -5, 2.5, "10", None, False],
               "repetition_penalty": [0.5, 2.5, "1", None], "do_sample": [0, 1, "true", None]}[key]
        return {"message": "hi", "params": {key: rng.choice(bad)}}
    if choice == 6:
        return {"message": "hi", "params": rng.choice([[], "x", 5, {"unknown": 1}, {"temperature": deep(5)}])}
    if choice == 7:
        return {"message": "hi", "backend": rng.choice(["nope", "", "LOCAL", 5, [], "😀" * 10, "x" * 100])}
    if choice == 8:
        return {"message": deep(rng.randint(10, 60))}
    if choice == 9:
        return {"message": "hi", "model": rng.choice([5, [], {}, True, "m" * 1000])}
    return {"message": "hi", "system": rng.choice([5, [], {"x": 1}, "s" * 40000])}


def bad_other(rng: random.Random, event: str):
    """A payload for a non-chat event that is wrong in one random way."""
    if event in ("reset", "history"):
        return rng.choice([{"x": 1}, {"keep": 1}, [1], "x", 5, True, {"": None}, {"😀": "😀"}, deep(20)])
    if event == "stop":
        return rng.choice([{"request_id": rng.choice([5, [], {}, True, "r" * 100])}, {"other": 1}, "x", [1], 5])
    if event == "truncate":
        return rng.choice([{}, {"keep": rng.choice([-1, -100, 1.5, "2", None, True, [], {}])}, {"keep": 1, "x": 2}, "x",
                           [2]])
    if event == "resume":
        return rng.choice([{}, {"request_id": rng.choice([5, None, [], "", "r" * 100])},
                           {"request_id": "nope", "after_seq": -2},
                           {"request_id": "nope", "after_seq": "1"}, {"request_id": "nope", "after_seq": 1.5},
                           {"request_id": "unknown-request", "after_seq": 0}, {"request_id": "x", "extra": 1}, [1],
                           "x"])
    return rng.choice([{}, None, "x", 1, deep(3)])


@pytest.mark.parametrize("seed", [1, 2])
def test_malformed_payloads_are_refused_cleanly(relay, make_client, stub, seed):
    rng = random.Random(seed)
    c = make_client(relay.url)
    events = ["chat", "stop", "truncate", "reset", "history", "resume", "no_such_event", "connect", "disconnect",
              "message"]
    answered = 0
    for i in range(300):
        event = rng.choice(events)
        payload = bad_chat(rng) if event == "chat" else bad_other(rng, event)
        ack = c.call(event, payload)
        if event == "stop" and ack.get("ok") is True:
            pytest.fail(f"stop accepted {payload!r}")
        assert ack and ack["ok"] is False, (event, payload, ack)
        assert ack["error"]["code"] in CODES and isinstance(ack["error"]["message"], str), ack
        assert "Traceback" not in ack["error"]["message"]
        answered += 1
    assert answered == 300
    assert relay.alive()
    assert c.call("history")["ok"]  # a forged 'disconnect' did not detach the socket from its session
    assert c.of("done") == []  # no malformed chat was accepted
    # Several positional arguments, and binary attachments, are refused too.
    assert c.sio.call("chat", ("hi", "there"), timeout=5)["ok"] is False
    assert c.sio.call("chat", {"message": b"\x00\x01"}, timeout=5)["ok"] is False
    # And a well-formed chat still works.
    done = c.wait_done(c.chat("after the storm", model="words-3"))
    assert done["finish_reason"] == "stop" and done["text"] == "w0 w1 w2 "


def bad_conversation_event(rng: random.Random, event: str):
    """A payload for a conversation event (#12) that is wrong in one random way."""
    wrong_id = rng.choice([5, None, [], {}, True, "", "x" * 65, "bad id", "../etc", "é", "a/b"])
    if event == "list":
        return rng.choice([{"limit": rng.choice([0, -1, 201, 1.5, "5", True, None])},
                           {"query": rng.choice([5, [], "q" * 201])},
                           {"before": rng.choice([5, {}, "b" * 41])}, {"other": 1}, [1], "x", 5])
    if event in ("open", "delete"):
        return rng.choice([{}, {"session_id": wrong_id}, {"session_id": "missing-one"}, {"session_id": "x", "y": 1},
                           [1], "x"])
    if rng.random() < 0.15:  # a lone surrogate in any field, known or not
        return {rng.choice(["query", "title", "system", "model", "session_id", rng.choice(SURROGATES)]):
                rng.choice(SURROGATES)}
    if event == "rename":
        return rng.choice([{"session_id": "missing-one", "title": "fine"}, {"session_id": wrong_id, "title": "fine"},
                           {"session_id": "x", "title": rng.choice(["\u202e", "\u2066\u2069", " \u202a "])},
                           {"session_id": "x", "title": rng.choice(["", "   ", "t" * 201, 5, None, [], "a\x00b"])},
                           {"session_id": "x"}, {"title": "t"}, "x"])
    if event == "settings":
        return rng.choice([{"system": rng.choice([5, [], "s" * 40000])}, {"backend": rng.choice(["nope", 5, "b" * 65])},
                           {"model": rng.choice([5, {}, "m" * 513])},
                           {"params": rng.choice([[], {"top_p": 0}, {"x": 1}])},
                           {"knowledge": rng.choice([1, "yes", []])}, {"other": 1}, [1], "x"])
    return rng.choice([{"x": 1}, [1], "x", 5, True, deep(20)])  # new


@pytest.mark.parametrize("seed", [3])
def test_malformed_conversation_payloads_are_refused_cleanly(relay, make_client, seed):
    rng = random.Random(seed)
    c = make_client(relay.url)
    events = ["list", "open", "new", "rename", "delete", "settings"]
    for _ in range(300):
        event = rng.choice(events)
        payload = bad_conversation_event(rng, event)
        ack = c.call(event, payload)
        assert ack and ack["ok"] is False, (event, payload, ack)
        assert ack["error"]["code"] in CODES and "Traceback" not in ack["error"]["message"], ack
    assert c.call("settings")["settings"] == {}  # nothing bad was kept


def test_malformed_conversation_requests_are_refused_cleanly(relay):
    from tests.live import http_json

    me = {"X-Client-Id": "c" * 30}
    url = relay.url + "/api/conversations"
    cases = [
        (url, None, {}), (url, None, {"X-Client-Id": "short"}), (url + "?limit=0", None, me),
        (url + "?limit=x", None, me),
        (url + "?limit=999", None, me), (url + "?other=1", None, me), (url + "?query=" + "q" * 300, None, me),
        (url + "/nope/export", None, me), (url + "/nope/export?format=pdf", None, me),
        (url + "/bad%20id/export", None, me),
        (url + "/import", None, me), (url + "/import", [], me), (url + "/import", {"messages": "x"}, me),
        (url + "/import", {"messages": [{"role": "system", "content": "x"}]}, me),
        (url + "/import", {"messages": [{"role": "user", "content": 5}]}, me),
        (url + "/import", {"messages": [], "settings": {"params": {"temperature": 9}}}, me),
        (url + "/import", {"messages": [], "extra": 1}, me), (url + "/import", [5], me),
        (url + "/import", {"messages": [], "title": "t" * 201}, me), (url + "/import", {"messages": []}, {}),
    ]
    for target, body, headers in cases:
        method = "POST" if target.endswith("/import") else "GET"
        status, answer = http_json(target, body, headers=headers, method=method)
        assert status in (400, 404, 413) and answer["ok"] is False, (target, body, status, answer)
        assert answer["error"]["code"] in CODES, answer
    assert relay.alive()
    assert http_json(url, headers=me)[1] == {"ok": True, "conversations": [], "more": False}


def hostile_files():
    """(route, file name, bytes) of upload shapes found by probing (#34): each must get a sentence, never a 500."""
    from tests.kb_files import docx_bomb

    kb, graph, tuning = "/api/kb/documents", "/api/graph/import", "/api/tuning/preview"
    deep, long_field = b"[" * 100_000 + b"\n", b"x" * 140_000
    return [
        (kb, "bomb.docx", docx_bomb(6_000, 1_000)), (kb, "a/b.txt", b"text"), (kb, "x" * 5000 + ".txt", b"text"),
        (kb, "\u202etxt.exe.md", b"text"), (kb, "bad.pdf", b"%PDF-1.4 broken"), (kb, "bad.docx", b"PK\x03\x04 no zip"),
        (kb, "empty.txt", b""), (kb, "bin.txt", b"\x00" * 100),
        (graph, "deep.jsonl", deep), (graph, "long.csv", b"head,relation,tail\nA,r," + long_field + b"\n"),
        (graph, "cr.csv", b"head,relation,tail\rA,r,B\r"), (graph, "empty.csv", b"head,relation,tail\n!!!,r,???\n"),
        (graph, "loop.csv", b"head,relation,tail\nLoop,r,LOOP\n"),
        (graph, "s.jsonl", b'{"head":"\\ud800","relation":"r","tail":"B"}\n'),
        (graph, "rows.csv", b"head,relation,tail\n" + b"A,r,B\n" * 300),
        (tuning, "deep.jsonl", deep), (tuning, "long.csv", b"question,answer\nq," + long_field + b"\n"),
        (tuning, "s.jsonl", b'{"prompt":"\\ud800","completion":"x"}\n'), (tuning, "cr.csv", b"question,answer\rq,a\r"),
    ]


def test_hostile_files_are_answered_with_a_sentence(make_server):
    from tests.kb_files import upload

    s = make_server("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--store", "memory",
                    "--embed-model", "none",
                    "--kb-max-chars", "100000", "--graph-max-rows", "200", wait_ready=False, async_mode="eventlet")
    for route, name, data in hostile_files():
        status, body = upload(s.url, name, data, path=route)
        assert status in (200, 400, 413), (route, name, status, body)
        if status != 200:
            assert body["error"]["code"] in CODES and body["error"]["message"].endswith("."), (route, name, body)
    assert s.alive() and "Traceback" not in s.output()
