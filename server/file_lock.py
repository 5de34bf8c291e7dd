"""A lock on a file that a server takes shared around each write and a backup takes exclusive while it copies."""
from __future__ import annotations

import contextlib
import os

from .concurrency import RealLock

try:
    import fcntl
except ImportError:  # Windows: no flock; a backup there copies without it (docs/INSTITUTION.md says to stop first)
    fcntl = None  # type: ignore[assignment]  # the module or None: callers test it


class SharedFileLock:
    """flock(2) on one file: many users in this process share one LOCK_SH; another process's LOCK_EX waits for them."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if fcntl else None
        self._mutex = RealLock()  # one flock per open file: the first user takes it, the last one leaves it
        self._users = 0

    @contextlib.contextmanager
    def shared(self):
        if self.fd is None:
            yield
            return
        with self._mutex:
            if self._users == 0:
                fcntl.flock(self.fd, fcntl.LOCK_SH)  # waits while a backup copies (a second or so)
            self._users += 1
        try:
            yield
        finally:
            with self._mutex:
                self._users -= 1
                if self._users == 0:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive(path: str):
    """Hold the file's lock alone (a backup): every server using it waits at its next write until this ends."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases it
