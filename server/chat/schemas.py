"""Validation of client payloads; every failure is a ChatError with a readable message."""
from __future__ import annotations

from dataclasses import dataclass, field
import math
from typing import Any, Callable

from ..errors import ChatError
from ..text_rules import has_lone_surrogate, without_bidi_controls
from .sessions import SESSION_ID

# name: (type check, range check, description for messages)
_NUMBER = (int, float)
PARAMS: dict[str, tuple[Any, Callable[[Any], bool], str]] = {
    "temperature": (_NUMBER, lambda v: 0 <= v <= 2, "a number from 0 to 2"),
    "top_p": (_NUMBER, lambda v: 0 < v <= 1, "a number above 0 and at most 1"),
    "top_k": (int, lambda v: v >= 0, "a whole number of at least 0"),
    "max_tokens": (int, lambda v: v >= 1, "a whole number of at least 1"),
    "repetition_penalty": (_NUMBER, lambda v: 1 <= v <= 2, "a number from 1 to 2"),
    "do_sample": (bool, lambda v: True, "true or false"),
}


def bad(message: str) -> ChatError:
    return ChatError("bad_request", message)


def require_object(payload, event: str) -> dict:
    """Every event takes one JSON object (None counts as an empty one)."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise bad(f"The {event!r} event takes one JSON object.")
    if has_lone_surrogate(payload):  # refused before anything changes: nothing downstream can store it
        raise bad(f"The {event!r} event holds text that is not valid Unicode (half of a UTF-16 surrogate pair).")
    return payload


def reject_extra(payload: dict, allowed: set[str], event: str) -> None:
    extra = sorted(str(k)[:40] for k in payload if k not in allowed)
    if extra:
        raise bad(f"The {event!r} event does not take: {', '.join(extra)}.")


def optional_str(payload: dict, key: str, max_len: int = 200) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"{key!r} must be a string.")
    if len(value) > max_len:
        raise ChatError("too_long", f"{key!r} is longer than {max_len} characters.")
    return value


def parse_params(params, max_tokens_cap: int) -> dict:
    """Check Params; max_tokens is capped by the server rather than refused."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise bad("'params' must be an object.")
    out = {}
    for key, value in params.items():
        if key not in PARAMS:
            raise bad(f"Unknown parameter {str(key)[:40]!r}; known: {', '.join(PARAMS)}.")
        typ, ok, desc = PARAMS[key]
        # bool is an int in Python, but true is no temperature.
        is_type = isinstance(value, bool) if typ is bool else (isinstance(value, typ) and not isinstance(value, bool))
        if typ is int and isinstance(value, float) and value.is_integer():
            value, is_type = int(value), True  # JSON clients may send 5.0
        if not is_type or (isinstance(value, float) and not math.isfinite(value)) or not ok(value):
            raise bad(f"{key!r} must be {desc}.")
        out[key] = value
    if "max_tokens" in out:
        out["max_tokens"] = min(out["max_tokens"], max_tokens_cap)
    return out


@dataclass
class ChatPayload:
    """A checked `chat` event (or POST /api/chat body)."""

    message: str
    backend: str | None = None
    model: str | None = None
    system: str | None = None
    params: dict = field(default_factory=dict)
    knowledge: bool | None = None  # ground the reply in the knowledge base; None = the conversation's setting
    graph: bool | None = None  # ground it in the knowledge graph's facts too; None = the conversation's setting
    attachments: list = field(default_factory=list)  # ids of this device's attachments (POST /api/attachments)


def parse_chat(payload, *, max_message_chars: int, max_tokens_cap: int,
               extra: set[str] | frozenset[str] = frozenset()) -> ChatPayload:
    """Check a chat payload; `extra` names fields a caller handles itself (session_id)."""
    payload = require_object(payload, "chat")
    reject_extra(payload,
                 {"message", "backend", "model", "system", "params", "knowledge", "graph", "attachments"} | set(extra),
                 "chat")
    knowledge = payload.get("knowledge")
    for key in ("knowledge", "graph"):
        if payload.get(key) is not None and not isinstance(payload[key], bool):
            raise bad(f"'{key}' must be true or false.")
    message = payload.get("message")
    if not isinstance(message, str):
        raise bad("'message' must be a string.")
    if not message.strip():
        raise bad("The message is empty.")
    if len(message) > max_message_chars:
        raise ChatError("too_long", f"The message is {len(message)} characters long; the limit is {max_message_chars}.")
    if "\x00" in message:
        raise bad("The message contains a NUL character.")
    return ChatPayload(
        message=message,
        backend=optional_str(payload, "backend", 64),
        model=optional_str(payload, "model", 512),
        system=optional_str(payload, "system", max_message_chars),
        params=parse_params(payload.get("params"), max_tokens_cap),
        knowledge=knowledge,
        graph=payload.get("graph"),
        attachments=parse_attachment_ids(payload.get("attachments")),
    )


def parse_attachment_ids(value) -> list:
    """At most four distinct attachment ids, in the order given."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value):
        raise bad("'attachments' must be a list of attachment ids.")
    if len(value) > 4:
        raise bad(f"A message takes at most 4 attachments, not {len(value)}.")
    return list(dict.fromkeys(value))


def parse_stop(payload) -> str | None:
    payload = require_object(payload, "stop")
    reject_extra(payload, {"request_id"}, "stop")
    return optional_str(payload, "request_id", 64)


def parse_truncate(payload) -> int:
    payload = require_object(payload, "truncate")
    reject_extra(payload, {"keep"}, "truncate")
    keep = payload.get("keep")
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise bad("'keep' must be a whole number of at least 0.")
    return keep


def parse_empty(payload, event: str) -> None:
    reject_extra(require_object(payload, event), set(), event)


def parse_resume(payload) -> tuple[str, int]:
    payload = require_object(payload, "resume")
    reject_extra(payload, {"request_id", "after_seq"}, "resume")
    request_id = optional_str(payload, "request_id", 64)
    if not request_id:
        raise bad("'request_id' is required.")
    after = payload.get("after_seq", -1)
    if not isinstance(after, int) or isinstance(after, bool) or after < -1:
        raise bad("'after_seq' must be a whole number of at least -1.")
    return request_id, after


LIST_LIMIT = 200


def parse_list(payload) -> tuple[str | None, str | None, int]:
    """(query, before, limit) of a `list` event or GET /api/conversations."""
    payload = require_object(payload, "list")
    reject_extra(payload, {"query", "before", "limit"}, "list")
    query = optional_str(payload, "query", 200)
    before = optional_str(payload, "before", 40)
    limit = payload.get("limit", 50)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= LIST_LIMIT:
        raise bad(f"'limit' must be a whole number from 1 to {LIST_LIMIT}.")
    return (query or None), before, limit


def session_id_of(payload: dict) -> str:
    value = payload.get("session_id")
    if not isinstance(value, str) or not SESSION_ID.match(value):
        raise bad("'session_id' must be 1-64 characters of letters, digits, '_' and '-'.")
    return value


def parse_session_ref(payload, event: str) -> str:
    """The session_id of an `open` or `delete` event."""
    payload = require_object(payload, event)
    reject_extra(payload, {"session_id"}, event)
    return session_id_of(payload)


def parse_rename(payload) -> tuple[str, str]:
    payload = require_object(payload, "rename")
    reject_extra(payload, {"session_id", "title"}, "rename")
    title = payload.get("title")
    if isinstance(title, str):
        title = without_bidi_controls(title)  # they would make the title read in another order than stored
    if not isinstance(title, str) or not title.strip() or len(title) > 200 or "\x00" in title:
        raise bad("'title' must be 1-200 characters.")
    return session_id_of(payload), title.strip()


SETTINGS = ("system", "backend", "model", "params", "knowledge", "graph")


def parse_settings(payload, current: dict, *, max_message_chars: int, max_tokens_cap: int) -> dict:
    """The conversation's settings after this change: given fields replace, null clears one."""
    payload = require_object(payload, "settings")
    reject_extra(payload, set(SETTINGS), "settings")
    out = dict(current)
    for key in SETTINGS:
        if key not in payload:
            continue
        value = payload[key]
        if value is None:
            out.pop(key, None)
        elif key == "params":
            out[key] = parse_params(value, max_tokens_cap)
        elif key in ("knowledge", "graph"):
            if not isinstance(value, bool):
                raise bad(f"'{key}' must be true or false.")
            out[key] = value
        else:
            limit = {"system": max_message_chars, "backend": 64, "model": 512}[key]
            out[key] = optional_str(payload, key, limit)
    return out
