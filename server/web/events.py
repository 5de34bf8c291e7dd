"""Socket.IO handlers: check the payload, call the ChatService, answer through the ack."""
from __future__ import annotations

import functools
import logging

from typing import Any

from flask import request as flask_request
from flask_socketio import ConnectionRefusedError, join_room, leave_room

from ..chat import schemas
from ..chat.service import check_model
from ..chat.sessions import CLIENT_ID, SESSION_ID, client_for, new_session_id
from ..cluster.presence import room
from ..errors import ChatError
from ..shapes import Ready
from .metrics import count_error
from .extensions import socketio
from .security import ADMIN_ROOM, access_ok, admin_ok
from .services import services

log = logging.getLogger(__name__)
request: Any = flask_request  # flask_socketio gives a Socket.IO event's request its socket's `sid`

NOT_FOUND = ChatError("not_found", "There is no such conversation on this device.")
FIRST_PAGE = 50  # conversations sent in `ready`: more than a phone's screen, a few KiB


def service():
    return services().chat


def presence():
    return services().presence


def client_ip() -> str:
    return request.remote_addr or ""


def ready_payload(session) -> Ready:
    """What a client needs on (re)connect: its session, history, conversations, backends and limits."""
    svc = service()
    cfg = svc.cfg
    conversations, more = svc.store.list(session.client_id, limit=FIRST_PAGE)
    return {
        "session_id": session.id,
        "client_id": session.client_id,
        "conversations": conversations,
        "conversations_more": more,
        "history": session.shown(),
        "backends": svc.registry.describe(),
        "default_backend": svc.registry.default,
        "limits": {"max_message_chars": cfg.max_message_chars, "max_tokens": cfg.max_tokens_cap},
        "active_request_id": session.active.id if session.active else svc.cluster.active_request_id(session.id),
    }


def emitted_by_client() -> bool:
    """True when a client sent an event named connect/disconnect, which python-socketio hands to those handlers."""
    # A real connect runs before the socket is registered here; a real disconnect after
    # the manager has marked the socket as leaving.
    return request.sid in presence() and socketio.server.manager.is_connected(request.sid, "/")


FORGED = ChatError("bad_request", "'connect' and 'disconnect' are not events a client may send.")


@socketio.on("connect")
def on_connect(auth=None):
    if emitted_by_client():
        return FORGED.ack()
    cfg = service().cfg
    auth = auth if isinstance(auth, dict) else {}
    if not access_ok(cfg, auth.get("token")):
        raise ConnectionRefusedError("unauthorized")
    ip = client_ip()
    if presence().per_ip(ip) >= cfg.max_sockets_per_ip:
        raise ConnectionRefusedError("too many connections from this address")
    wanted = auth.get("session_id")
    if not (isinstance(wanted, str) and SESSION_ID.match(wanted)):
        wanted = None  # none, or not a valid id: the client gets a fresh one in `ready`
    client_id = auth.get("client_id")
    if not (isinstance(client_id, str) and CLIENT_ID.match(client_id)):
        # A version-1 client names only its session: its client_id follows from that, so it finds it again.
        wanted = wanted or new_session_id()
        client_id = client_for(wanted)
    session = service().store.get_or_create(wanted, client_id)
    presence().add(request.sid, session.id, client_id, ip)
    join_room(room(session.id))
    if admin_ok(cfg, auth.get("token")):
        join_room(ADMIN_ROOM)  # admin-only events (tuning_progress)
    socketio.emit("ready", ready_payload(session), to=request.sid)


@socketio.on("disconnect")
def on_disconnect(*_reason):
    if emitted_by_client():
        return FORGED.ack()
    entry = presence().remove(request.sid)
    session = service().store.cached(entry.session_id) if entry else None
    if session is not None:
        service().unwatched(session)


def acked(fn):
    """Answer `{ok: true, ...}` or `{ok: false, error}`; no handler error reaches the socket raw."""

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            entry = presence().get(request.sid)
            if entry is None:
                raise ChatError("unauthorized", "This socket has no session; reconnect.")
            session = service().store.get_or_create(entry.session_id, entry.client_id)
            if session.id != entry.session_id:
                follow(session)  # its conversation was deleted and its id taken since
            payload = args[0] if args else None
            if len(args) > 1:
                raise ChatError("bad_request", "Every event takes one JSON object.")
            return {"ok": True, **(fn(session, payload) or {})}
        except ChatError as e:
            count_error(e.code)
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
    return {"history": session.shown()}


@socketio.on("resume")
@acked
def on_resume(session, payload):
    request_id, after_seq = schemas.parse_resume(payload)
    return {"status": service().resume(session, request_id, after_seq, request.sid)}


def follow(session) -> None:
    """The socket now follows this conversation: its room, and the orphan clock of the one it leaves."""
    old = presence().follow(request.sid, session.id)
    if old == session.id:
        return
    if old is not None:
        leave_room(room(old))
        previous = service().store.cached(old)
        if previous is not None:
            service().unwatched(previous)
    join_room(room(session.id))


def owned(session_id: str):
    """This socket's client's conversation of that id, or not_found."""
    found = service().store.open(session_id, presence().get(request.sid).client_id)
    if found is None:
        raise NOT_FOUND
    return found


@socketio.on("list")
@acked
def on_list(session, payload):
    query, before, limit = schemas.parse_list(payload)
    conversations, more = service().store.list(session.client_id, query, before, limit)
    return {"conversations": conversations, "more": more}


@socketio.on("open")
@acked
def on_open(session, payload):
    target = owned(schemas.parse_session_ref(payload, "open"))
    follow(target)
    return {"session_id": target.id, "title": target.meta["title"], "history": target.shown(),
            "settings": target.settings,
            "active_request_id": target.active.id if target.active else service().cluster.active_request_id(target.id)}


@socketio.on("new")
@acked
def on_new(session, payload):
    schemas.parse_empty(payload, "new")
    fresh = service().store.create(presence().get(request.sid).client_id)
    follow(fresh)
    return {"session_id": fresh.id}


@socketio.on("rename")
@acked
def on_rename(session, payload):
    session_id, title = schemas.parse_rename(payload)
    service().store.rename(owned(session_id), title)


@socketio.on("delete")
@acked
def on_delete(session, payload):
    service().delete(owned(schemas.parse_session_ref(payload, "delete")))


@socketio.on("settings")
@acked
def on_settings(session, payload):
    svc = service()
    settings = schemas.parse_settings(payload, session.settings, max_message_chars=svc.cfg.max_message_chars,
                                      max_tokens_cap=svc.cfg.max_tokens_cap)
    if settings.get("backend") is not None:
        svc.registry.get(settings["backend"])  # unknown_backend
    if settings.get("model") is not None and {"model", "backend"} & set(payload or {}):
        check_model(svc.registry.get(settings.get("backend")), settings["model"])  # not_found
    if settings != session.settings:
        svc.store.set_settings(session, settings)
    return {"settings": settings}


@socketio.on("*")
def on_unknown(event, *args):
    return ChatError("bad_request", f"Unknown event {str(event)[:40]!r}.").ack()
