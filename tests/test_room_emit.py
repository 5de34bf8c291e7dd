"""emit_to_room sends every member of a room the packet python-socketio's own emit would (the same JSON)."""
from __future__ import annotations

import json

import socketio

from server.wire.room_emit import emit_to_room


class Io:
    """The part of flask_socketio's SocketIO that emit_to_room uses: .server and .emit."""

    def __init__(self, server):
        self.server = server
        self.emitted = []

    def emit(self, event, payload, to):
        self.emitted.append((event, payload, to))
        self.server.emit(event, payload, to=to)


def server_with_room(manager=None):
    server = socketio.Server(async_mode="threading", **({"client_manager": manager} if manager else {}))
    sent = []
    server.eio.send_packet = lambda eio_sid, pkt: sent.append((eio_sid, pkt.encode()))
    server.manager.set_server(server)
    server.manager.initialize()
    for eio_sid in ("e1", "e2", "e3"):
        sid = server.manager.connect(eio_sid, "/")
        if eio_sid != "e3":
            server.manager.enter_room(sid, "/", "session:a")
    return server, sent


def decoded(sent):
    """(socket, Engine.IO type, Socket.IO type, the event's JSON) per packet: equal JSON may differ in escapes."""
    return sorted((sid, text[0], text[1], json.loads(text[2:])) for sid, text in sent)


def test_the_same_packets_as_python_socketio_to_the_same_sockets():
    payload = {"request_id": "r1", "seq": 7, "text": 'quote " backslash \\ 你好 \n emoji 🙂', "kind": "reasoning"}
    server, theirs = server_with_room()
    server.emit("token", payload, to="session:a")
    server, ours = server_with_room()
    emit_to_room(Io(server), "token", payload, "session:a")
    assert decoded(ours) == decoded(theirs) and {sid for sid, _ in ours} == {"e1", "e2"}
    assert "你好" in ours[0][1] and len(ours[0][1]) < len(theirs[0][1])  # Chinese as itself, not 6-byte escapes
    emit_to_room(Io(server), "token", payload, "session:nobody")  # an empty room: nothing, no error
    assert len(ours) == 2


def test_with_another_manager_the_emit_goes_its_way():
    class Queued(socketio.Manager):
        pass

    server, sent = server_with_room(Queued())
    io = Io(server)
    emit_to_room(io, "done", {"request_id": "r1"}, "session:a")
    assert io.emitted == [("done", {"request_id": "r1"}, "session:a")] and len(sent) == 2
