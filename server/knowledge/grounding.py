"""The honest fallback: is a grounded reply's every number, time and name in what the model was shown?"""
from __future__ import annotations

import re

from .chunk import sentences
from .evidence import WANTS_NUMBER
from .keyword import words
from ..key_tokens import RUN, canonical, names, number_forms, numbers, with_hours
from .answer_kind import has_kind, kind_of, of_kind

EVIDENCE_LINE = re.compile(r"^\[(\d+)\] \((.+?)\) (.+)$", re.M)  # "[n] (title) sentence", best first


CLAUSE = re.compile(r"[，；;。！？!?]|[,.](?=\s)")
# A number counts when its clause shares nearly as much of the question as the best clause holding a number:
# on bench/data/evidence the 270M model swapped 专家门诊's 50元 for 普通门诊's 10元 of the same sentence and
# took a bath's 15 dollars for a cat's night; 0.7 told those apart and flagged none of its right answers.
CLAUSE_SHARE = 0.7


def _backing(question: str, shown: str) -> list[str]:
    """The clauses of the evidence whose numbers can answer the question: those most about it.

    Only clauses with a number of the kind the question asks for count, where any has one (a fee: 年费为200元,
    not 面积为6平方米). A clause's weight is the length of the question's words it holds (longer words say
    more: 专家门诊 over 门诊). When no such clause shares a word with the question (a Chinese question,
    English evidence), the best evidence sentence backs the answer (all the passages, in passages mode).
    """
    asked, kind = set(words(question)), kind_of(question)
    clauses = [c for line in shown.splitlines() for s in sentences(line) for c in CLAUSE.split(s) if c.strip()]
    clauses = [c for c in clauses if numbers(c)]
    clauses = [c for c in clauses if has_kind(kind, c)] or clauses
    # Digits apart first: the library's words glue "20:00关门" into "00关门", which 关门 would not match.
    weighed = [(sum(len(w) for w in asked & set(words(RUN.sub(" ", c)))), c) for c in clauses]
    top = max((w for w, _ in weighed), default=0)
    if top:
        return [c for w, c in weighed if w >= CLAUSE_SHARE * top]
    first = EVIDENCE_LINE.search(shown)
    return [first.group(3)] if first else [shown]


def _backed_numbers(question: str, shown: str, backing: list[str] | None = None) -> set[str]:
    """Numbers of the evidence that can answer the question (of the kind it asks for, where it names one)."""
    backing = _backing(question, shown) if backing is None else backing
    return with_hours(of_kind(kind_of(question), backing) | numbers(question))


def answer_numbers(question: str, shown: str) -> list[str]:
    """The numbers a reply may write, in every form it may write them: the backed ones and the question's own."""
    backing = _backing(question, shown)
    backed = _backed_numbers(question, shown, backing)
    return sorted(f for f in number_forms("\n".join(backing + [question])) if f in backed or _canonical_in(f, backed))


def _canonical_in(form: str, backed: set[str]) -> bool:
    try:
        return canonical(form) in backed
    except ValueError:
        return False


def unsupported(reply: str, question: str, shown: str) -> list[str]:
    """The reply's numbers, times and Latin names that the evidence shown to the model (and the question) lacks.

    A question that asks for a number (how much, 几点, 多少) and a reply with none count as unsupported too, and
    so does a reply whose numbers are all of another kind than the question asks for (哪天闭馆 -> 9:00到17:00).
    """
    found = numbers(reply)
    if WANTS_NUMBER.search(question) and not found:
        return ["(no number)"]
    kind = kind_of(question)
    if kind and found and not has_kind(kind, reply):
        return [f"(no {kind})"]
    missing = sorted(found - _backed_numbers(question, shown))
    low = f"{shown}\n{question}".lower()
    missing += sorted(w for w in names(reply) if w.lower() not in low and w.lower().rstrip("s") not in low)
    return missing


def check(reply: str, question: str, sources: list[dict], shown: str) -> dict:
    """`done.grounding`: {supported: true}, or {supported: false, quote: {n, title, sentence}} with the best evidence.

    `shown` is the system text the model was given (its passages or evidence sentences); the question's own
    numbers count as shown, since a reply may repeat them.
    """
    missing = unsupported(reply, question, shown)
    if not missing:
        return {"supported": True}
    out = {"supported": False}
    first = EVIDENCE_LINE.search(shown)
    if first and any(s["n"] == int(first.group(1)) for s in sources):
        n = int(first.group(1))
        title = next(s["title"] for s in sources if s["n"] == n)
        out["quote"] = {"n": n, "title": title, "sentence": _whole(first.group(3).strip(), sources, n)}
        return out
    best = next((s for s in sources if s.get("sentences")), None)
    if best is not None:
        out["quote"] = {"n": best["n"], "title": best["title"], "sentence": best["sentences"][0]}
    elif sources:
        out["quote"] = {"n": sources[0]["n"], "title": sources[0]["title"], "sentence": sources[0]["text"]}
    return out


def _whole(part: str, sources: list[dict], n: int) -> str:
    """The whole sentence of source n that an evidence clause comes from (a person reads it with its subject)."""
    text = next((s["text"] for s in sources if s["n"] == n), "")
    return next((s for line in text.splitlines() for s in sentences(line) if part in s), part)


def evidence_style(setting: str, backend) -> str:
    """--kb-evidence: "auto" shows sentences to base models (no chat template), whole passages to the rest."""
    if setting in ("sentences", "passages"):
        return setting
    return "sentences" if getattr(backend, "base_model", False) else "passages"


def for_done(text: str, reason: str, question: str, sources: list | None, messages: list | None) -> dict | None:
    """`done.grounding` of a grounded reply that produced text; None for any other."""
    if not sources or not text.strip() or reason == "error" or not messages or messages[0]["role"] != "system":
        return None
    # Facts of the graph are checked as part of what was shown; only passages can be quoted.
    passages = [s for s in sources if s.get("kind", "passage") == "passage" and "text" in s]
    return check(text, question, passages, messages[0]["content"])
