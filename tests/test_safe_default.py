"""Safe by default (#39): with no token flags the server makes an admin token at first start; --open keeps it open.

Every server here names its mode: mode="safe" is the server as `python run.py` starts for a user.
"""
from __future__ import annotations

import os
import re
import stat
from concurrent.futures import ProcessPoolExecutor

import pytest

from server.web.admin_token import FILE_NAME, settle, token_in
from server.config import parse_args
from server.web.security import who_may
from tests.kb_files import upload
from tests.live import Client, LiveServer, http_json
from tests.test_roles import NONE, SHARED_WRITES

LINK = re.compile(r"open (http://127\.0\.0\.1:(\d+)/#admin=([A-Za-z0-9_-]+)) \(the token is kept in (\S+)\)\.")
CLIENT_ID = "safe-default-device-0000000001"


def serve(stub, *flags: str, mode: str, async_mode: str = "threading") -> LiveServer:
    return LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--rate-per-minute", "0",
                      *flags, mode=mode, async_mode=async_mode).start()


def printed_link(server: LiveServer) -> tuple[str, str, str]:
    """(link, token, file) of the start-up sentence, whose link must be this server's page."""
    m = LINK.search(server.output())
    assert m, server.output()
    assert int(m.group(2)) == server.port
    assert "Anyone on this network may chat; only the admin changes the library" in server.output()
    return m.group(1), m.group(3), m.group(4)


@pytest.fixture(scope="module")
def safe(stub, tmp_path_factory):
    """A server started with no token flags, in its own data folder (kept for a restart)."""
    folder = str(tmp_path_factory.mktemp("safe-data"))
    s = serve(stub, "--data-dir", folder, mode="safe")
    yield s
    s.stop()


def test_a_default_server_refuses_an_anonymous_library_upload(safe):
    status, body = upload(safe.url, "note.txt", b"The kettle is in the second cupboard.")
    assert status == 403, body
    assert body["error"] == {"code": "forbidden", "message": "Only this server's admin may do this: unlock Settings > "
                                                             "Manage this server with the admin token."}
    assert http_json(safe.url + "/api/kb/documents")[1]["documents"] == []
    assert http_json(safe.url + "/api/roles")[1] == {"ok": True, "admin": False, "admin_token_set": True}


@pytest.mark.parametrize("name, write, ok", SHARED_WRITES, ids=[w[0] for w in SHARED_WRITES])
def test_only_the_printed_token_changes_what_everyone_shares(safe, name, write, ok):
    _, token, _ = printed_link(safe)
    admin = {"X-Admin-Token": token}
    status, body, changed = write(safe.url, NONE, admin)
    assert status == 403 and body["error"]["code"] == "forbidden" and not changed, (name, status, body)
    for headers in (admin, {"Authorization": f"Bearer {token}"}):
        status, body, changed = write(safe.url, headers, admin)
        assert ok(status, body, changed), (name, status, body)


def test_chats_reads_and_own_conversations_stay_open(safe):
    status, body = http_json(safe.url + "/api/chat", {"message": "hi", "model": "words-3"})
    assert status == 200 and body["ok"], body
    c = Client(safe.url, client_id=CLIENT_ID)
    try:
        assert c.wait_done(c.chat("hello", model="say:open to all"))["text"] == "open to all"
    finally:
        c.close()
    assert http_json(safe.url + "/api/kb/documents")[0] == 200
    assert http_json(safe.url + "/api/kb/search", {"query": "kettle"})[0] == 200
    assert http_json(safe.url + "/api/graph/entities?q=a")[0] == 200
    status, body = http_json(safe.url + "/api/conversations", headers={"X-Client-Id": CLIENT_ID})
    assert status == 200 and [m["session_id"] for m in body["conversations"]] == [c.session_id], body


def test_the_token_is_kept_0600_and_survives_a_restart(stub, safe):
    link, token, path = printed_link(safe)
    assert path == os.path.join(safe.data_dir, FILE_NAME)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        assert f.read().strip() == token
    safe.stop()
    again = serve(stub, "--data-dir", safe.data_dir, mode="safe", async_mode="eventlet")
    try:
        link2, token2, _ = printed_link(again)
        assert token2 == token and link2 == link.replace(str(safe.port), str(again.port))
        assert http_json(again.url + "/api/roles", headers={"X-Admin-Token": token})[1]["admin"] is True
        status, body = upload(again.url, "after-restart.txt", b"Kept after a restart.",
                              headers={"X-Admin-Token": token})
        assert status == 200, body
        assert upload(again.url, "anonymous.txt", b"Not kept.")[0] == 403
    finally:
        again.stop()
    safe.start()  # the module's other tests may run after this one


def test_open_allows_everything_and_makes_no_token(stub):
    s = serve(stub, "--open", mode="safe")  # the flag itself, not LiveServer's open mode
    try:
        assert "Anyone on this network may chat and change the library, the graph and fine-tuning: --open" in s.output()
        assert "#admin=" not in s.output()
        assert not os.path.exists(os.path.join(s.data_dir, FILE_NAME))
        assert http_json(s.url + "/api/roles")[1] == {"ok": True, "admin": True, "admin_token_set": False}
        for name, write, ok in SHARED_WRITES:
            status, body, changed = write(s.url, NONE, NONE)
            assert ok(status, body, changed), (name, status, body)
    finally:
        s.stop()


@pytest.mark.parametrize("flags", [("--token", "chat-T0KEN"), ("--admin-token", "adm1n"), ("--open",)])
def test_token_flags_or_open_make_no_token(tmp_path, flags):
    cfg = parse_args([*flags, "--data-dir", str(tmp_path)], environ={})
    settle(cfg)
    assert cfg.admin_token_file is None and cfg.admin_token == dict(zip(flags[::2], flags[1::2])).get("--admin-token")
    assert os.listdir(tmp_path) == []
    assert "#admin=" not in who_may(cfg)


def test_open_with_an_admin_token_is_refused_with_a_sentence(capsys):
    with pytest.raises(SystemExit) as stop:
        parse_args(["--open", "--admin-token", "x"], environ={})
    assert stop.value.code == 2
    assert "--open lets anyone change the library" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args([], environ={"CHAT_OPEN": "1", "CHAT_ADMIN_TOKEN": "x"})


def test_processes_sharing_a_data_folder_share_one_token(tmp_path):
    """Several processes (--redis, docs/SCALE.md) starting at once on one folder: one token, made once."""
    with ProcessPoolExecutor(8) as pool:
        tokens = list(pool.map(token_in, [str(tmp_path)] * 32))
    assert len(set(tokens)) == 1 and len(tokens[0]) == 32
    assert os.listdir(tmp_path) == [FILE_NAME]
    assert stat.S_IMODE(os.stat(tmp_path / FILE_NAME).st_mode) == 0o600


def test_a_damaged_token_file_stops_the_start_with_a_sentence(tmp_path):
    (tmp_path / FILE_NAME).write_text("")
    with pytest.raises(SystemExit, match="empty or damaged: delete it to make a new one"):
        token_in(str(tmp_path))
