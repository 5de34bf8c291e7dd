"""The data folder: where each system keeps it, the folder of earlier versions read on while it holds data, and a
folder whose path has spaces and Chinese characters (as C:\\Users\\张三\\AppData\\Local on Windows)."""
from __future__ import annotations

import logging
import os
import secrets
import sys

import pytest

from server import paths
from server.config import Config
from tests.kb_files import upload
from tests.live import http_json

ME = "me-" + secrets.token_urlsafe(20)


@pytest.fixture
def elsewhere(monkeypatch, tmp_path):
    """A system whose data folder differs from the old one (macOS: ~/Library/Application Support); (new, old)."""
    new = tmp_path / "Library" / "Application Support" / "lan-llm-chat"
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda *a, **k: str(new))
    monkeypatch.setattr(paths.platformdirs, "user_cache_dir", lambda *a, **k: str(new / "Cache"))  # Windows' layout
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(paths, "_told", set())
    return str(new), str(tmp_path / "xdg" / "lan-llm-chat")


def holding_data(folder: str) -> str:
    os.makedirs(os.path.join(folder, "knowledge"), exist_ok=True)
    with open(os.path.join(folder, "conversations.sqlite3"), "wb") as f:
        f.write(b"SQLite format 3\0")
    return folder


def test_the_old_folder_is_read_while_it_holds_data_and_the_start_says_so(elsewhere, caplog):
    new, old = elsewhere
    holding_data(old)
    os.makedirs(os.path.join(new, "Cache"))  # the model cache inside the new folder is not data
    with caplog.at_level(logging.WARNING, logger="server.paths"):
        assert paths.data_dir(Config()) == old
        assert paths.data_dir(Config()) == old  # every store asks; the sentence is said once
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and old in said[0] and new in said[0] and "move" in said[0]


def test_the_systems_folder_once_it_holds_data_or_when_the_old_one_is_empty(elsewhere, caplog):
    new, old = elsewhere
    os.makedirs(old)  # made, never used
    with caplog.at_level(logging.WARNING, logger="server.paths"):
        assert paths.data_dir(Config()) == new
    holding_data(old)
    holding_data(new)
    with caplog.at_level(logging.WARNING, logger="server.paths"):
        assert paths.data_dir(Config()) == new
    assert caplog.records == []


def test_data_dir_given_is_used_as_it_is(elsewhere, tmp_path, caplog):
    _, old = elsewhere
    holding_data(old)
    with caplog.at_level(logging.WARNING, logger="server.paths"):
        assert paths.data_dir(Config(data_dir=str(tmp_path / "mine"))) == str(tmp_path / "mine")
    assert caplog.records == []


def test_on_linux_the_folders_stay_where_they_were(monkeypatch, tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("the XDG folders are Linux's")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert paths.default_data_dir() == paths.legacy_data_dir() == str(tmp_path / "data" / "lan-llm-chat")
    assert paths.default_cache_dir() == str(tmp_path / "cache" / "lan-llm-chat")


def test_a_path_with_spaces_and_chinese_keeps_a_conversation_and_a_document(make_server, make_client, stub, tmp_path):
    data = str(tmp_path / "My Files 张三" / "聊天 数据")
    args = ("--backend", "openai", "--base-url", stub.url, "--rate-per-minute", "0", "--data-dir", data)
    first = make_server(*args)
    c = make_client(first.url, client_id=ME)
    c.wait_done(c.chat("茶多少钱？", model="say:六十八元一壶"))
    status, body = upload(first.url, "茶 价格.txt", "云雾茶舍的招牌茶是白露银针，每壶售价六十八元。".encode())
    assert status == 200, body
    first.stop()

    again = make_server(*args)
    c = make_client(again.url, client_id=ME)
    listed = c.call("list")["conversations"]
    assert [x["title"] for x in listed] == ["茶多少钱？"]
    history = c.call("open", {"session_id": listed[0]["session_id"]})["history"]
    assert [m["content"] for m in history] == ["茶多少钱？", "六十八元一壶"]
    status, body = http_json(again.url + "/api/kb/search", {"query": "白露银针多少钱一壶？", "k": 1})
    assert status == 200 and body["results"][0]["title"] == "茶 价格.txt", body
    assert os.listdir(data)  # the data is in the folder named, not beside it


def test_the_graph_copies_rows_through_a_temp_folder_named_like_windows_ones(monkeypatch, tmp_path):
    """COPY FROM takes the CSV's path in a Cypher string, where a backslash escapes (C:\\Users\\...)."""
    pytest.importorskip("ladybug")
    import tempfile

    from server.graph.ladybug import COPY_FROM, LadybugEngine

    odd = tmp_path / "C\\Users\\O'Brien 张三" / "Temp"
    odd.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(odd))
    engine = LadybugEngine(str(tmp_path / "graph"))
    rows = [{"id": f"e{i}", "name": f"名字{i}", "norm": f"名字{i}", "type": "", "aliases": "[]", "merged_into": ""}
            for i in range(COPY_FROM)]
    assert engine.copy_rows("Entity", rows)  # this many go in by COPY
    assert engine._run("MATCH (e:Entity) RETURN count(*) AS n", {}) == [{"n": COPY_FROM}]
    assert os.listdir(odd) == []  # the CSV is gone
    engine.close()


def test_without_the_embedded_engine_the_graph_is_off_with_a_sentence_naming_graph_url(monkeypatch):
    import importlib.util

    from server.graph import build_graph

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ladybug" else real(name, *a))
    refused = build_graph(Config(store="memory")).refused
    assert refused and "--graph-url" in refused and "macOS" in refused
    assert build_graph(Config(store="memory", graph_url="bolt://127.0.0.1:7687")).refused is None
