"""Streaming chats through the live server from an OpenAI-compatible upstream, in both async modes."""
import base64
import json
import os
import socket
import struct
import time

import pytest

from tests.live import Client, LiveServer


def test_ready_describes_session_backends_and_limits(relay, make_client):
    c = make_client(relay.url, session_id="ready-check")
    ready = c.of("ready")[0]
    assert ready["session_id"] == "ready-check"
    assert ready["history"] == []
    assert ready["default_backend"] == "openai"
    openai = [b for b in ready["backends"] if b["name"] == "openai"][0]
    assert "words-5" in openai["models"] and openai["default_model"]
    assert ready["limits"]["max_message_chars"] > 0


def test_socket_without_session_gets_a_fresh_id(relay, make_client):
    a, b = make_client(relay.url), make_client(relay.url)
    assert a.session_id and b.session_id and a.session_id != b.session_id


def test_reply_streams_in_order_and_matches_done(relay, make_client):
    c = make_client(relay.url)
    rid = c.chat("hello", model="words-40")
    done = c.wait_done(rid)
    tokens = c.of("token", rid)
    assert [t["seq"] for t in tokens] == list(range(len(tokens)))
    assert c.text_of(rid) == done["text"] == "".join(f"w{i} " for i in range(40))
    assert done["finish_reason"] == "stop"
    assert done["usage"] == {"prompt_tokens": 7, "completion_tokens": 40}
    assert set(done["timings"]) == {"ttft_ms", "total_ms", "tokens_per_s"}


def test_multi_turn_history_and_system_prompt_reach_the_model(relay, make_client, stub):
    c = make_client(relay.url)
    first = c.chat("first question", model="say:first answer")
    c.wait_done(first)
    second = c.chat("second question", model="say:second answer", system="Be brief.")
    c.wait_done(second)
    sent = stub.requests[-1]["messages"]
    assert sent == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second question"},
    ]
    assert c.call("history")["history"] == sent[1:] + [{"role": "assistant", "content": "second answer"}]


def test_params_reach_the_api(relay, make_client, stub):
    c = make_client(relay.url)
    params = {"temperature": 0.3, "top_p": 0.9, "max_tokens": 77, "top_k": 5, "repetition_penalty": 1.1}
    c.wait_done(c.chat("hi", model="words-3", params=params))
    body = stub.requests[-1]
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.3, 0.9, 77)
    assert (body["top_k"], body["repetition_penalty"]) == (5, 1.1)  # self-hosted servers take these
    assert body["stream"] is True


def test_reasoning_streams_apart_and_never_goes_back(relay, make_client, stub):
    c = make_client(relay.url)
    rid = c.chat("why?", model="reasoner")
    done = c.wait_done(rid)
    kinds = [(t.get("kind"), t["text"]) for t in c.of("token", rid)]
    assert "".join(t for k, t in kinds if k == "reasoning") == "Let me think."
    assert done["reasoning"] == "Let me think." and done["text"] == "The answer."
    c.wait_done(c.chat("and?", model="words-2"))
    assert {"role": "assistant", "content": "The answer."} in stub.requests[-1]["messages"]
    assert all("think" not in m["content"] for m in stub.requests[-1]["messages"])


def test_both_sockets_of_a_session_see_the_reply(relay, make_client):
    a = make_client(relay.url)
    b = make_client(relay.url, session_id=a.session_id)
    rid = a.chat("hi", model="words-10")
    assert b.wait_done(rid)["text"] == a.wait_done(rid)["text"]
    assert b.text_of(rid) == a.text_of(rid)


def test_chat_while_streaming_is_busy(relay, make_client):
    c = make_client(relay.url)
    rid = c.chat("long", model="slow-200")
    c.wait("token")
    ack = c.call("chat", {"message": "again"})
    assert ack == {"ok": False, "error": {"code": "busy", "message": ack["error"]["message"]}}
    assert c.call("stop", {"request_id": rid})["stopped"] is True
    c.wait_done(rid)


def test_stop_ends_the_reply_keeps_partial_text_and_closes_upstream(relay, make_client, stub):
    c = make_client(relay.url)
    rid = c.chat("tell me everything", model="slow-200")
    c.wait("token", lambda t: t["seq"] >= 2)
    asked = time.monotonic()
    assert c.call("stop", {"request_id": rid}) == {"ok": True, "stopped": True}
    done = c.wait_done(rid, timeout=5)
    assert time.monotonic() - asked < 1.0
    assert done["finish_reason"] == "cancelled"
    assert done["text"] and done["text"] == c.text_of(rid)
    assert stub.wait_hung_up("tell me everything", 2), "the upstream HTTP stream was not closed"
    history = c.call("history")["history"]
    assert history[-2:] == [{"role": "user", "content": "tell me everything"},
                            {"role": "assistant", "content": done["text"]}]
    assert c.call("stop", {"request_id": rid})["stopped"] is False


def test_disconnect_of_last_socket_cancels_the_reply(relay, make_client, stub):
    c = make_client(relay.url)
    rid = c.chat("left alone", model="slow-200")
    c.wait("token")
    c.close()
    assert stub.wait_hung_up("left alone", 3), "reply kept streaming after its last socket left"
    back = make_client(relay.url, session_id=c.session_id)
    history = back.of("ready")[0]["history"]
    assert history[0] == {"role": "user", "content": "left alone"}
    assert history[1]["content"].startswith("w0 ")
    assert back.call("chat", {"message": "next", "model": "words-1"})["ok"], rid


def test_other_clients_stay_responsive_while_one_streams(relay, make_client):
    busy = make_client(relay.url)
    rid = busy.chat("long", model="slow-200")
    busy.wait("token")
    other = make_client(relay.url)
    for _ in range(5):
        t0 = time.monotonic()
        assert other.call("history")["ok"]
        assert time.monotonic() - t0 < 0.5  # not blocked behind the stream
    done_other = other.wait_done(other.chat("quick", model="words-3"), timeout=5)
    assert done_other["text"] == "w0 w1 w2 "
    assert busy.call("stop", {})["stopped"]
    busy.wait_done(rid)


def test_truncate_and_reset(relay, make_client):
    c = make_client(relay.url)
    for i in range(2):
        c.wait_done(c.chat(f"q{i}", model=f"say:a{i}"))
    assert [m["content"] for m in c.call("truncate", {"keep": 2})["history"]] == ["q0", "a0"]
    assert [m["content"] for m in c.call("history")["history"]] == ["q0", "a0"]
    assert c.call("reset") == {"ok": True}
    assert c.call("history")["history"] == []


class StalledSocket:
    """A raw WebSocket in a session that reads its `ready` and then nothing until told: a phone asleep."""

    def __init__(self, url: str, session_id: str):
        host, port = url.split("//")[1].split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills fast
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.messages = self.frames()
        assert next(self.messages).startswith("0")  # engine.io open
        self.send('40{"session_id": "%s"}' % session_id)
        while not next(self.messages).startswith('42["ready"'):
            pass

    def send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        self.sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(data)) + mask
                          + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.sock.recv(1 << 20)
            assert more, "the server closed the stalled socket"
            self.buf += more
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frames(self):
        """The text of each frame the server sends, in order."""
        while True:
            first, size = self._read(2)
            size &= 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            data = self._read(size)
            if first & 0x0F == 1:
                yield data.decode()


def test_a_stalled_socket_holds_up_neither_the_reply_nor_its_own_order(relay, make_client):
    """A socket that stops reading (a phone asleep) while ~6.5 MB stream to its conversation."""
    awake = make_client(relay.url)
    asleep = StalledSocket(relay.url, awake.session_id)
    try:
        rid = awake.chat("everything", model="blob-800", params={"max_tokens": 1000})
        expected = "".join(str(i % 10) * 8192 for i in range(800))
        assert awake.wait_done(rid, timeout=60)["text"] == expected  # not held up by the stalled socket
        assert awake.text_of(rid) == expected
        seqs, text = [], []
        for message in asleep.messages:  # it wakes up: everything is there, in order, then one done
            if not message.startswith("42"):
                continue
            name, payload = json.loads(message[2:])
            if name == "token" and payload["request_id"] == rid:
                seqs.append(payload["seq"])
                text.append(payload["text"])
            elif name == "done" and payload["request_id"] == rid:
                break
        assert seqs == list(range(len(seqs))) and "".join(text) == expected
    finally:
        asleep.sock.close()


@pytest.mark.parametrize("mode", ["eventlet", "threading"])
def test_sockets_outlive_many_heartbeats_while_replies_stream(mode, stub):
    """Short heartbeats (1 s + 1 s): a socket that gets replies and pings for 5 s stays connected."""
    with LiveServer("--backend", "openai", "--base-url", stub.url, "--ping-interval", "1", "--ping-timeout", "1",
                    "--rate-per-minute", "0", "--rate-per-minute-ip", "0", async_mode=mode) as server:
        c = Client(server.url)
        try:
            started = time.monotonic()
            while time.monotonic() - started < 5:
                assert c.wait_done(c.chat("hi", model="words-3"), timeout=5)["text"] == "w0 w1 w2 "
                time.sleep(0.3)
            assert c.sio.connected
        finally:
            c.close()
