"""The backup archive on its own (no server): what it holds, and what a restore refuses."""
from __future__ import annotations

import io
import os
import sqlite3
import tarfile

import pytest

from server.store.backup import backup, restore


def make_data(folder) -> sqlite3.Connection:
    """A data folder as a running server leaves it; the open store is returned (closing it would checkpoint)."""
    db = sqlite3.connect(folder / "conversations.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x TEXT)")
    db.execute("INSERT INTO t VALUES ('kept in the WAL only')")
    db.commit()  # not checkpointed: the row is in conversations.sqlite3-wal, and the copy must still have it
    (folder / "graph").mkdir()
    (folder / "graph" / "graph.lbug").write_bytes(b"graph bytes")
    (folder / "tuning" / "adapters" / "rooms").mkdir(parents=True)
    (folder / "tuning" / "adapters" / "rooms" / "adapter.safetensors").write_bytes(b"\x00weights")
    return db


def test_a_backup_restores_whole_and_a_restore_never_writes_over_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    live = make_data(data)
    assert os.path.getsize(data / "conversations.sqlite3-wal") > 0
    archive = str(tmp_path / "b.tar.gz")
    manifest = backup(str(data), archive)
    live.close()
    assert os.stat(archive).st_mode & 0o077 == 0  # nobody but its owner reads everyone's conversations
    hows = {f["path"]: f["how"] for f in manifest["files"]}
    assert hows["conversations.sqlite3"] == "sqlite online backup" and "conversations.sqlite3-wal" not in hows
    assert hows[os.path.join("graph", "graph.lbug")] == "copy under the graph's lock"

    out = tmp_path / "restored"
    restore(archive, str(out))
    rows = sqlite3.connect(out / "conversations.sqlite3").execute("SELECT x FROM t").fetchall()
    assert rows == [("kept in the WAL only",)]
    assert (out / "graph" / "graph.lbug").read_bytes() == b"graph bytes"
    assert (out / "tuning" / "adapters" / "rooms" / "adapter.safetensors").read_bytes() == b"\x00weights"

    with pytest.raises(SystemExit, match="already holds data"):
        restore(archive, str(out))
    with pytest.raises(SystemExit, match="not a backup"):
        (tmp_path / "junk").write_bytes(b"not a tar")
        restore(str(tmp_path / "junk"), str(tmp_path / "empty1"))


def test_a_member_that_would_land_outside_the_folder_is_refused(tmp_path):
    evil = str(tmp_path / "evil.tar.gz")
    with tarfile.open(evil, "w:gz") as tar:
        for name, raw in (("manifest.json", b'{"format": 1, "created_at": "x", "files": []}'), ("../escaped", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    with pytest.raises(SystemExit, match="outside"):
        restore(evil, str(tmp_path / "target"))
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "target").exists()  # nothing written at all
