"""Passages of a few hundred characters, cut at sentence ends, each overlapping its neighbour a little."""
from __future__ import annotations

import re

# 400 characters is about 100 English words or a short Chinese paragraph: small enough that a passage
# is about one thing, and 4 of them fit a 2k-token prompt with room for the question and the reply.
TARGET = 400
OVERLAP = 80  # the last sentence (up to this long) is repeated at the start of the next passage

_SENTENCE = re.compile(r"(?<=[。！？；!?;])|(?<=[.])(?=\s)|\n+")


def sentences(text: str) -> list[str]:
    """Sentences and lines; a sentence longer than TARGET is cut into TARGET-long pieces."""
    out = []
    for piece in _SENTENCE.split(text):
        piece = re.sub(r"[ \t\u3000]+", " ", piece or "").strip()
        while len(piece) > TARGET:
            out.append(piece[:TARGET])
            piece = piece[TARGET:]
        if piece:
            out.append(piece)
    return out


def _join(parts: list[str]) -> str:
    text = ""
    for p in parts:
        # No space between Chinese sentences, one between English ones.
        sep = "" if not text or (text[-1] > "\u2e80" and p[0] > "\u2e80") else " "
        text += sep + p
    return text


def chunk_sections(sections: list) -> list[tuple]:
    """(page, text) sections -> (page, text) passages in reading order; a passage stays on one page."""
    passages = []
    for page, text in sections:
        current: list[str] = []
        size = 0
        for s in sentences(text):
            if current and size + len(s) > TARGET:
                passages.append((page, _join(current)))
                tail = current[-1]
                current, size = ([tail], len(tail)) if len(tail) <= OVERLAP else ([], 0)
            current.append(s)
            size += len(s)
        if current and (not passages or passages[-1] != (page, _join(current))):
            passages.append((page, _join(current)))
    return passages
