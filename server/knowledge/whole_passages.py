"""A reply's value read against the whole passages, not only the sentences a base model was shown.

The ranker shows a base model its best few sentences; where the sentence about the question is not among them
("Our beginners' course costs $95" left out, "Kids' course: $30 a month" shown), the shown clause most about it
holds another thing's value, and the shown evidence alone backs the wrong reply.
"""
from __future__ import annotations

from ..key_tokens import numbers, with_hours
from .answer_kind import mentions
from .evidence import language
from .rivals import candidates


def as_shown(sources: list[dict]) -> str:
    """The passages' lines as evidence lines ("[n] (title) line"), for the clause reader."""
    return "Evidence:\n" + "\n".join(f"[{s['n']}] ({s['title']}) {line.strip()}" for s in sources
                                     for line in s["text"].splitlines() if line.strip())


def outranked(reply: str, question: str, sources: list[dict], person: bool) -> list[str]:
    """The reply's values (of the asked kind) that the passages' clauses most about the question do not hold,
    where those clauses agree on theirs (no rivals: a guess among equals is the rival check's)."""
    if person or not sources:
        return []
    found = candidates(question, as_shown(sources), person=False)
    if not found.kind or not found.answer or found.ambiguous:
        return []
    if any(language(c.text) != language(question) for c in found.answer):
        return []  # read in translation, the passages' order picks the clause, not the ranker's: no verdict
    said = {v for v, kinds in mentions(reply) if found.kind in kinds} - numbers(question)
    return [f"(outranked {v})" for v in sorted(said - with_hours(found.values))]


def of_no_kind_held(reply: str, question: str, sources: list[dict]) -> list[str]:
    """The reply's values of a kind (a price, a time) that the passages hold as no value of that kind: "$30" where
    the only 30 of the evidence is 30 minutes."""
    held: dict[str, set] = {}
    for s in sources:
        for v, kinds in mentions(s["text"]):
            for form in with_hours({v}):  # 20:00 holds the 8 of "8 pm" as a time
                held.setdefault(form, set()).update(kinds or {"any"})
    asked = numbers(question)
    return sorted(v for v, kinds in mentions(reply)
                  if kinds and v not in asked and v in held and not (held[v] & (kinds | {"any"})))
