"""recv() on a socket that stays registered with eventlet's hub while a stream is read from it.

A green socket's recv() that finds nothing waiting tries once (EAGAIN), sets a timer for its
timeout, registers the descriptor with epoll, sleeps, and on waking unregisters it and cancels
the timer: two epoll_ctl calls, a timer and an exception per read. An upstream stream reads once
per token, so that was paid per relayed token. Here the descriptor is registered once, a wake-up
finds the reader waiting, and one timer per timeout period watches for silence.
"""
from __future__ import annotations

import errno
import socket
import sys
import time

CLOSED = {errno.ECONNRESET, errno.ESHUTDOWN, errno.EPIPE}  # eventlet's SOCKET_CLOSED


def reader_for(sock, timeout: float | None):
    """An object whose recv(n) reads `sock`: a HubReader under eventlet, the socket itself otherwise."""
    if "eventlet" not in sys.modules or not hasattr(sock, "fd") or not hasattr(sock, "_trampoline"):
        return sock
    return HubReader(sock, timeout)


class HubReader:
    """Reads a green socket's underlying descriptor, waiting on a listener that lives as long as the reader."""

    def __init__(self, green, timeout: float | None):
        from eventlet.hubs import get_hub

        self.raw = green.fd  # the real socket, non-blocking
        self.fileno = self.raw.fileno()
        self.timeout = timeout
        self.hub = get_hub()
        self.listener = None
        self.waiter = None  # the greenlet waiting for data, if one is
        self.since = 0.0  # when its wait began
        self.timer = None

    def recv(self, n: int) -> bytes:
        while True:
            try:
                return self.raw.recv(n)
            except (BlockingIOError, InterruptedError):
                self._wait()
            except OSError as e:
                if e.errno in CLOSED:  # as a green socket's recv: the end of the stream
                    return b""
                raise

    def _wait(self) -> None:
        import greenlet

        if self.listener is None:
            self.listener = self.hub.add(self.hub.READ, self.fileno, self._ready, self._closed, None)
        if self.timeout is not None and self.timer is None:
            self.timer = self.hub.schedule_call_global(self.timeout, self._check)
        self.waiter, self.since = greenlet.getcurrent(), time.monotonic()
        try:
            self.hub.switch()
        finally:
            self.waiter = None

    def _ready(self, fileno) -> None:
        """The descriptor is readable (or hung up): wake the reader."""
        waiter = self.waiter
        if waiter is None:
            # Nobody reads now: with level-triggered epoll the hub would wake for this on every pass.
            self._unlisten()
            return
        waiter.switch()

    def _closed(self, exc) -> None:
        waiter = self.waiter
        self._unlisten()
        if waiter is not None:
            waiter.throw(exc)

    def _check(self) -> None:
        """Once per timeout period: a reader waiting that long hears TimeoutError; otherwise look again later."""
        self.timer = None
        waiter = self.waiter
        if waiter is None:
            return  # the next wait sets a new timer
        left = self.since + self.timeout - time.monotonic()
        if left > 0:
            self.timer = self.hub.schedule_call_global(left, self._check)
        else:
            waiter.throw(socket.timeout("timed out"))

    def _unlisten(self) -> None:
        if self.listener is not None:
            self.hub.remove(self.listener)
            self.listener = None

    def close(self) -> None:
        """Unregister (before the socket closes: its number may be reused at once)."""
        self._unlisten()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
