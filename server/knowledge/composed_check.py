"""The check of a reply composed from the evidence: is its clause about what the question asks?"""
from __future__ import annotations

from typing import cast

from ..shapes import Grounding
from .asked_parts import parts
from .asked_thing import FRAME, about_other
from .evidence import language
from .grounding import answer_quote, says_not_found
from .on_topic import passage_off_topic


def of_composed(grounding: Grounding, reply: str, question: str, sources: list[dict], shown: str) -> Grounding:
    """A composed reply's `done.grounding`: the clause choice's, unless its clause is about another thing than the
    question asks (asked_thing.about_other), or, for an English question, its values' passages share under
    PASSAGE_ON_TOPIC of the question ("Main phone line" of a climbing gym for a ski shop's lost phone).

    Not the model's whole check: it reads a composed clause as the model's words and flags right ones ("According"
    as a name; Chinese questions in everyday words, 礼拜天 for 周日, share few words with their passage)."""
    if not grounding.get("supported") or says_not_found(reply) or parts(question):
        return grounding  # (a question of two parts: each was checked as its own when composed)
    if not (about_other(reply, question, sources, shown) or
            (language(question) == "en" and passage_off_topic(FRAME.sub("", reply), question, sources))):
        return grounding
    quote = answer_quote(question, shown, sources)
    return cast(Grounding, {"supported": False, **({"quote": {"kind": "passage", **quote}} if quote else {})})
