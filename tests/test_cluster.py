"""Two server processes on a real Redis behind a real nginx keep the promises of one process."""
from __future__ import annotations

import http.client
import signal
import json
import time

import pytest
import socketio

from tests.cluster import Cluster
from tests.live import stub_args


@pytest.fixture(scope="module")
def pair(stub):
    """Processes A and B on one Redis, behind nginx; shared by this module's tests that leave them running."""
    cluster = Cluster(2, *stub_args(stub, "--rate-per-minute-ip", "0"), persist=True).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def make_cluster(stub):
    started = []

    def make(*extra):
        cluster = Cluster(2, *stub_args(stub, *extra))
        started.append(cluster)
        return cluster.start()

    yield make
    for cluster in started:
        cluster.stop()


def test_clients_on_both_processes_get_the_reply_once_in_order(pair, make_client):
    a = make_client(pair.servers[0].url)
    b = make_client(pair.servers[1].url, session_id=a.session_id)
    rid = a.chat("hello", model="slow-30")
    done_a, done_b = a.wait_done(rid), b.wait_done(rid)
    assert done_a == done_b and done_a["finish_reason"] == "stop"
    assert done_a["text"] == "".join(f"w{i} " for i in range(30))
    for c in (a, b):
        assert [t["seq"] for t in c.of("token", rid)] == list(range(len(c.of("token", rid))))  # once each, in order
        assert c.text_of(rid) == done_a["text"] and len(c.of("done", rid)) == 1


def test_stop_sent_through_b_stops_the_reply_a_generates(pair, make_client, stub):
    a = make_client(pair.servers[0].url)
    b = make_client(pair.servers[1].url, session_id=a.session_id)
    rid = a.chat("stop me from b", model="slow-400")
    b.wait("token", lambda t: t["request_id"] == rid)
    assert b.call("stop", {"request_id": "someone-else"}) == {"ok": True, "stopped": False}
    assert b.call("stop", {"request_id": rid}) == {"ok": True, "stopped": True}
    assert b.wait_done(rid, timeout=5)["finish_reason"] == "cancelled"
    assert a.wait_done(rid, timeout=5)["finish_reason"] == "cancelled"
    assert stub.wait_hung_up("stop me from b", 5)  # A closed the upstream stream
    assert len(a.of("done", rid)) == len(b.of("done", rid)) == 1


def test_a_second_chat_from_b_while_a_streams_is_busy(pair, make_client):
    a = make_client(pair.servers[0].url)
    b = make_client(pair.servers[1].url, session_id=a.session_id)
    rid = a.chat("first", model="slow-400")
    b.wait("token", lambda t: t["request_id"] == rid)
    assert b.of("ready")[0]["active_request_id"] is None  # B joined before the reply began
    late = make_client(pair.servers[1].url, session_id=a.session_id)
    assert late.of("ready")[0]["active_request_id"] == rid  # B knows the reply A streams
    assert late.call("list")["conversations"][0]["active_request_id"] == rid
    assert b.call("chat", {"message": "second", "model": "words-3"})["error"]["code"] == "busy"
    assert b.call("truncate", {"keep": 0})["error"]["code"] == "busy"
    assert b.call("stop", {})["stopped"]
    a.wait_done(rid, timeout=5)
    again = b.chat("second", model="words-3")  # the conversation is free again, from either process
    assert b.wait_done(again)["finish_reason"] == "stop" and a.wait_done(again)["text"] == "w0 w1 w2 "


def test_resume_on_b_mid_stream_of_a_reply_streamed_by_a(pair, make_client):
    a = make_client(pair.servers[0].url)
    rid = a.chat("long", model="slow-120")
    a.wait("token", lambda t: t["seq"] >= 5)
    a.close()  # the phone drops, and comes back through another process
    seen = a.of("token", rid)
    last = seen[-1]["seq"]
    time.sleep(0.3)
    back = make_client(pair.servers[1].url, session_id=a.session_id)
    assert back.of("ready")[0]["active_request_id"] == rid
    assert back.call("resume", {"request_id": rid, "after_seq": last}) == {"ok": True, "status": "streaming"}
    done = back.wait_done(rid, timeout=20)
    assert done["finish_reason"] == "stop"
    resumed = back.in_order(rid, last)
    assert "".join(t["text"] for t in seen + resumed) == done["text"] == "".join(f"w{i} " for i in range(120))
    assert resumed[-1]["seq"] == max(t["seq"] for t in back.of("token", rid))


def test_resume_on_b_after_a_reply_by_a_ended_replays_it_in_full(pair, make_client):
    a = make_client(pair.servers[0].url)
    rid = a.chat("short", model="words-12")
    done = a.wait_done(rid)
    b = make_client(pair.servers[1].url, session_id=a.session_id)
    assert b.call("resume", {"request_id": rid, "after_seq": -1}) == {"ok": True, "status": "finished"}
    assert b.wait_done(rid) == done
    assert [t["seq"] for t in b.of("token", rid)] == [t["seq"] for t in a.of("token", rid)]
    assert b.text_of(rid) == done["text"]
    b2 = make_client(pair.servers[1].url, session_id=a.session_id)
    assert b2.call("resume", {"request_id": rid, "after_seq": 4}) == {"ok": True, "status": "finished"}
    b2.wait_done(rid)
    assert [t["seq"] for t in b2.of("token", rid)] == list(range(5, len(a.of("token", rid))))
    stranger = make_client(pair.servers[1].url)
    assert stranger.call("resume", {"request_id": rid, "after_seq": -1})["error"]["code"] == "not_found"


def test_redis_restarting_mid_reply_finishes_it_locally_and_the_queue_reconnects(pair, make_client):
    a = make_client(pair.servers[0].url)
    a.wait_done(a.chat("before the outage", model="say:kept"))
    rid = a.chat("through an outage", model="slow-60")
    a.wait("token", lambda t: t["seq"] >= 3)
    pair.redis.stop()
    done = a.wait_done(rid, timeout=20)
    assert done["finish_reason"] == "stop" and a.text_of(rid) == done["text"] == "".join(f"w{i} " for i in range(60))
    pair.redis.start()  # with its append-only file
    deadline = time.monotonic() + 20
    while True:  # each process's queue listener reconnects by itself, with a backoff
        b = make_client(pair.servers[1].url, session_id=a.session_id)
        ack = b.call("chat", {"message": "after", "model": "words-3"})
        if ack["ok"]:
            try:
                a.wait_done(ack["request_id"], timeout=3)  # A's socket hears B's reply through Redis
                assert b.of("ready")[0]["history"][:2] == [  # nothing saved before the outage was lost
                    {"role": "user", "content": "before the outage"}, {"role": "assistant", "content": "kept"}]
                break
            except TimeoutError:
                pass
        assert time.monotonic() < deadline, ack
        b.close()
        time.sleep(1)


def eventually(check, timeout: float = 5):
    """check()'s first truthy value: news of another process's write arrives through Redis a moment later."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "never became true"
        time.sleep(0.05)
    return value


def test_conversations_rename_delete_and_list_agree_across_processes(pair, make_client):
    me = "cluster-client-0123456789"
    a = make_client(pair.servers[0].url, client_id=me)
    a.wait_done(a.chat("Apples or pears?", model="say:pears"))
    b = make_client(pair.servers[1].url, client_id=me, session_id=a.session_id)
    assert [m["content"] for m in b.of("ready")[0]["history"]] == ["Apples or pears?", "pears"]
    b.wait_done(b.chat("Why?", model="say:juicier"))  # a turn taken on B...
    eventually(lambda: len(a.call("history")["history"]) == 4)  # ...is in A's copy of the conversation
    assert [m["content"] for m in a.call("history")["history"]] == ["Apples or pears?", "pears", "Why?", "juicier"]

    fruit = a.session_id
    other = a.call("new")["session_id"]
    a.wait_done(a.chat("Second topic", model="say:ok"))
    listed = a.call("list")["conversations"]
    assert [(x["session_id"], x["title"], x["messages"]) for x in listed] == [
        (other, "Second topic", 2), (fruit, "Apples or pears?", 4)]
    assert b.call("list")["conversations"] == listed
    assert b.call("list", {"query": "JUICIER"})["conversations"] == [listed[1]]

    assert b.call("rename", {"session_id": other, "title": "Renamed on B"}) == {"ok": True}
    assert [x["title"] for x in a.call("list")["conversations"]] == ["Renamed on B", "Apples or pears?"]
    assert b.call("delete", {"session_id": other}) == {"ok": True}
    assert [x["session_id"] for x in a.call("list")["conversations"]] == [fruit]
    eventually(lambda: a.call("open", {"session_id": other}).get("error", {}).get("code") == "not_found")
    assert a.call("open", {"session_id": fruit})["history"][3]["content"] == "juicier"


def post_chat(host: str, port: int, source: str, message: str, headers: dict | None = None) -> int:
    """POST /api/chat from a chosen loopback source address; its status."""
    conn = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", "/api/chat", json.dumps({"message": message, "model": "words-2"}),
                     {"Content-Type": "application/json", **(headers or {})})
        return conn.getresponse().status
    finally:
        conn.close()


def test_per_address_limits_hold_across_both_processes_through_nginx(make_cluster, make_client):
    cluster = make_cluster("--rate-per-minute-ip", "3", "--max-sockets-per-ip", "2")
    a, b = cluster.servers
    nginx = ("127.0.0.1", cluster.nginx.port)
    # 127.0.0.2 spends its three chats on whichever process nginx picks, and on each process directly.
    assert post_chat(*nginx, "127.0.0.2", "one") == 200
    assert post_chat("127.0.0.1", a.port, "127.0.0.2", "two") == 200
    assert post_chat("127.0.0.1", b.port, "127.0.0.2", "three") == 200
    assert post_chat(*nginx, "127.0.0.2", "four", {"X-Forwarded-For": "10.1.2.3"}) == 429  # no escape by header
    assert post_chat("127.0.0.1", a.port, "127.0.0.2", "four") == 429
    assert post_chat("127.0.0.1", b.port, "127.0.0.2", "four") == 429
    # Behind nginx every request comes from nginx's address: the limit is on the client's, not on nginx's.
    assert post_chat(*nginx, "127.0.0.3", "another phone") == 200
    # Open sockets per address, counted over both processes.
    make_client(a.url)
    make_client(b.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        make_client(a.url)


def test_a_process_killed_mid_reply_ends_it_on_the_other_and_the_conversation_goes_on(make_cluster, make_client):
    cluster = make_cluster("--rate-per-minute-ip", "0", "--max-sockets-per-ip", "2")
    a_server, b_server = cluster.servers
    a = make_client(a_server.url)
    b = make_client(b_server.url, session_id=a.session_id)
    rid = a.chat("dies halfway", model="slow-400")
    b.wait("token", lambda t: t["request_id"] == rid and t["seq"] >= 10)
    killed = time.monotonic()
    cluster.kill(a_server)
    done = b.wait_done(rid, timeout=20)
    assert time.monotonic() - killed < 15
    assert done["finish_reason"] == "error"
    errors = b.of("error", rid)
    assert len(errors) == 1 and errors[0]["code"] == "unavailable"
    assert b.events.index(("error", errors[0])) < b.events.index(("done", done))
    # The ending holds what had reached the log: all but the dead process's last fraction of a second.
    assert done["text"] and b.text_of(rid).startswith(done["text"])
    time.sleep(2)  # every process has had its chance to end it
    assert len(b.of("done", rid)) == 1
    again = b.chat("still here?", model="words-3")
    assert b.wait_done(again)["finish_reason"] == "stop"
    make_client(b_server.url)  # the dead process's socket no longer counts against the address (2 at most)


def test_the_orphan_limit_runs_where_the_reply_is_when_its_last_socket_leaves_another_process(make_cluster, make_client,
                                                                                              stub):
    cluster = make_cluster("--rate-per-minute-ip", "0", "--orphan-limit", "2")
    a_server, b_server = cluster.servers
    b = make_client(b_server.url)
    a = make_client(a_server.url, session_id=b.session_id)
    rid = a.chat("orphaned on A", model="slow-400")
    a.close()  # B still follows the conversation: the reply goes on
    b.wait("token", lambda t: t["request_id"] == rid)
    assert not stub.wait_hung_up("orphaned on A", 3.5)
    b.close()  # the last socket, on the other process
    assert stub.wait_hung_up("orphaned on A", 8)  # A stopped it at the limit, long before its 20 s end


def test_a_process_frozen_past_its_heartbeat_is_ended_once_and_keeps_quiet_when_it_wakes(make_cluster, make_client,
                                                                                         stub):
    cluster = make_cluster("--rate-per-minute-ip", "0")
    a_server, b_server = cluster.servers
    a = make_client(a_server.url)
    b = make_client(b_server.url, session_id=a.session_id)
    rid = a.chat("frozen halfway", model="slow-400")
    b.wait("token", lambda t: t["request_id"] == rid and t["seq"] >= 5)
    a_server.proc.send_signal(signal.SIGSTOP)  # taken for dead after 8 s without a heartbeat
    try:
        assert b.wait_done(rid, timeout=20)["finish_reason"] == "error"
    finally:
        a_server.proc.send_signal(signal.SIGCONT)
    assert stub.wait_hung_up("frozen halfway", 10)  # awake, A learns it was ended and stops generating
    time.sleep(1)
    for c in (a, b):  # one end each, the one B sent
        assert [d["finish_reason"] for d in c.of("done", rid)] == ["error"] and len(c.of("error", rid)) == 1
    again = a.chat("back again", model="words-3")
    assert a.wait_done(again)["finish_reason"] == "stop" and b.wait_done(again)["text"] == "w0 w1 w2 "
    assert [m["content"] for m in a.call("history")["history"]][-2:] == ["back again", "w0 w1 w2 "]
