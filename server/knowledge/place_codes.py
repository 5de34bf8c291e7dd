"""Where a thing is by its code: an exit, gate, window, counter or platform's letter or number (A出口, Exit D,
3号窗口, Gate 5) in either language, read as one value ("exit:D") that a reply must have from the evidence."""
from __future__ import annotations

import re

# The kinds of coded place, each in both languages; 口 alone (C口) is an exit as a station's signs write it.
KINDS = {"exit": ("出口", "口", "exit"), "entrance": ("入口", "entrance"), "gate": ("检票口", "登机口", "闸口", "gate"),
         "window": ("窗口", "window"), "counter": ("柜台", "counter", "desk"), "platform": ("站台", "月台", "platform"),
         "door": ("门", "door"), "track": ("股道", "track"), "bay": ("候车位", "bay", "stand")}
_ZH = {w: k for k, ws in KINDS.items() for w in ws if not w.isascii()}
_EN = {w: k for k, ws in KINDS.items() for w in ws if w.isascii()}
CODE = r"[A-Z]\d{0,2}|\d{1,3}[A-Z]?"
# Chinese: the code before the kind (A出口, 3号窗口, 5号检票口); longest kinds first (检票口 before 口).
ZH = re.compile(rf"(?<![A-Za-z0-9])({CODE})\s*号?\s*({'|'.join(sorted(_ZH, key=len, reverse=True))})")
# English: the kind before the code (Exit D, Window 3, platform 2A), or a code before it ("the D exit").
EN_AFTER = re.compile(rf"\b({'|'.join(_EN)})s?\s+(?:no\.?\s*|number\s+)?({CODE})(?![A-Za-z0-9])", re.I)
EN_BEFORE = re.compile(rf"(?<![A-Za-z0-9])({CODE})\s+({'|'.join(_EN)})\b", re.I)
# What a question asks when it asks for such a place: 哪个出口, 几号窗口, which exit/gate/window.
ASKS = re.compile(rf"(哪|几号?|什么)\S{{0,3}}({'|'.join(_ZH)})|\b(which|what)\s+({'|'.join(_EN)})", re.I)


def place_codes(text: str) -> set[str]:
    """The coded places a text names, as "kind:CODE" (A出口 and Exit A both give "exit:A")."""
    # 口 alone is an exit only after a letter (C口): 一家3口 counts people.
    out = {f"{_ZH[kind]}:{code.upper()}" for code, kind in ZH.findall(text) if kind != "口" or code[0].isalpha()}
    out |= {f"{_EN[kind.lower()]}:{code.upper()}" for kind, code in EN_AFTER.findall(text)}
    out |= {f"{_EN[kind.lower()]}:{code.upper()}" for code, kind in EN_BEFORE.findall(text)}
    return out


def asks_place_code(question: str) -> bool:
    """Whether the question asks which exit, gate, window, counter or platform (哪个出口, which gate)."""
    return bool(ASKS.search(question))


def unbacked_codes(reply: str, question: str, evidence: list[str]) -> list[str]:
    """The coded places of the reply that the evidence sentences most about the question do not name.

    Of the sentences naming a code of the reply's kind, those sharing the most of what the question is about
    (either language: 机场大巴 finds "airport bus") decide; where none shares a word, any sentence of the evidence.
    """
    from .bilingual import weighed
    from .rivals import RIVAL_SHARE, _words, subject_words

    said = place_codes(reply) - place_codes(question)
    subject = subject_words(question)
    out = []
    for code in sorted(said):
        kind = code.partition(":")[0]
        held = [(weighed(subject, _words(s), len), codes) for s in evidence
                for codes in [{c for c in place_codes(s) if c.startswith(kind + ":")}] if codes]
        top = max((w for w, _ in held), default=0)
        backing = set().union(*(c for w, c in held if w >= RIVAL_SHARE * top)) if held else set()
        if code not in backing:
            out.append(code)
    return out
