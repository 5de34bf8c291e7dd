"""The admin token made at first start: kept in the data folder (mode 0600) and shared by every process using it."""
from __future__ import annotations

import os
import secrets
import time

from ..paths import data_dir

FILE_NAME = "admin_token"
# Another process may have made the file and not yet written its line (one write of 33 bytes, microseconds
# later on a local disk): an empty file is read again for this long before it counts as damaged.
READ_WAIT_S = 2.0


def settle(cfg) -> None:
    """With no token flags and no --open, take the data folder's admin token, making it the first time."""
    if cfg.admin_token or cfg.token or cfg.fully_open:
        return
    folder = data_dir(cfg)
    cfg.admin_token, cfg.admin_token_file = token_in(folder), os.path.join(folder, FILE_NAME)


def token_in(folder: str) -> str:
    """The folder's admin token; the first caller makes it, every caller (other processes too) reads it back."""
    path = os.path.join(folder, FILE_NAME)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # only one caller can create it
    except FileExistsError:
        pass
    except OSError as e:
        raise SystemExit(f"The admin token cannot be kept in {path} ({e.strerror}); "
                         "choose another folder with --data-dir, or give one with --admin-token.")
    else:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(24) + "\n")  # 32 URL-safe characters: a link carries it as it is
    if os.name == "posix" and os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)  # copied in with looser rights: only this user may read it
    return _read_back(path)


def _read_back(path: str) -> str:
    """The token line of the file, waiting briefly for the process that made it to finish writing."""
    deadline = time.monotonic() + READ_WAIT_S
    while True:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if text.strip():
            return text.strip()
        if time.monotonic() > deadline:
            raise SystemExit(f"The admin token file {path} is empty or damaged: delete it to make a new one, "
                             "or give one with --admin-token.")
        time.sleep(0.05)


def admin_link(cfg) -> str:
    """The address that makes the browser on this computer the admin: the page with #admin=TOKEN."""
    host = cfg.host
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{cfg.port}/#admin={cfg.admin_token}"
