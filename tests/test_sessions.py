"""Conversations in memory: bounds, expiry, and resume after a dropped link (issue 6)."""
import time

from tests.live import http_json


def test_history_is_capped_per_session(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--max-history", "4")
    c = make_client(s.url)
    for i in range(3):
        c.wait_done(c.chat(f"q{i}", model=f"say:a{i}"))
    assert [m["content"] for m in c.call("history")["history"]] == ["q1", "a1", "q2", "a2"]


def test_least_recently_used_session_leaves_memory(make_server, make_client, stub):
    """With --store memory it is gone, as in version 1; with the default store it is read back from disk."""
    kept = make_server("--backend", "openai", "--base-url", stub.url, "--max-sessions", "2")
    gone = make_server("--backend", "openai", "--base-url", stub.url, "--max-sessions", "2", "--store", "memory")
    for s in (kept, gone):
        for name in ("first", "second", "third"):
            c = make_client(s.url, session_id=name)
            c.wait_done(c.chat("hello", model="words-1"))
            c.close()
        assert len(make_client(s.url, session_id="third").of("ready")[0]["history"]) == 2
    assert make_client(gone.url, session_id="first").of("ready")[0]["history"] == []
    assert make_client(kept.url, session_id="first").of("ready")[0]["history"][1]["content"] == "w0 "


def test_idle_sessions_and_finished_replies_expire_but_a_connected_session_never(make_server, make_client, stub):
    # One server for both: each case waited for a sweep (every 10 s) on a server of its own.
    s = make_server("--backend", "openai", "--base-url", stub.url, "--session-ttl", "1", "--replay-ttl", "1")
    connected = make_client(s.url)
    connected.wait_done(connected.chat("hello", model="say:kept"))
    c = make_client(s.url)
    c.wait_done(c.chat("hello", model="words-1"))
    c.close()
    assert http_json(s.url + "/healthz")[1]["sessions"] == 2
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and http_json(s.url + "/healthz")[1]["sessions"] == 2:
        time.sleep(0.5)
    # The sweep that took the idle session passed the connected one, as old as the TTL too, and left it.
    health = http_json(s.url + "/healthz")[1]
    assert (health["sessions"], health["requests"]) == (1, 0)
    assert connected.call("history")["history"][-1]["content"] == "kept"


def test_resume_after_drop_gets_every_token_once_then_done(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--orphan-limit", "20")
    c = make_client(s.url)
    rid = c.chat("long", model="slow-120")
    c.wait("token", lambda t: t["seq"] >= 5)
    c.close()  # the phone drops off the hotspot
    seen = c.of("token", rid)
    last = seen[-1]["seq"]
    time.sleep(0.5)  # the reply goes on without a socket
    back = make_client(s.url, session_id=c.session_id)
    assert back.of("ready")[0]["active_request_id"] == rid
    ack = back.call("resume", {"request_id": rid, "after_seq": last})
    assert ack == {"ok": True, "status": "streaming"}
    done = back.wait_done(rid, timeout=20)
    assert done["finish_reason"] == "stop"
    # A client takes a token only when its seq is the next one: live tokens that beat the
    # replay to the socket are skipped, and the replay (then the live stream) fills them in.
    expected, resumed = last + 1, []
    for t in back.of("token", rid):
        if t["seq"] == expected:
            resumed.append(t)
            expected += 1
    assert "".join(t["text"] for t in seen) + "".join(t["text"] for t in resumed) == done["text"]
    assert resumed[-1]["seq"] == max(t["seq"] for t in back.of("token", rid))
    assert done["text"] == "".join(f"w{i} " for i in range(120))


def test_resume_of_a_finished_reply_replays_it_in_full(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--orphan-limit", "20")
    c = make_client(s.url)
    rid = c.chat("short", model="words-12")
    done = c.wait_done(rid)
    other = make_client(s.url, session_id=c.session_id)
    assert other.call("resume", {"request_id": rid, "after_seq": -1}) == {"ok": True, "status": "finished"}
    assert other.wait_done(rid) == done
    assert other.text_of(rid) == done["text"]
    stranger = make_client(s.url)
    assert stranger.call("resume", {"request_id": rid, "after_seq": -1})["error"]["code"] == "not_found"


def test_reply_is_cancelled_when_nobody_comes_back_within_the_orphan_limit(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--orphan-limit", "5")
    c = make_client(s.url)
    rid = c.chat("grace then stop", model="slow-400")
    c.wait("token")
    left = time.monotonic()
    c.close()  # python-socketio takes a few seconds to close
    assert not stub.wait_hung_up("grace then stop", max(0.0, left + 4.5 - time.monotonic()))  # still generating
    assert stub.wait_hung_up("grace then stop", 5)  # then stopped, well before its 20 s end
    assert time.monotonic() - left < 10
    back = make_client(s.url, session_id=c.session_id)
    assert back.call("resume", {"request_id": rid, "after_seq": -1})["status"] == "finished"
    assert back.wait_done(rid)["finish_reason"] == "cancelled"
