"""Passages of a few hundred characters, cut at sentence ends, each overlapping its neighbour a little."""
from __future__ import annotations

import re

# 400 characters is about 100 English words or a short Chinese paragraph: small enough that a passage
# is about one thing, and 4 of them fit a 2k-token prompt with room for the question and the reply.
TARGET = 400
OVERLAP = 80  # the last sentence (up to this long) is repeated at the start of the next passage

_SENTENCE = re.compile(r"(?<=[。！？；!?;])|(?<=[.])(?=\s)")
# "Dr. Brooks", "e.g. this", "(ext. 2214)", "Rm. 3": a full stop after these does not end a sentence
# (cut there, "Gareth Olsen (ext." lost its number: #31's heldout3).
_ABBREV = re.compile(r"(?:^|[\s(\[])(?:Dr|Mr|Mrs|Ms|Prof|St|No|Nos|Mt|Rm|ext|tel|vs|e\.g|i\.e|approx|cf)\.$", re.I)
# "9 a.m. to 5 p.m.", "pens, paper, etc. are": these end a sentence too ("to 8:30 pm. Tuition is"), so they
# keep it going only when the next piece does not start with a capital letter.
_SOFT_ABBREV = re.compile(r"(?:^|[\s(\[\d])(?:a\.m|p\.m|am|pm|etc)\.$", re.I)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """(sentence, starts a line) in order; a sentence longer than TARGET is cut into TARGET-long pieces."""
    out = []
    for line in re.split(r"\n+", text):
        first = True
        carry = ""
        split = _SENTENCE.split(line)
        for i, piece in enumerate(split):
            piece = carry + re.sub(r"[ \t\u3000]+", " ", piece or "").strip()
            carry = ""
            after = split[i + 1].lstrip()[:1] if i + 1 < len(split) else ""
            if _ABBREV.search(piece) or (_SOFT_ABBREV.search(piece) and after and not after.isupper()):
                carry = piece + " "
                continue
            if len(piece) > TARGET:  # cut by index: re-slicing the rest was quadratic on a long run of text
                cut = len(piece) - (len(piece) - 1) % TARGET - 1
                for i in range(0, cut, TARGET):
                    out.append((piece[i:i + TARGET], first))
                    first = False
                piece = piece[cut:]
            if piece:
                out.append((piece, first))
                first = False
        if carry.strip():
            out.append((carry.strip(), first))
    return out


def sentences(text: str) -> list[str]:
    """Sentences and lines; a sentence longer than TARGET is cut into TARGET-long pieces."""
    return [p for p, _ in _pieces(text)]


def _join(parts: list[tuple[str, bool]]) -> str:
    text = ""
    for p, new_line in parts:
        # A line of the source stays a line (headings, list items); no space between Chinese sentences.
        sep = "" if not text else "\n" if new_line else "" if text[-1] > "\u2e80" and p[0] > "\u2e80" else " "
        text += sep + p
    return text


def chunk_sections(sections: list) -> list[tuple]:
    """(page, text) sections -> (page, text) passages in reading order; a passage stays on one page."""
    passages = []
    for page, text in sections:
        current: list[tuple[str, bool]] = []
        size = 0
        for s in _pieces(text):
            if current and size + len(s[0]) > TARGET:
                passages.append((page, _join(current)))
                tail = current[-1]
                current, size = ([(tail[0], True)], len(tail[0])) if len(tail[0]) <= OVERLAP else ([], 0)
            current.append(s)
            size += len(s[0])
        if current and (not passages or passages[-1] != (page, _join(current))):
            passages.append((page, _join(current)))
    return passages
