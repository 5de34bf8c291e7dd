"""Events to a conversation's room, encoded once and handed straight to each member's Engine.IO socket.

flask_socketio's emit passes through python-socketio's Server and Manager: argument and callback
handling, a log call, a Packet that walks the payload looking for bytes, a generator over a copy
of the room. A streamed reply emits once per token, and those layers were about a sixth of the
server's busy CPU at 150 streams (py-spy; bench/RESULTS.md, #15 (b)). With a message queue (Redis)
the manager must see every emit, so then they go its way.
"""
from __future__ import annotations

from typing import Any, Mapping

from engineio import packet as eio_packet
from socketio import Manager
from socketio.packet import EVENT

from . import codec

NAMESPACE = "/"


def emit_to_room(io, event: str, payload: Mapping[str, Any], to: str) -> None:
    """io.emit(event, payload, to=to), shorter where the manager is the in-memory one."""
    server = getattr(io, "server", None)
    manager = getattr(server, "manager", None)
    if server is None or manager is None or type(manager) is not Manager:
        return io.emit(event, payload, to=to)
    members = manager.rooms.get(NAMESPACE, {}).get(to)
    if not members:
        return None
    # As python-socketio's Packet.encode writes an event for the default namespace (with non-ASCII
    # characters as themselves rather than escaped: the same JSON, and a third of the bytes for Chinese).
    text = str(EVENT) + codec.dumps([event, payload])
    for eio_sid in list(members.values()):
        server.eio.send_packet(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, text))
    return None
