"""Socket.IO handlers: check the payload, call the ChatService, answer through the ack."""
from __future__ import annotations

import functools
import logging
from collections import Counter

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, join_room

from . import schemas
from .chat import room
from .errors import ChatError
from .extensions import socketio
from .history import SESSION_ID
from .security import token_ok

log = logging.getLogger(__name__)

sockets: dict[str, tuple[str, str]] = {}  # sid -> (session_id, client address)
sockets_per_ip: Counter = Counter()


def service():
    return current_app.extensions["chat_service"]


def client_ip() -> str:
    return request.remote_addr or ""


def ready_payload(session) -> dict:
    """What a client needs on (re)connect: its session, history, backends and limits."""
    svc = service()
    cfg = svc.cfg
    return {
        "session_id": session.id,
        "history": session.snapshot(),
        "backends": svc.registry.describe(),
        "default_backend": svc.registry.default,
        "limits": {"max_message_chars": cfg.max_message_chars, "max_tokens": cfg.max_tokens_cap},
        "active_request_id": session.active.id if session.active else svc.cluster.active_request_id(session.id),
    }


def emitted_by_client() -> bool:
    """True when a client sent an event named connect/disconnect, which python-socketio hands to those handlers."""
    # A real connect runs before the socket is registered here; a real disconnect after
    # the manager has marked the socket as leaving.
    return request.sid in sockets and socketio.server.manager.is_connected(request.sid, "/")


FORGED = ChatError("bad_request", "'connect' and 'disconnect' are not events a client may send.")


@socketio.on("connect")
def on_connect(auth=None):
    if emitted_by_client():
        return FORGED.ack()
    cfg = service().cfg
    auth = auth if isinstance(auth, dict) else {}
    if not token_ok(cfg.token, auth.get("token")):
        raise ConnectionRefusedError("unauthorized")
    ip = client_ip()
    if sockets_per_ip[ip] >= cfg.max_sockets_per_ip:
        raise ConnectionRefusedError("too many connections from this address")
    wanted = auth.get("session_id")
    if not (isinstance(wanted, str) and SESSION_ID.match(wanted)):
        wanted = None  # none, or not a valid id: the client gets a fresh one in `ready`
    session = service().store.get_or_create(wanted)
    sockets[request.sid] = (session.id, ip)
    sockets_per_ip[ip] += 1
    join_room(room(session.id))
    service().socket_joined(session, request.sid)
    socketio.emit("ready", ready_payload(session), to=request.sid)


@socketio.on("disconnect")
def on_disconnect(*_reason):
    if emitted_by_client():
        return FORGED.ack()
    entry = sockets.pop(request.sid, None)
    if entry is None:
        return
    session_id, ip = entry
    sockets_per_ip[ip] -= 1
    if sockets_per_ip[ip] <= 0:
        del sockets_per_ip[ip]
    session = service().store.get(session_id)
    if session is not None:
        service().socket_left(session, request.sid)


def acked(fn):
    """Answer `{ok: true, ...}` or `{ok: false, error}`; no handler error reaches the socket raw."""

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            entry = sockets.get(request.sid)
            session = service().store.get_or_create(entry[0]) if entry else None
            if session is None:
                raise ChatError("unauthorized", "This socket has no session; reconnect.")
            payload = args[0] if args else None
            if len(args) > 1:
                raise ChatError("bad_request", "Every event takes one JSON object.")
            return {"ok": True, **(fn(session, payload) or {})}
        except ChatError as e:
            return e.ack()
        except Exception:
            log.exception("handler %s failed", fn.__name__)
            return ChatError("internal", "The server failed to handle that; the server log has details.").ack()

    return wrapper


@socketio.on("chat")
@acked
def on_chat(session, payload):
    cfg = service().cfg
    chat = schemas.parse_chat(payload, max_message_chars=cfg.max_message_chars, max_tokens_cap=cfg.max_tokens_cap)
    req = service().start(session, chat, client_ip())
    return {"request_id": req.id}


@socketio.on("stop")
@acked
def on_stop(session, payload):
    return {"stopped": service().stop(session, schemas.parse_stop(payload))}


@socketio.on("truncate")
@acked
def on_truncate(session, payload):
    return {"history": service().truncate(session, schemas.parse_truncate(payload))}


@socketio.on("reset")
@acked
def on_reset(session, payload):
    schemas.parse_empty(payload, "reset")
    service().reset(session)


@socketio.on("history")
@acked
def on_history(session, payload):
    schemas.parse_empty(payload, "history")
    return {"history": session.snapshot()}


@socketio.on("resume")
@acked
def on_resume(session, payload):
    request_id, after_seq = schemas.parse_resume(payload)
    return {"status": service().resume(session, request_id, after_seq, request.sid)}


@socketio.on("*")
def on_unknown(event, *args):
    return ChatError("bad_request", f"Unknown event {str(event)[:40]!r}.").ack()
