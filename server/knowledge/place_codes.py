"""Where a thing is: an exit, gate, window, counter or platform's letter or number (A出口, Exit D, 3号窗口, Gate 5)
in either language, read as one value ("exit:D"), and the places a where-reply names, against the evidence."""
from __future__ import annotations

import re

# The kinds of coded place, each in both languages; 口 alone (C口) is an exit as a station's signs write it.
KINDS = {"exit": ("出口", "口", "exit"), "entrance": ("入口", "entrance"), "gate": ("检票口", "登机口", "闸口", "gate"),
         "window": ("窗口", "window"), "counter": ("柜台", "counter", "desk"), "platform": ("站台", "月台", "platform"),
         "door": ("号门", "door"), "track": ("股道", "track"), "bay": ("候车位", "bay")}
_ZH = {w: k for k, ws in KINDS.items() for w in ws if not w.isascii()}
_EN = {w: k for k, ws in KINDS.items() for w in ws if w.isascii()}
CODE = r"[A-Z]\d{0,2}|\d{1,3}[A-Z]?"
# Chinese: the code before the kind (A出口, 3号窗口, 5号检票口); longest kinds first (检票口 before 口).
ZH = re.compile(rf"(?<![A-Za-z0-9])({CODE})\s*号?\s*({'|'.join(sorted(_ZH, key=len, reverse=True))})")
# English: the kind before the code (Exit D, Window 3, platform 2A), or a code before it ("the D exit").
EN_AFTER = re.compile(rf"\b({'|'.join(_EN)})s?\s+(?:no\.?\s*|number\s+)?({CODE})(?![A-Za-z0-9])", re.I)
EN_BEFORE = re.compile(rf"(?<![A-Za-z0-9])({CODE})\s+({'|'.join(_EN)})\b", re.I)
CONDITION_CUT = re.compile(r"[,，;；。.!！]\s*")  # a question's clauses: "I only have a passport" | "where ..."
WHERE = re.compile(r"\bwhere\b|哪里|哪儿|在哪|什么地方|何处", re.I)


def place_codes(text: str) -> set[str]:
    """The coded places a text names, as "kind:CODE" (A出口 and Exit A both give "exit:A")."""
    # 口 alone is an exit only after a letter (C口): 一家3口 counts people.
    out = {f"{_ZH[kind]}:{code.upper()}" for code, kind in ZH.findall(text) if kind != "口" or code[0].isalpha()}
    out |= {f"{_EN[kind.lower()]}:{code.upper()}" for kind, code in EN_AFTER.findall(text)}
    out |= {f"{_EN[kind.lower()]}:{code.upper()}" for code, kind in EN_BEFORE.findall(text)}
    return out


def unbacked_codes(reply: str, question: str, evidence: list[str]) -> list[str]:
    """The coded places of the reply that the evidence sentences most about the question do not name.

    Of the sentences naming a code of the reply's kind, those sharing the most of what the question is about
    (either language: 机场大巴 finds "airport bus") decide; where none shares a word, any sentence of the evidence.
    """
    said = place_codes(reply) - place_codes(question)
    out = []
    for code in sorted(said):
        kind = code.partition(":")[0]
        held = [(s, codes) for s in evidence for codes in [{c for c in place_codes(s) if c.startswith(kind + ":")}]
                if codes]
        if code not in set().union(*(c for _, c in _best(question, held))):
            out.append(code)
    return out


def named_elsewhere(reply: str, question: str, evidence: list[str]) -> list[str]:
    """For a where-question with a condition of its own clause ("I only have a passport, where can I buy a
    ticket?"), the reply's place names that no evidence sentence sharing the condition's words holds: "Passport
    holders: Window 8" answers it, not "Tickets are sold at the Service Centre". No sentence naming a place with
    a word of the condition: no verdict."""
    from ..key_tokens import chinese_names, names
    from .bilingual import shared
    from .clauses import words_of
    from .rivals import subject_words
    from .yes_no import WH

    parts = [p for p in CONDITION_CUT.split(question) if p.strip()]
    if not WHERE.search(question) or len(parts) < 2:
        return []
    # The clauses that ask nothing ("I only have a passport"), not another question ("and when does it open?").
    condition = {w for p in parts if not WH.search(p) for w in subject_words(p) if len(w) > 1}
    said = {w for w in names(reply) | chinese_names(reply) | place_codes(reply) if w.lower() not in question.lower()}
    held = [(s, found) for s in evidence for found in [names(s) | chinese_names(s) | place_codes(s)] if found]
    said = {w for w in said if any(w in found for _, found in held)}  # one the evidence lacks: the names check's
    # Of those, the ones most about what the question asks beside its condition: "register with your passport
    # number at the Service Centre" (Wi-Fi) names the passport, not buying a ticket.
    asking = {w for p in parts if WH.search(p) for w in subject_words(p)} - condition
    about = [found for s, found in _best_of(asking, [(s, f) for s, f in held if shared(condition, words_of(s))])]
    if not said or not about:
        return []
    return sorted(f"(elsewhere {w})" for w in said if not any(w in found for found in about))


def _best(question: str, held: list[tuple[str, set[str]]]) -> list[tuple[str, set[str]]]:
    """The (sentence, values) that share the most of what the question is about, in either language (RIVAL_SHARE
    of the best); all of them where none shares a word."""
    from .rivals import subject_words

    return _best_of(subject_words(question), held)


def _best_of(subject: set[str], held: list[tuple[str, set[str]]]) -> list[tuple[str, set[str]]]:
    """_best for a set of asked words."""
    from .bilingual import weighed, whole_words
    from .clauses import words_of
    from .rivals import RIVAL_SHARE

    # Each asked word once, not also the parts jieba cut it into: 火车站's part 车站 ("bus stop") made "City bus
    # routes … stop at the north square (Exit B)" as much about 去机场的大巴在火车站哪个出口坐 as "Airport shuttle bus:
    # from Exit D".
    subject = whole_words(subject)
    weights = [weighed(subject, words_of(s), len) for s, _ in held]
    top = max(weights, default=0)
    return [h for h, w in zip(held, weights) if w >= RIVAL_SHARE * top]
