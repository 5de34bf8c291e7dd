"""Frames written straight to a WebSocket by the green thread that emits them (eventlet only).

python-engineio gives every socket a queue and a writer green thread, so each event sent costs a
queue put, a hub timer, a switch to the writer, its poll (another timer, for the poll's timeout)
and a switch back. Sending the frame at once when nothing is waiting for that socket cut the
server's CPU per streamed token by 15-20 % (bench/capacity.py, 100 and 150 streams; bench/RESULTS.md,
#15 (b)). Whenever the frame cannot go out whole and at once (packets already queued, the writer
mid-batch, a phone's full buffer) the packet takes engine.io's queue as before: frames keep their
order and a stalled socket never blocks whoever emits to it. The writer, which takes an empty queue
for ping interval + ping timeout as a dead socket, waits on while its socket is open.

This reaches into python-engineio's Socket and eventlet's RFC6455WebSocket (both pinned in
requirements.txt); install() leaves everything as it is when those are not what it expects.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def install() -> bool:
    """Patch engine.io's sockets to send directly when they can; True when patched."""
    from engineio import socket as eio_socket
    from engineio.exceptions import QueueEmpty
    from eventlet import greenio, spawn, websocket

    Socket = eio_socket.Socket
    if getattr(Socket, "_direct_ws", False) is not False:
        return True  # already installed (create_app runs once per test app too)
    needed = [(Socket, "_websocket_handler"), (Socket, "poll"), (Socket, "send"), (Socket, "check_ping_timeout"),
              (websocket.RFC6455WebSocket, "_pack_message")]
    if not all(hasattr(owner, name) for owner, name in needed):
        log.warning("engine.io or eventlet changed: frames go through engine.io's writer")
        return False
    handler, poll, send = Socket._websocket_handler, Socket.poll, Socket.send

    def _websocket_handler(self, ws):
        # A plain (not TLS) socket only: the frame is written to the descriptor underneath.
        direct = isinstance(ws, websocket.RFC6455WebSocket) and type(getattr(ws, "socket", None)) is greenio.GreenSocket
        self._direct_ws = ws if direct else None
        try:
            return handler(self, ws)
        finally:
            self._direct_ws = None

    def poll_(self):
        self._writer_busy = False  # the writer has sent all it took and waits again
        while True:
            try:
                packets = poll(self)
                break
            except QueueEmpty:
                # The writer gives up (and closes the socket) when nothing is queued for ping interval +
                # ping timeout; with frames sent directly that says nothing of the socket, whose reader
                # and ping checks still watch it. A polling request's wait keeps its timeout.
                if self._direct_ws is None or not self.upgraded or self.closed:
                    raise
        self._writer_busy = bool(packets)  # it holds packets not yet on the wire: nothing may pass them
        return packets

    def send_(self, pkt):
        ws = self._direct_ws
        if (ws is None or self._writer_busy or self.upgrading or not self.upgraded or self.closed
                or not self.queue.empty()):
            return send(self, pkt)
        if not self.check_ping_timeout():
            return None
        if not _write(ws, ws._pack_message(pkt.encode(), masked=False)):
            return send(self, pkt)  # engine.io's own way: its queue and writer
        return None

    def _write(ws, frame: bytes) -> bool:
        """Put the whole frame on the wire or in the socket's hands; False if nothing of it was sent."""
        if not ws._sendlock.acquire(blocking=False):
            return False  # a frame is being sent: queue behind it
        try:
            sent = ws.socket.fd.send(frame)
        except OSError:  # BlockingIOError (full buffer) or a dead socket: the writer deals with it
            ws._sendlock.release()
            return False
        if sent == len(frame):
            ws._sendlock.release()
            return True
        # The rest of this frame must be next on the wire: a green thread holding the send lock finishes
        # it, and packets sent meanwhile see the lock taken and queue for the writer, which waits on it.
        spawn(_finish, ws, frame[sent:])
        return True

    def _finish(ws, rest: bytes) -> None:
        try:
            ws.socket.sendall(rest)
        except OSError:
            pass  # the reader notices the dead socket and closes it
        finally:
            ws._sendlock.release()

    Socket._direct_ws = None
    Socket._writer_busy = False
    Socket._websocket_handler, Socket.poll, Socket.send = _websocket_handler, poll_, send_
    return True
