"""RedisStore keeps conversations as MemoryStore does (the reference), on a real redis-server."""
from __future__ import annotations

import os
import tempfile

import pytest

from server.errors import ChatError
from server.store import MemoryStore, now_iso
from server.store.redis import RedisStore
from tests.cluster import RedisServer
from tests.kb_files import upload
from tests.live import ROOT


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer(tempfile.mkdtemp(prefix="redis-store-")).start()
    yield server
    server.stop()


@pytest.fixture
def stores(redis_server):
    client = redis_server.client()
    client.flushdb()
    yield MemoryStore(), RedisStore(client)


def meta(sid: str, client: str, title: str = "") -> dict:
    now = now_iso()
    return {"session_id": sid, "client_id": client, "title": title, "created_at": now, "updated_at": now,
            "settings": {"system": "be brief", "params": {"temperature": 0.5}}}


def msg(role: str, content: str) -> dict:
    return {"role": role, "content": content, "created_at": now_iso()}


def same(value):
    """A result without updated_at, which each store stamps with its own clock reading."""
    if isinstance(value, dict):
        return {k: same(v) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, (list, tuple)):
        return type(value)(same(v) for v in value)
    return value


def both(stores, method: str, *args, **kw):
    """Call the method on each store; the memory store's result, which Redis's must match."""
    reference, redis_store = (getattr(s, method)(*args, **kw) for s in stores)
    assert same(redis_store) == same(reference), method
    return reference


def test_turns_pending_questions_truncate_and_delete_as_in_memory(stores):
    first = meta("c1", "client-a" * 3, "first")
    for s in stores:
        s.save(first)
    assert both(stores, "get", "c1")["settings"]["params"] == {"temperature": 0.5}
    assert both(stores, "get", "nope") is None
    for s in stores:
        s.append("c1", [msg("user", "hello")], pending=True)
    assert both(stores, "messages", "c1") == (0, [])  # a pending question is never returned
    q, failed = msg("user", "hello"), msg("user", "failed")
    a = {**msg("assistant", "hi there [1]"), "reasoning": "greet", "grounding": {"supported": True},
         "sources": [{"n": 1, "title": "greetings.md", "text": "Say hi there.", "sentences": ["Say hi there."]}]}
    for s in stores:
        s.append("c1", [q], pending=True)
        s.settle("c1", a)
        s.append("c1", [failed], pending=True)
        s.settle("c1", None)  # a failed reply drops its question
    assert both(stores, "messages", "c1") == (0, [q, a])
    assert both(stores, "messages", "c1", last=1) == (1, [a])
    turn = [msg("user", "x"), msg("assistant", "y")]
    for s in stores:
        s.append("c1", turn)
        s.truncate("c1", 3)
    assert len(both(stores, "messages", "c1")[1]) == 3
    for s in stores:
        s.truncate("c1", 0)
        s.delete("c1")
        s.delete("c1")  # twice: no error
    assert both(stores, "get", "c1") is None
    assert both(stores, "list", "client-a" * 3) == ([], False)


def test_list_is_newest_first_pages_by_updated_at_and_searches_titles_and_text(stores):
    owner, other = "owner-xyz" * 3, "other-xyz" * 3
    turn = [msg("user", "Where is the Pharmacy?"), msg("assistant", "Floor 2")]
    metas = [meta(f"s{i}", owner, f"Topic {i}") for i in range(7)] + [meta("theirs", other, "Topic 3")]
    for s in stores:
        for m in metas:
            s.save(m)
        s.append("s2", turn)  # s2 is now the newest
    page, more = both(stores, "list", owner, limit=3)
    assert [r["session_id"] for r in page] == ["s2", "s6", "s5"] and more
    assert page[0]["messages"] == 2 and page[0]["title"] == "Topic 2"
    rest, more = both(stores, "list", owner, before=page[-1]["updated_at"], limit=10)
    assert [r["session_id"] for r in rest] == ["s4", "s3", "s1", "s0"] and not more
    assert [r["session_id"] for r in both(stores, "list", owner, query="pharmacy")[0]] == ["s2"]
    assert [r["session_id"] for r in both(stores, "list", owner, query="topic 3")[0]] == ["s3"]
    renamed = {**stores[0].get("s0"), "title": "Renamed", "updated_at": now_iso()}
    for s in stores:
        s.save(renamed)
    assert both(stores, "list", owner, limit=1)[0][0]["title"] == "Renamed"
    with pytest.raises(ChatError):
        stores[1].list(owner, before="not a time")


def test_a_grounded_reply_keeps_its_sources_and_note_in_redis_across_a_restart(redis_server, stub, make_server,
                                                                               make_client):
    redis_server.client().flushdb()
    args = ("--backend", "openai", "--base-url", stub.url, "--redis", redis_server.url, "--rate-per-minute", "0")
    first = make_server(*args, async_mode="eventlet")
    with open(os.path.join(ROOT, "bench", "data", "evidence", "docs", "clinic.md"), "rb") as f:
        assert upload(first.url, "clinic.md", f.read())[0] == 200
    c = make_client(first.url)
    done = c.wait_done(c.chat("消化内科在哪里？", model="say:消化内科在门诊楼四楼 [1]。", knowledge=True))
    assert done["sources"] and done["grounding"]["supported"] is False, done
    first.stop()
    again = make_server(*args, async_mode="eventlet")
    back = make_client(again.url, client_id=c.of("ready")[0]["client_id"])
    [reply] = [m for m in back.call("open", {"session_id": c.session_id})["history"] if m["role"] == "assistant"]
    assert reply == {"role": "assistant", "content": done["text"], "sources": done["sources"],
                     "grounding": done["grounding"]}
