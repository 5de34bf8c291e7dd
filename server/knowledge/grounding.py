"""The honest fallback: is a grounded reply's every number, time and name in what the model was shown?"""
from __future__ import annotations

import re

from .numbers import names, numbers

EVIDENCE_LINE = re.compile(r"^\[(\d+)\] \((.+?)\) (.+)$", re.M)  # "[n] (title) sentence", best first


def _with_hours(found: set[str]) -> set[str]:
    """A time 20:00 also supports "20" and "8" (晚上8点, 8 pm); 8:30 supports "8"."""
    out = set(found)
    for t in found:
        if ":" in t:
            h = int(t.split(":", 1)[0])
            out |= {str(h), str(h % 12 or 12)}
    return out


def unsupported(reply: str, shown: str) -> list[str]:
    """The reply's numbers, times and Latin names that the evidence shown to the model (and the question) lacks."""
    have_numbers = _with_hours(numbers(shown))
    missing = sorted(numbers(reply) - have_numbers)
    low = shown.lower()
    missing += sorted(w for w in names(reply) if w.lower() not in low)
    return missing


def check(reply: str, question: str, sources: list[dict], shown: str) -> dict:
    """`done.grounding`: {supported: true}, or {supported: false, quote: {n, title, sentence}} with the best evidence.

    `shown` is the system text the model was given (its passages or evidence sentences); the question's own
    numbers count as shown, since a reply may repeat them.
    """
    missing = unsupported(reply, f"{shown}\n{question}")
    if not missing:
        return {"supported": True}
    out = {"supported": False}
    first = EVIDENCE_LINE.search(shown)
    if first and any(s["n"] == int(first.group(1)) for s in sources):
        n = int(first.group(1))
        title = next(s["title"] for s in sources if s["n"] == n)
        out["quote"] = {"n": n, "title": title, "sentence": first.group(3).strip()}
        return out
    best = next((s for s in sources if s.get("sentences")), None)
    if best is not None:
        out["quote"] = {"n": best["n"], "title": best["title"], "sentence": best["sentences"][0]}
    elif sources:
        out["quote"] = {"n": sources[0]["n"], "title": sources[0]["title"], "sentence": sources[0]["text"]}
    return out


def evidence_style(setting: str, backend) -> str:
    """--kb-evidence: "auto" shows sentences to base models (no chat template), whole passages to the rest."""
    if setting in ("sentences", "passages"):
        return setting
    return "sentences" if getattr(backend, "base_model", False) else "passages"


def for_done(text: str, reason: str, question: str, sources: list | None, messages: list | None) -> dict | None:
    """`done.grounding` of a grounded reply that produced text; None for any other."""
    if not sources or not text.strip() or reason == "error" or not messages or messages[0]["role"] != "system":
        return None
    return check(text, question, sources, messages[0]["content"])
