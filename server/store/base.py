"""The conversation store's interface: the seam between the live conversations and where they are kept.

A store keeps conversations and their messages and nothing else: no Flask, no sockets, no ownership
rules (the caller checks `client_id`). Every method is called from the server's own threads and must
be safe to call from several at once. Records are plain dicts:

- meta: `{session_id, client_id, title, created_at, updated_at, settings: dict}`
- message: `{role, content, created_at, reasoning?, sources?, grounding?, answer?}` (a grounded reply keeps the
  `sources`, `grounding` and `answer` its `done` carried); a conversation's messages are numbered from 0
  (their position) and only ever removed from the end (`truncate`).
- summary (from `list`): `{session_id, title, created_at, updated_at, messages: int}`

A *pending* message is a question whose reply is still being written: `settle` keeps it with its
reply, or drops it when the reply failed. A store never returns or counts pending messages; one
left by a process that died mid-reply is replaced by the conversation's next question.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol

# a grounded reply's fields beyond its text, kept as its `done` carried them
EVIDENCE = ("sources", "grounding", "answer", "attachments")

_clock_lock = threading.Lock()
_last = [datetime.min.replace(tzinfo=timezone.utc)]


def now_iso() -> str:
    """The current UTC time, ISO 8601 with microseconds, strictly increasing within the process.

    Lists page by `updated_at`: two conversations with the same instant would be cut apart by `before`.
    """
    with _clock_lock:
        now = max(datetime.now(timezone.utc), _last[0] + timedelta(microseconds=1))
        _last[0] = now
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ConversationStore(Protocol):
    """What the server needs of a place that keeps conversations (memory, SQLite, later Redis)."""

    durable: bool  # True when what is written outlives the process

    def get(self, session_id: str) -> dict | None:
        """The conversation's meta, or None."""

    def messages(self, session_id: str, last: int | None = None) -> tuple[int, list[dict]]:
        """(position of the first one returned, the settled messages, or only the `last` ones)."""

    def save(self, meta: dict) -> None:
        """Insert the conversation, or replace its title, updated_at and settings."""

    def append(self, session_id: str, messages: list[dict], pending: bool = False) -> None:
        """Add messages at the end (the conversation exists); pending: a question awaiting its reply."""

    def settle(self, session_id: str, reply: dict | None) -> None:
        """Keep the pending question with this reply, or drop it (reply None)."""

    def truncate(self, session_id: str, keep: int) -> None:
        """Remove every message from position `keep` on."""

    def delete(self, session_id: str) -> None:
        """Forget the conversation and its messages; no error when it is not there."""

    def list(self, client_id: str, query: str | None = None, before: str | None = None,
             limit: int = 50) -> tuple[list[dict], bool]:
        """(summaries newest first, more?); query matches titles and message text, case-insensitively."""

    def close(self) -> None:
        """Finish writing and release the file."""
