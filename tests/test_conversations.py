"""Conversations that last (#12): a client's list, its settings, the store across restarts, ownership."""
import os
import secrets
import sqlite3
import time

from tests.live import LiveServer, http_json, stub_args

ME = "me-" + secrets.token_urlsafe(20)
STRANGER = "them-" + secrets.token_urlsafe(20)


def stub_server(make_server, stub, *args):
    return make_server(*stub_args(stub, *args))


def as_client(client_id):
    return {"X-Client-Id": client_id}


def test_list_search_rename_delete_and_everything_back_after_a_restart(make_server, make_client, stub, tmp_path):
    data = str(tmp_path / "data")
    s = stub_server(make_server, stub, "--data-dir", data)
    c = make_client(s.url, client_id=ME)
    made = [c.session_id]
    for question in ("Apples or pears?", "Which bananas are ripe?", "Cherry season when?"):
        if len(made) > 1 or c.of("done"):
            ack = c.call("new")
            assert ack["ok"] and ack["session_id"] not in made
            made.append(ack["session_id"])
        c.wait_done(c.chat(question, model="say:answer to " + question.split()[0]))
    listed = c.call("list")
    assert listed["ok"] and listed["more"] is False
    titles = [x["title"] for x in listed["conversations"]]
    assert titles == ["Cherry season when?", "Which bananas are ripe?", "Apples or pears?"]  # newest first
    assert [x["messages"] for x in listed["conversations"]] == [2, 2, 2]
    ids = [x["session_id"] for x in listed["conversations"]]
    cherries, bananas, apples = ids

    assert [x["session_id"] for x in c.call("list", {"query": "BANANA"})["conversations"]] == [bananas]
    assert [x["session_id"] for x in c.call("list", {"query": "answer to Apples"})["conversations"]] == [apples]
    page = c.call("list", {"limit": 2})
    assert page["more"] is True and [x["session_id"] for x in page["conversations"]] == [cherries, bananas]
    rest = c.call("list", {"limit": 2, "before": page["conversations"][-1]["updated_at"]})
    assert rest["more"] is False and [x["session_id"] for x in rest["conversations"]] == [apples]

    assert c.call("rename", {"session_id": apples, "title": "Fruit, compared"}) == {"ok": True}
    assert c.call("delete", {"session_id": cherries}) == {"ok": True}
    assert c.call("open", {"session_id": cherries})["error"]["code"] == "not_found"

    # Per-conversation settings: kept with bananas, used by a chat that names none, not by apples.
    opened = c.call("open", {"session_id": bananas})
    assert opened["ok"] and opened["history"][1]["content"] == "answer to Which" and opened["settings"] == {}
    settings = {"system": "Answer in French.", "model": "say:oui merci", "params": {"temperature": 0.25}}
    assert c.call("settings", settings) == {"ok": True, "settings": settings}
    assert c.wait_done(c.chat("Again?"))["text"] == "oui merci"
    sent = stub.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Answer in French."} and sent["temperature"] == 0.25
    assert c.call("open", {"session_id": apples})["settings"] == {}
    c.wait_done(c.chat("Plain?", model="say:plain"))
    assert stub.requests[-1]["messages"][0]["role"] == "user"
    c.close()

    s.stop()
    again = stub_server(make_server, stub, "--data-dir", data)
    back = make_client(again.url, client_id=ME)
    ready = back.of("ready")[0]
    assert ready["client_id"] == ME
    assert [(x["session_id"], x["title"]) for x in ready["conversations"]] == [
        (apples, "Fruit, compared"), (bananas, "Which bananas are ripe?")]
    assert ready["session_id"] != apples and ready["history"] == []  # no session named: a fresh one
    opened = back.call("open", {"session_id": bananas})
    assert [m["content"] for m in opened["history"]] == [
        "Which bananas are ripe?", "answer to Which", "Again?", "oui merci"]
    assert opened["settings"] == settings
    assert back.wait_done(back.chat("Still French?"))["text"] == "oui merci"
    # A socket naming its conversation gets it back with its history.
    named = make_client(again.url, client_id=ME, session_id=apples)
    assert [m["content"] for m in named.of("ready")[0]["history"]] == ["Apples or pears?", "answer to Apples", "Plain?",
                                                                       "plain"]


def test_a_stranger_sees_and_touches_nothing(make_server, make_client, stub):
    s = stub_server(make_server, stub)
    mine = make_client(s.url, client_id=ME)
    mine.wait_done(mine.chat("private question", model="say:private answer"))
    sid = mine.session_id
    them = make_client(s.url, client_id=STRANGER)
    assert them.of("ready")[0]["conversations"] == []
    assert them.call("list")["conversations"] == [] and them.call("list", {"query": "private"})["conversations"] == []
    for event, payload in (("open", {"session_id": sid}), ("rename", {"session_id": sid, "title": "mine now"}),
                           ("delete", {"session_id": sid})):
        assert them.call(event, payload)["error"]["code"] == "not_found", event
    for fmt in ("json", "md"):
        status, body = http_json(f"{s.url}/api/conversations/{sid}/export?format={fmt}", headers=as_client(STRANGER))
        assert (status, body["error"]["code"]) == (404, "not_found")
    assert http_json(s.url + "/api/conversations", headers=as_client(STRANGER))[1]["conversations"] == []
    # Naming the session on connect does not open it either: the stranger gets a fresh conversation.
    intruder = make_client(s.url, client_id=STRANGER, session_id=sid)
    ready = intruder.of("ready")[0]
    assert ready["session_id"] != sid and ready["history"] == []
    # Nothing changed for the owner.
    listed = mine.call("list")["conversations"]
    assert [(x["session_id"], x["title"], x["messages"]) for x in listed] == [(sid, "private question", 2)]


def test_export_then_import_round_trips_a_conversation(make_server, make_client, stub):
    s = stub_server(make_server, stub)
    c = make_client(s.url, client_id=ME)
    assert c.call("settings", {"system": "Be brief.", "params": {"max_tokens": 50}})["ok"]
    c.wait_done(c.chat("first question", model="reasoner"))
    c.wait_done(c.chat("second, with ünïcödé and\nnew lines", model="say:reply two"))
    status, doc = http_json(f"{s.url}/api/conversations/{c.session_id}/export", headers=as_client(ME))
    assert status == 200 and doc["session_id"] == c.session_id and doc["title"] == "first question"
    assert doc["settings"] == {"system": "Be brief.", "params": {"max_tokens": 50}}
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant", "user", "assistant"]
    assert doc["messages"][1]["reasoning"] and all(m["created_at"].endswith("Z") for m in doc["messages"])

    status, imported = http_json(s.url + "/api/conversations/import", doc, headers=as_client(ME))
    assert status == 200 and imported["ok"]
    [summary] = imported["conversations"]
    assert summary["session_id"] != doc["session_id"] and summary["messages"] == 4
    status, copy = http_json(f"{s.url}/api/conversations/{summary['session_id']}/export", headers=as_client(ME))
    assert {**copy, "session_id": None} == {**doc, "session_id": None}

    with_md = f"{s.url}/api/conversations/{c.session_id}/export?format=md"
    import urllib.request
    req = urllib.request.Request(with_md, headers=as_client(ME))
    with urllib.request.urlopen(req) as r:
        md = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/markdown")
    assert md.startswith("# first question") and "## Assistant" in md and "reply two" in md

    # A list of documents: all imported, the newest first in the list; the socket can open them.
    status, two = http_json(s.url + "/api/conversations/import", [doc, {**doc, "title": "renamed copy"}],
                            headers=as_client(ME))
    assert status == 200 and [x["title"] for x in two["conversations"]] == ["first question", "renamed copy"]
    assert c.call("list", {"limit": 1})["conversations"][0]["title"] == "renamed copy"
    opened = c.call("open", {"session_id": two["conversations"][1]["session_id"]})
    assert opened["history"][3] == {"role": "assistant", "content": "reply two"}
    # A grounded reply's sources and check travel with it (#25): JSON both ways, a list in Markdown, the history.
    sources = [{"n": 1, "kind": "passage", "document_id": "d1", "title": "gym.md", "chunk_id": "d1-0", "page": None,
                "text": "Hours. It closes at 22:30.", "score": 0.03, "sentences": ["It closes at 22:30."]},
               {"n": 2, "kind": "fact", "id": "f1", "head": {"id": "e1", "name": "Gym", "type": "place"},
                "relation": "closes at", "tail": {"id": "e2", "name": "22:30", "type": "time"}, "sources": []}]
    grounding = {"supported": False, "quote": {"n": 1, "title": "gym.md", "sentence": "It closes at 22:30."}}
    reply = {**doc["messages"][3], "sources": sources, "grounding": grounding}
    grounded = {**doc, "messages": doc["messages"][:3] + [reply]}
    status, imported = http_json(s.url + "/api/conversations/import", grounded, headers=as_client(ME))
    assert status == 200, imported
    sid = imported["conversations"][0]["session_id"]
    status, copy = http_json(f"{s.url}/api/conversations/{sid}/export", headers=as_client(ME))
    assert copy["messages"] == grounded["messages"]
    assert c.call("open", {"session_id": sid})["history"][3] == {"role": "assistant", "content": "reply two",
                                                                 "sources": sources, "grounding": grounding}
    req = urllib.request.Request(f"{s.url}/api/conversations/{sid}/export?format=md", headers=as_client(ME))
    with urllib.request.urlopen(req) as r:
        assert "reply two\n\nSources:\n\n- [1] gym.md\n- [2] Gym -closes at-> 22:30\n" in r.read().decode()
    # A graph reply's note quotes a fact (#31): it travels too.
    fact_note = {"supported": False,
                 "quote": {"n": 2, "kind": "fact", "head": "Gym", "relation": "closes at", "tail": "22:30"}}
    noted = {**grounded, "messages": grounded["messages"][:3] + [{**reply, "grounding": fact_note}]}
    status, body = http_json(s.url + "/api/conversations/import", noted, headers=as_client(ME))
    assert status == 200, body
    status, copy = http_json(f"{s.url}/api/conversations/{body['conversations'][0]['session_id']}/export",
                             headers=as_client(ME))
    assert copy["messages"][3]["grounding"] == fact_note

    # Invalid documents change nothing.
    before = len(c.call("list", {"limit": 200})["conversations"])
    status, body = http_json(s.url + "/api/conversations/import",
                             [doc, {"messages": [{"role": "system", "content": "x"}]}],
                             headers=as_client(ME))
    assert (status, body["error"]["code"]) == (400, "bad_request")
    for bad_reply, words in (({**reply, "sources": [{"n": "1", "title": "gym.md", "text": "x"}]}, "'sources' must be"),
                             ({**reply, "sources": {"n": 1}}, "'sources' must be"),
                             ({**reply, "sources": [{**sources[1], "head": "Gym"}]}, "'sources' must be"),
                             ({**reply, "grounding": {"supported": "no"}}, "'grounding' must be"),
                             ({**reply, "grounding": {"supported": False, "quote": {"n": 1}}}, "'grounding' must be")):
        status, body = http_json(s.url + "/api/conversations/import", {**doc, "messages": [bad_reply]},
                                 headers=as_client(ME))
        assert (status, body["error"]["code"]) == (400, "bad_request") and words in body["error"]["message"], body
    question = {**doc["messages"][0], "sources": sources}
    status, body = http_json(s.url + "/api/conversations/import", {**doc, "messages": [question]},
                             headers=as_client(ME))
    assert status == 400 and "Only an assistant message" in body["error"]["message"]
    assert len(c.call("list", {"limit": 200})["conversations"]) == before


def test_a_reply_finishes_and_is_saved_while_no_socket_is_open(make_server, make_client, stub):
    s = stub_server(make_server, stub)
    c = make_client(s.url, client_id=ME)
    rid = c.chat("long answer please", model="slow-60")  # 3 s of words
    c.wait("token")
    c.close()
    # A turn is stored whole when its reply ends (sessions.append_turn): then the list counts its two messages.
    # A fixed 5 s wait was 2 s longer than the reply on a quiet machine and could be shorter than it under load.
    deadline = time.monotonic() + 60
    while [m["messages"] for m in http_json(s.url + "/api/conversations", headers=as_client(ME))[1]["conversations"]
           if m["session_id"] == c.session_id] != [2]:
        assert time.monotonic() < deadline, "the reply was never saved"
        time.sleep(0.1)
    back = make_client(s.url, client_id=ME, session_id=c.session_id)
    ready = back.of("ready")[0]
    assert ready["active_request_id"] is None
    assert ready["history"] == [{"role": "user", "content": "long answer please"},
                                {"role": "assistant", "content": "".join(f"w{i} " for i in range(60))}]
    assert back.call("resume", {"request_id": rid, "after_seq": -1})["status"] == "finished"
    assert back.wait_done(rid)["finish_reason"] == "stop"


def test_the_orphan_limit_saves_the_partial_reply_as_cancelled(make_server, make_client, stub):
    s = stub_server(make_server, stub, "--orphan-limit", "1")
    c = make_client(s.url, client_id=ME)
    rid = c.chat("too long to wait for", model="slow-400")  # 20 s of words
    c.wait("token")
    c.close()
    assert stub.wait_hung_up("too long to wait for", 15)
    back = make_client(s.url, client_id=ME, session_id=c.session_id)
    assert back.call("resume", {"request_id": rid, "after_seq": -1})["status"] == "finished"
    done = back.wait_done(rid)
    assert done["finish_reason"] == "cancelled" and done["text"].startswith("w0 w1 ")
    history = back.call("history")["history"]
    assert history == [{"role": "user", "content": "too long to wait for"},
                       {"role": "assistant", "content": done["text"]}]


def test_kill_9_mid_reply_keeps_every_finished_turn(make_server, make_client, stub, tmp_path):
    data = str(tmp_path / "data")
    s = stub_server(make_server, stub, "--data-dir", data)
    c = make_client(s.url, client_id=ME)
    for i in range(3):
        c.wait_done(c.chat(f"question {i}", model=f"say:answer {i}"))
    c.chat("cut off", model="slow-400")
    c.wait("token")
    s.proc.kill()
    s.proc.wait()
    db = sqlite3.connect(os.path.join(data, "conversations.sqlite3"))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    again = stub_server(make_server, stub, "--data-dir", data)
    back = make_client(again.url, client_id=ME, session_id=c.session_id)
    contents = [m["content"] for m in back.of("ready")[0]["history"]]
    assert contents == [x for i in range(3) for x in (f"question {i}", f"answer {i}")]
    assert back.of("ready")[0]["conversations"][0]["messages"] == 6


def test_an_unusable_data_folder_stops_the_start_with_a_sentence(tmp_path):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "conversations.sqlite3").write_bytes(b"this is not a database, just some bytes " * 100)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    for folder, words in ((corrupt, "cannot be used"), (blocked / "data", "cannot be made")):
        server = LiveServer("--data-dir", str(folder))
        try:
            server.start(timeout=60)
            raise AssertionError("the server started on an unusable data folder")
        except RuntimeError as e:
            out = str(e)
        assert words in out and "--data-dir" in out and "Traceback" not in out, out


def test_a_version_1_database_opens_with_its_messages_and_keeps_a_grounded_reply(tmp_path):
    from server.store.sqlite import MIGRATIONS, SqliteStore

    path = str(tmp_path / "conversations.sqlite3")
    old = sqlite3.connect(path)  # the file as the first schema wrote it (migrations are appended, never edited)
    old.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    old.execute("INSERT INTO conversations VALUES ('old', ?, 'Opening hours', '2025-01-02T03:04:05.000000Z', "
                "'2025-01-02T03:04:06.000000Z', '{}')", (ME,))
    kept = [{"role": "user", "content": "When do you open?", "created_at": "2025-01-02T03:04:05.000000Z"},
            {"role": "assistant", "content": "At nine.", "created_at": "2025-01-02T03:04:06.000000Z",
             "reasoning": "hm"}]
    old.executemany("INSERT INTO messages (session_id, seq, role, content, reasoning, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [("old", i, m["role"], m["content"], m.get("reasoning"), m["created_at"])
                     for i, m in enumerate(kept)])
    old.commit()
    old.close()

    store = SqliteStore(path)
    try:
        assert store.get("old")["title"] == "Opening hours" and store.messages("old") == (0, kept)
        grounded = {"role": "assistant", "content": "At 22:30 [1].", "created_at": "2025-01-02T03:05:00.000000Z",
                    "sources": [{"n": 1, "title": "gym.md", "text": "It closes at 22:30.",
                                 "sentences": ["It closes at 22:30."]}],
                    "grounding": {"supported": True}}
        store.append("old", [{"role": "user", "content": "And close?", "created_at": "2025-01-02T03:04:59.000000Z"}],
                     pending=True)
        store.settle("old", grounded)
        assert store.messages("old", last=1) == (3, [grounded]) and store.messages("old")[1][:2] == kept
    finally:
        store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    db.close()
