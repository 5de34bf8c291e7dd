"""Composed replies that answer all that was asked: each part of a question of two parts, and from the whole
passages where the evidence shown lacks what was asked (an event's clause, a value of the asked kind)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..shapes import Grounding
from .answer_kind import has_kind
from .asked_noun import MONEY_NOUNS, asked_noun, gives
from .clauses import clauses
from .echo import asks_someone
from .events import asked_event, names_event, timed
from .other_thing import ANSWERS
from .grounding import says_not_found
from .narrow import asked_kind
from .rivals import candidates, subject_words
from .whole_passages import as_shown


@dataclass
class Composed:
    reply: str
    passages: list[int]  # the sources it cites
    grounding: Grounding


Composer = Callable[[str, str, list[dict]], "Composed | None"]


def each_part(asked: list[str], shown: str, sources: list[dict], compose: Composer) -> Composed | None:
    """Two things asked in one question: each part composed from its own clause, cited, and checked as its own
    question; None (the model writes, and the check reads every part) unless every part is answered so."""
    from .composed_check import of_composed

    said = []
    for part in asked:
        found = compose(part, shown, sources)
        if found is None or says_not_found(found.reply):
            return None
        said.append((found, of_composed(found.grounding, found.reply, part, sources, shown)))
    flagged = next((g for _, g in said if not g.get("supported")), None)
    # One clause may answer both (绘本故事会：每周六上午 10:00–11:00, 礼拜几 and 几点): said once.
    reply = "\n".join(dict.fromkeys(f.reply for f, _ in said))
    return Composed(reply, sorted({n for f, _ in said for n in f.passages}),
                    flagged or {"supported": True})


def lacks(reply: str, question: str) -> bool:
    """Whether a composed reply lacks what the question asks: a time of another event than the one asked (day
    visitors' 9:00 pm for a cabin's check-out), or no value of the asked kind (a visa letter's rule for its fee)."""
    if says_not_found(reply) or asks_someone(question):
        return False  # (a who-question's name is its value, whatever kind its words seem to ask: "my feet" a fee)
    event, kind = asked_event(question), asked_kind(question)
    return (bool(event and not names_event(event, reply)) or
            bool(kind and not any(has_kind(k, reply) for k in ANSWERS.get(kind, {kind}))))  # 退还50% for 退多少


def from_whole(question: str, shown: str, sources: list[dict], compose: Composer) -> Composed | None:
    """The reply composed from the evidence shown; where it lacks what was asked, from the whole passages when they
    hold it, else None (the model writes, and the check reads the passages)."""
    found = compose(question, shown, sources)
    passages = as_shown(sources)
    if found is None or not (lacks(found.reply, question) or _named_elsewhere(found.reply, question, passages)):
        return found
    if not _held(question, passages):
        return found  # the passages name no such event either: the shown clause is the best there is
    whole = compose(question, passages, sources)
    # A value of the thing the shown clause names, not of a neighbour ("Student residence … 1900 yuan/month" for
    # a visa letter's fee): the passages' clause must be about all that the shown one was.
    if (whole is not None and not lacks(whole.reply, question) and not says_not_found(whole.reply) and
            (asked_event(question) or _named(question, shown) <= _named(question, passages))):
        return whole
    return None  # the passages name it (a fine's 逾期 line not shown): the model writes, and is checked


def _held(question: str, passages: str) -> bool:
    """Whether the passages hold what the question asks: a clause naming its event with a time, where it asks one."""
    event = asked_event(question)
    return not event or any(names_event(event, f"{c.before} {c.text}") and timed(c.text) for c in clauses(passages))


def _named_elsewhere(reply: str, question: str, passages: str) -> bool:
    """A "not found" for a deposit or a fine (罚多少) where the shown lines name none but the passages do."""
    noun = asked_noun(question)
    return says_not_found(reply) and noun in MONEY_NOUNS and any(gives(noun, f"{c.before} {c.text}")
                                                                  for c in clauses(passages))


def _named(question: str, shown: str) -> set[str]:
    """The words of what the question is about that its best clause in the evidence holds."""
    found = candidates(question, shown, person=False)
    top = max(found.answer, key=lambda c: c.weight, default=None)
    return subject_words(question) & top.about if top is not None else set()
