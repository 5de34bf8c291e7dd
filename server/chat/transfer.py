"""Conversations as documents: export to JSON or Markdown, and checked import of JSON."""
from __future__ import annotations

import json

from . import schemas
from ..errors import ChatError
from ..shapes import ConversationSummary
from ..store import EVIDENCE, now_iso
from ..text_rules import without_bidi_controls
from .sessions import SessionStore, new_session_id, title_from

MAX_DOCUMENTS = 1000
ROLES = ("user", "assistant")
# Sources of one reply: `done` carries at most --kb-passages passages (4) and 8 facts; room for a server set higher.
MAX_SOURCES = 50
SOURCES_SHAPE = (f"'sources' must be a list of at most {MAX_SOURCES} sources, each a passage {{n, title, text, "
                 "sentences?: [str]} or a fact {n, kind: \"fact\", head: {name}, relation, tail: {name}}, "
                 "n a number from 1.")
GROUNDING_SHAPE = ("'grounding' must be {supported: true or false, quote?: {n, title, sentence} or {n, kind: \"fact\", "
                   "head, relation, tail}}.")


def bad(message: str) -> ChatError:
    return ChatError("bad_request", message)


def export_document(store: SessionStore, session_id: str, client_id: str) -> dict:
    """The conversation as `{session_id, title, created_at, settings, messages}`;
    not_found unless that client owns it."""
    meta = store.store.get(session_id)
    if meta is None or meta["client_id"] != client_id:
        raise ChatError("not_found", "There is no such conversation on this device.")
    _, messages = store.store.messages(session_id)
    return {"session_id": session_id, "title": meta["title"], "created_at": meta["created_at"],
            "settings": meta["settings"], "messages": messages}


def to_markdown(doc: dict) -> str:
    """One heading per message; reasoning as a quote above its reply, its sources as a list under it."""
    out = [f"# {doc['title'] or 'Conversation'}", "", f"_Started {doc['created_at']}_", ""]
    for m in doc["messages"]:
        out += [f"## {m['role'].capitalize()}", ""]
        if m.get("reasoning"):
            out += ["> " + line for line in m["reasoning"].splitlines()] + [""]
        out += [m["content"], ""]
        if m.get("attachments"):
            out += ["Attached: " + ", ".join(str(a.get("name", "")) if isinstance(a, dict) else str(a)
                                             for a in m["attachments"]), ""]
        if m.get("sources"):
            out += ["Sources:", ""] + [f"- [{s['n']}] {source_line(s)}" for s in m["sources"]] + [""]
    return "\n".join(out)


def source_line(s: dict) -> str:
    """A source in one line: a fact as head -relation-> tail, a passage by its document's title."""
    if s.get("kind") == "fact":
        return f"{s['head']['name']} -{s['relation']}-> {s['tail']['name']}"
    return s["title"]


def _is_n(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _named(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("name"), str)


def _source_ok(s) -> bool:
    """The fields a client reads of a source have their types; other fields pass as they are."""
    if not isinstance(s, dict) or not _is_n(s.get("n")):
        return False
    if s.get("kind", "passage") == "fact":
        return _named(s.get("head")) and _named(s.get("tail")) and isinstance(s.get("relation"), str)
    sentences = s.get("sentences", [])
    return (s.get("kind", "passage") == "passage" and isinstance(s.get("title"), str) and isinstance(s.get("text"), str)
            and isinstance(sentences, list) and all(isinstance(x, str) for x in sentences))


def _grounding_ok(g) -> bool:
    if not isinstance(g, dict) or not isinstance(g.get("supported"), bool):
        return False
    q = g.get("quote")
    if isinstance(q, dict) and q.get("kind") == "fact":  # a graph fact, its ends as names (#31)
        return _is_n(q.get("n")) and all(isinstance(q.get(k), str) for k in ("head", "relation", "tail"))
    return q is None or (isinstance(q, dict) and _is_n(q.get("n")) and isinstance(q.get("title"), str)
                         and isinstance(q.get("sentence"), str))


def _evidence(m: dict, max_bytes: int) -> dict:
    """A message's sources and grounding, checked; only a reply has them. A question's attachments: kept as
    [{id, name, type}] strings (names to show; the files themselves stay with the device that sent them)."""
    kept = {k: m[k] for k in EVIDENCE if m.get(k) is not None}
    attachments = kept.pop("attachments", None)
    if attachments is not None:
        if m["role"] != "user" or not (isinstance(attachments, list) and len(attachments) <= 4 and all(
                isinstance(a, dict) and set(a) == {"id", "name", "type"} and all(isinstance(v, str) and len(v) <= 200
                                                                                   for v in a.values())
                for a in attachments)):
            raise bad("'attachments' belong to a user message: a list of at most 4 {id, name, type}.")
        return {"attachments": attachments}
    if not kept:
        return {}
    if m["role"] != "assistant":
        raise bad("Only an assistant message may carry 'sources' or 'grounding'.")
    sources = kept.get("sources")
    if sources is not None and not (isinstance(sources, list) and len(sources) <= MAX_SOURCES
                                    and all(_source_ok(s) for s in sources)):
        raise bad(SOURCES_SHAPE)
    if "grounding" in kept and not _grounding_ok(kept["grounding"]):
        raise bad(GROUNDING_SHAPE)
    if len(json.dumps(kept, ensure_ascii=False).encode()) > max_bytes:
        raise ChatError("too_long", f"A message's sources and grounding are larger than {max_bytes} bytes.")
    return kept


def _checked(doc, cfg) -> dict:
    if not isinstance(doc, dict):
        raise bad("Each conversation to import must be a JSON object.")
    schemas.require_object(doc, "import")  # lone surrogates: refused before anything is kept
    schemas.reject_extra(doc, {"session_id", "title", "created_at", "settings", "messages"}, "import")
    messages = doc.get("messages")
    if not isinstance(messages, list):
        raise bad("'messages' must be a list.")
    checked = []
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise bad("Each message needs 'role' (user or assistant) and 'content' (a string).")
        schemas.reject_extra(m, {"role", "content", "reasoning", "created_at", *EVIDENCE}, "import")
        msg = {"role": m["role"], "content": m["content"],
               "created_at": schemas.optional_str(m, "created_at", 40) or now_iso()}
        if schemas.optional_str(m, "reasoning", cfg.max_payload_bytes):
            msg["reasoning"] = m["reasoning"]
        checked.append({**msg, **_evidence(m, cfg.max_payload_bytes)})
    title = schemas.optional_str(doc, "title", 200) or ""
    first = next((m["content"] for m in checked if m["role"] == "user"), "")
    settings = doc.get("settings") or {}
    if not isinstance(settings, dict):
        raise bad("'settings' must be an object.")
    return {"title": without_bidi_controls(title).strip() or title_from(first),
            "created_at": schemas.optional_str(doc, "created_at", 40) or now_iso(),
            "settings": schemas.parse_settings(settings, {}, max_message_chars=cfg.max_message_chars,
                                               max_tokens_cap=cfg.max_tokens_cap),
            "messages": checked}


def import_documents(store: SessionStore, client_id: str, body, cfg) -> list[ConversationSummary]:
    """Save each document as a new conversation of that client; all are checked before any is saved."""
    docs = body if isinstance(body, list) else [body]
    if not docs or len(docs) > MAX_DOCUMENTS:
        raise bad(f"Send one conversation or a list of 1 to {MAX_DOCUMENTS}.")
    checked = [_checked(doc, cfg) for doc in docs]
    summaries: list[ConversationSummary] = []
    for doc in checked:
        session_id = new_session_id()
        meta = {"session_id": session_id, "client_id": client_id, "title": doc["title"],
                "created_at": doc["created_at"], "updated_at": now_iso(), "settings": doc["settings"]}
        store.store.save(meta)
        if doc["messages"]:
            store.store.append(session_id, doc["messages"])
        summaries.append({"session_id": session_id, "title": meta["title"], "created_at": meta["created_at"],
                          "updated_at": meta["updated_at"], "messages": len(doc["messages"])})
    return summaries
