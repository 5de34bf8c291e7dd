"""A question that asks two things at once (一个月多少钱？住进去要交多少押金？): its parts, each read with what the
question says before it asks, and whether a reply answers every part."""
from __future__ import annotations

import re

from ..key_tokens import ARABIC, canonical, numbers, with_hours
from .answer_kind import PARTS
from .asked_noun import asked_noun
from .events import asked_event
from .narrow import asked_kind
from .rivals import candidates, rates
from .yes_no import asks_yes_no

# Where a question goes on to ask another thing: a question mark, or an English "…, and how much is the deposit?".
ASKS_AGAIN = re.compile(r"[？?]|,?\s+and\s+(?=(?:how|what|when|which)\b)", re.I)


def _asked(piece: str) -> tuple | None:
    """What a piece asks: (kind, noun, rate units, event), or None where it asks no value (能停车吗, 号码多少)."""
    kind = asked_kind(piece)
    if kind is None or asks_yes_no(piece + "?"):
        return None
    return kind, asked_noun(piece), frozenset(rates(piece)), asked_event(piece)


def parts(question: str, lead: bool = True) -> list[str]:
    """The question's parts where it asks two things or more, each of its own kind, noun or rate (a month's rent and
    a deposit; a day and a time); none where it asks one (a bare "How much?" after a yes/no asks that one's).
    `lead`: the later parts with the words before the first one's ask, which say what they are about too."""
    pieces = [p.strip() for p in ASKS_AGAIN.split(question) if p and p.strip(" ,，")]
    asked = [(p, _asked(p)) for p in pieces]
    valued = [(p, a) for p, a in asked if a is not None]
    if len(valued) < 2 or len({a for _, a in valued}) < len(valued):
        return []
    # The words before the first piece's ask (我想住学校宿舍的双人间) say what the later pieces are about too.
    said = PARTS.split(valued[0][0])
    context = question[:question.find(valued[0][0]) + len(valued[0][0]) - len(said[-1])] if lead else ""
    end = "？" if re.search(r"[\u4e00-\u9fff]", question) else "?"
    return [p + end if i == 0 else f"{context}{p}{end}" for i, (p, _) in enumerate(valued)]


def unanswered_parts(reply: str, question: str, shown: str) -> list[str]:
    """The parts of a two-part question the reply answers with none of the values their clauses hold: a month's
    rent given, the deposit asked beside it left out."""
    said = with_hours(numbers(reply))
    out = []
    for part in parts(question):
        values = candidates(part, shown, person=False).values
        if values and not values & said:
            out.append(f"(unanswered: {part})")
    return out


def by_part(reply: str, question: str, shown: str) -> list[tuple[str, str]]:
    """(reply, question) pairs to check: the reply and the question itself, or for a question of two parts each
    part with the reply less the values only the other parts' clauses hold (a deposit's 1000元 beside the rent)."""
    asked = parts(question)
    if not asked:
        return [(reply, question)]
    asked_bare = parts(question, lead=False)
    values = {part: candidates(part, shown, person=False).values for part in asked}
    out = []
    for part in asked:
        others = set().union(*(v for p, v in values.items() if p != part)) - values[part]
        # Checked as the bare part: a deposit line need not name the room the question's first part names.
        bare = asked_bare[asked.index(part)]
        out.append((ARABIC.sub(lambda m: " " if canonical(m.group()) in others else m.group(), reply), bare))
    return out
