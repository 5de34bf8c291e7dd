"""Where conversations are kept: open_store(cfg) picks the memory or SQLite implementation."""
from __future__ import annotations

import os

from .base import EVIDENCE, ConversationStore, now_iso
from .memory import MemoryStore

__all__ = ["EVIDENCE", "ConversationStore", "MemoryStore", "now_iso", "open_store"]


def open_store(cfg) -> ConversationStore:
    """The store --store names; SystemExit with a sentence when the SQLite file cannot be used."""
    if cfg.store == "memory":
        return MemoryStore()
    from ..paths import data_dir
    from .sqlite import SqliteStore

    return SqliteStore(os.path.join(data_dir(cfg), "conversations.sqlite3"))
