"""Constrained decoding of a graph extraction: JSON whose names are spans of the passage, token by token."""
from __future__ import annotations

import re
import threading

from .jobs import Observed

# The only shape written: {"relations":[{"head":"…","relation":"…","tail":"…"},…]}
OPEN, FIRST, NEXT, CLOSE = '{"relations":[', '{"head":"', ',{"head":"', ']}'
AFTER_HEAD, AFTER_RELATION, AFTER_TAIL = '","relation":"', '","tail":"', '"}'
# Caps that keep the whole answer under a 1024-token budget even one character a token: 6 facts of two 30-character
# names, a relation and 40 characters of skeleton are ~700 characters.
MAX_FACTS, MAX_NAME = 6, 30
BYTE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")
UNSAFE = re.compile(r'["\\\x00-\x1f]')  # a name holding one would need JSON escapes


class SpanVocab:
    """Each token's text (decoded once per tokenizer) and the tokens of each text."""

    _lock = threading.Lock()

    def __init__(self, tokenizer):
        n = len(tokenizer)
        pieces = tokenizer.convert_ids_to_tokens(list(range(n)))
        if any(p and p.startswith("\u2581") for p in pieces[:5000]):  # SentencePiece (Gemma): ▁ is a space
            texts = [p.replace("\u2581", " ") if p and not BYTE.match(p) else "" for p in pieces]
        else:  # byte-level BPE: the decoder knows its byte alphabet (7 s for Gemma's 262,144, so not the default)
            texts = tokenizer.batch_decode([[i] for i in range(n)], skip_special_tokens=False,
                                           clean_up_tokenization_spaces=False)
        special = set(tokenizer.all_special_ids)
        self.text = ["" if i in special or "\ufffd" in t else t for i, t in enumerate(texts)]
        self.ids: dict[str, list[int]] = {}
        for i, t in enumerate(self.text):
            if t:
                self.ids.setdefault(t, []).append(i)
        self.longest = min(max(map(len, self.ids)), MAX_NAME)

    @classmethod
    def of(cls, tokenizer) -> SpanVocab:
        with cls._lock:
            vocab = getattr(tokenizer, "_span_vocab", None)
            if vocab is None:
                vocab = tokenizer._span_vocab = cls(tokenizer)
            return vocab


def walk(text: str, relations: list[str], max_facts: int = MAX_FACTS):
    """Where a partial answer stands: ("lit", [what may follow]), ("name", written, closing literal),
    ("relation", written) or ("end",). Only answers this guard let through are ever walked."""
    def literal(pos: int, options: list[str]):
        rest = text[pos:]
        for o in options:
            if rest.startswith(o):
                return pos + len(o), o
        return None, [o[len(rest):] for o in options if o.startswith(rest)]

    pos, got = literal(0, [OPEN])
    if pos is None:
        return "lit", got
    for n in range(max_facts + 1):
        pos, got = literal(pos, [CLOSE] if n >= max_facts else [FIRST if n == 0 else NEXT, CLOSE])
        if pos is None:
            return "lit", got
        if got == CLOSE:
            return ("end",)
        for kind, after in (("name", AFTER_HEAD), ("relation", AFTER_RELATION), ("name", AFTER_TAIL)):
            q = text.find('"', pos)
            if q < 0:
                return (kind, text[pos:], after) if kind == "name" else (kind, text[pos:])
            pos, got = literal(q, [after])
            if pos is None:
                return "lit", got
    return ("end",)


class SpanGuard(Observed):
    """Masks every token that would take the answer off the extraction shape, write a name that is not a span of
    the passage, or a relation not on the list. The same duck type as number_guard.NumberGuard (observe/apply)."""

    def __init__(self, passage: str, relations: list[str], tokenizer, eos_ids: list[int], max_facts: int = MAX_FACTS):
        self.passage = passage
        self.vocab = SpanVocab.of(tokenizer)
        self.relations = [r for r in relations if r and not UNSAFE.search(r) and self._spells(r)]
        self.eos = list(eos_ids) or [tokenizer.eos_token_id]
        # No fact is begun that could not be finished: a vocabulary that spells no relation or no name of this
        # passage (a tiny English one and a Chinese passage) answers {"relations":[]}.
        self.max_facts = max_facts if self.relations and self._texts(self._extensions("")) else 0
        super().__init__()

    def allowed(self) -> list[int]:
        """The tokens that may come next."""
        text = "".join(self.vocab.text[t] for t in self.tokens)
        state = walk(text, self.relations, self.max_facts)
        if state[0] == "end":
            return self.eos
        if state[0] == "lit":
            return self._prefixes(state[1])
        if state[0] == "relation":
            written = state[1]
            keep = self._texts(r[len(written):len(written) + k] for r in self.relations if r.startswith(written)
                               for k in range(1, len(r) - len(written) + 1) if self._spells(r[len(written) + k:]))
            return keep + (self._prefixes([AFTER_RELATION]) if written in self.relations else [])
        written, after = state[1], state[2]
        keep = self._texts(self._extensions(written))
        return keep + (self._prefixes([after]) if written.strip() else [])

    def _extensions(self, written: str):
        """Texts that keep `written` a span of the passage (of at most MAX_NAME characters, not starting blank)."""
        p, room = self.passage, MAX_NAME - len(written)
        if written:
            starts = [m.start() + len(written) for m in re.finditer(f"(?={re.escape(written)})", p)]
        else:
            starts = [i for i, c in enumerate(p) if not c.isspace()]
        for s in starts:
            for k in range(1, min(room, self.vocab.longest) + 1):
                if s + k > len(p):
                    break
                piece = p[s:s + k]
                if UNSAFE.search(piece):
                    break
                yield piece

    def _spells(self, text: str) -> bool:
        """Whether some run of whole tokens writes exactly `text`."""
        can = [True] + [False] * len(text)
        for end in range(1, len(text) + 1):
            can[end] = any(can[end - k] and text[end - k:end] in self.vocab.ids for k in range(1, min(end, 40) + 1))
        return can[-1]

    def _prefixes(self, options: list[str]) -> list[int]:
        return self._texts(o[:k] for o in options for k in range(1, len(o) + 1))

    def _texts(self, texts) -> list[int]:
        out: set[int] = set()
        for t in texts:
            out.update(self.vocab.ids.get(t, ()))
        return sorted(out)

    def apply(self, scores) -> None:
        """Mask, in place, one row's scores (1-D) for its next token."""
        keep = self.allowed() or self.eos  # nothing fits (a passage no token spells): end rather than stray
        kept = scores[keep].clone()
        scores.fill_(float("-inf"))
        scores[keep] = kept
