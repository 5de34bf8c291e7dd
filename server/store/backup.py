"""python run.py backup FILE / restore FILE:
one archive of the data folder, taken consistently while the server runs."""
from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import sys
import tarfile
import tempfile
import time

from ..file_lock import exclusive

FORMAT = 1  # manifest.json's "format": bump when the layout of an archive changes
SKIP_SUFFIXES = ("-wal", "-shm", "-journal")  # SQLite's side files: the online backup already holds their pages
GRAPH_LOCK = "backup.lock"  # server/graph/ladybug.py's LOCK_FILE (base may not import the graph)


def _sqlite_copy(src: str, dst: str) -> None:
    """SQLite's online backup: a consistent copy while the server writes (it restarts when a write lands mid-copy)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def backup(data_dir: str, out: str) -> dict:
    """Write the archive; the manifest it holds is returned (what was copied, how)."""
    data_dir = os.path.abspath(data_dir)
    if not os.path.isdir(data_dir):
        raise SystemExit(f"There is no data folder at {data_dir}; name it with --data-dir.")
    copied: list[dict] = []
    manifest = {"format": FORMAT, "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": copied}
    tmp_out = out + ".partial"
    # Readable by its owner only: it holds every conversation, the TLS key and any token file.
    fd = os.open(tmp_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with tempfile.TemporaryDirectory(prefix="chat-backup-") as scratch, os.fdopen(fd, "wb") as raw, \
            tarfile.open(fileobj=raw, mode="w:gz") as tar:
        graph = os.path.join(data_dir, "graph")
        for root, dirs, files in os.walk(data_dir):
            dirs.sort()
            rel_root = os.path.relpath(root, data_dir)
            if rel_root == "graph" or rel_root.startswith("graph" + os.sep):
                continue  # below, under the graph's lock
            for name in sorted(files):
                path, rel = os.path.join(root, name), os.path.normpath(os.path.join(rel_root, name))
                if name.endswith(SKIP_SUFFIXES) or os.path.islink(path):
                    continue
                if name.endswith((".sqlite3", ".sqlite", ".db")):
                    copy = os.path.join(scratch, rel.replace(os.sep, "_"))
                    _sqlite_copy(path, copy)
                    tar.add(copy, arcname=rel)
                    copied.append({"path": rel, "how": "sqlite online backup"})
                else:
                    tar.add(path, arcname=rel)
                    copied.append({"path": rel, "how": "copy"})
        if os.path.isdir(graph):
            # No statement runs while this is held: graph.lbug and its WAL are copied as one moment of the graph.
            with exclusive(os.path.join(graph, GRAPH_LOCK)):
                for name in sorted(os.listdir(graph)):
                    path = os.path.join(graph, name)
                    if name != GRAPH_LOCK and os.path.isfile(path):
                        tar.add(path, arcname=os.path.join("graph", name))
                        copied.append({"path": os.path.join("graph", name), "how": "copy under the graph's lock"})
        listing = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size, info.mtime = len(listing), int(time.time())
        tar.addfile(info, io.BytesIO(listing))
    os.replace(tmp_out, out)
    return manifest


def restore(archive: str, data_dir: str) -> dict:
    """Lay the archive out in data_dir, which must be missing or empty: a restore never mixes with live data."""
    data_dir = os.path.abspath(data_dir)
    if os.path.isdir(data_dir) and os.listdir(data_dir):
        raise SystemExit(f"{data_dir} already holds data: restore into an empty or new folder, then start the "
                         f"server with --data-dir on it.")
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as e:
        raise SystemExit(f"{archive} is not a backup of this server ({e}).")
    with tar:
        try:
            # a manifest.json that is not a file (a folder) reads as empty: no manifest, rather than a crash
            manifest = json.load(tar.extractfile("manifest.json") or io.BytesIO(b""))
        except (KeyError, ValueError):
            raise SystemExit(f"{archive} has no manifest: it is not a backup of this server.") from None
        if manifest.get("format") != FORMAT:
            raise SystemExit(f"{archive} is in backup format {manifest.get('format')}; this server reads {FORMAT}.")
        members = [m for m in tar.getmembers() if m.name != "manifest.json"]
        for member in members:  # all checked before anything is written
            try:
                # The "data" filter refuses absolute paths, "..", links out of the folder and device files.
                tarfile.data_filter(member, data_dir)
            except tarfile.FilterError as e:
                raise SystemExit(f"{archive} holds {member.name!r}, which would land outside the folder ({e}): "
                                 f"nothing restored.") from None
        os.makedirs(data_dir, exist_ok=True)
        for member in members:
            tar.extract(member, data_dir, filter="data")
    return manifest


def default_data_dir() -> str:
    """--data-dir as the server would find it: CHAT_DATA_DIR (environment or .env), else the user's data folder."""
    from ..config import load_env_file
    from ..paths import default_data_dir as users

    load_env_file()
    return os.environ.get("CHAT_DATA_DIR") or users()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="run.py", description="Back up or restore the server's data folder.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup", help="write one archive of the data folder (the server may keep running)")
    b.add_argument("file")
    b.add_argument("--data-dir", default=None)
    r = sub.add_parser("restore", help="lay an archive out in an empty folder")
    r.add_argument("file")
    r.add_argument("--data-dir", required=True)
    args = parser.parse_args(argv)
    if args.command == "backup":
        folder = args.data_dir or default_data_dir()
        manifest = backup(folder, args.file)
        print(f"Backed up {len(manifest['files'])} files of {os.path.abspath(folder)} to {args.file}.")
    else:
        manifest = restore(args.file, args.data_dir)
        print(f"Restored {len(manifest['files'])} files (backup of {manifest['created_at']}) into "
              f"{os.path.abspath(args.data_dir)}; start the server with --data-dir {args.data_dir}.")


if __name__ == "__main__":
    main(sys.argv[1:])
