"""The event a time question asks the time of (check-out, closing, last entry, drop-off, pick-up) and whether a
clause names it: the time of another event's clause (day visitors' "leave by 9:00 pm" for a cabin's check-out, a
check-in for a check-out) answers something else."""
from __future__ import annotations

import re

from ..key_tokens import with_hours
from .answer_kind import kind_of, mentions
from .clauses import Clause

# A time range's end is when a thing closes, its start when it opens: "周六 9:00—12:00" answers 几点关门.
RANGE = r"\d\s*(?:[ap]\.?m\.?)?\s*(?:[-–—~～至到]|to|until|till)\s*\d"
# (event, what a question asking its time says, what a clause giving it says). First match wins: "be out of the
# cabin on the day we leave" is a check-out, not a departure.
EVENTS = (
    # Being out of a place is a check-out where the askers are (not "my visitors have to be out of the building").
    ("check-out", re.compile(r"check(?:ing)?[- ]?out|\b(?:we|I)\b[^.?]{0,20}\bbe out of\b|\bvacate|\bmove out\b|"
                             r"\bday (?:we|I) leave\b|"
                             r"\bleave (?:the|our|my) (?:room|cabin|site|pitch|apartment|flat|dorm|lodge|chalet)|"
                             r"退房|离店|腾房|搬出", re.I),
     re.compile(r"check[- ]?out|\bvacate|退房|离店|搬出", re.I)),
    ("check-in", re.compile(r"check(?:ing)?[- ]?in\b|\bmove in\b|入住|搬进", re.I),
     re.compile(r"check[- ]?in\b|入住|搬进", re.I)),
    ("last entry", re.compile(r"last (?:entry|admission|entrance)|\blatest\b.*\b(?:get in|enter|go in|arrive)\b|"
                              r"最晚.{0,4}(?:入场|入园|入馆|进场|进园|进馆|进去|进门)|停止(?:入场|入园|入馆|售票|检票)|"
                              r"最后入场", re.I),
     re.compile(r"last (?:entry|admission|entrance)|\blatest\b|最晚|最后入场|停止(?:入场|入园|入馆|售票|检票)", re.I)),
    ("drop-off", re.compile(r"drop(?:ping)?[- ]?off|送(?:过来|过去|来|到|狗|猫|孩子|宠物)", re.I),
     re.compile(r"drop[- ]?off|送|接收", re.I)),
    ("pick-up", re.compile(r"pick(?:ing)?[- ]?up|\bcollect\b|接(?:孩子|狗|猫|宠物|回)|取(?:回|走)", re.I),
     re.compile(r"pick[- ]?up|collect|接|取", re.I)),
    ("closing", re.compile(r"\bclos(?:e|es|ing)\b|\bshut\b|关门|闭馆|打烊|结束营业|开到几点|营业到几点", re.I),
     re.compile(r"\bclos(?:e|es|ed|ing)\b|\bshut|关门|闭馆|打烊|结束营业|营业到|开到", re.I)),
    # Not 几点开始: a class or a clinic's afternoon starts, and "14:00 开始" names no opening.
    ("opening", re.compile(r"\bopen(?:s|ing)?\b|开门|几点开(?!始)|开始营业", re.I),
     re.compile(r"\bopen|开门|开放|营业", re.I)),
)


def asked_event(question: str) -> str | None:
    """The event a time question asks the time of, or None (a question of another kind, or of no event named)."""
    if kind_of(question) != "time":
        return None
    return next((event for event, asks, _ in EVENTS if asks.search(question)), None)


def names_event(event: str, text: str, ranged: bool = True) -> bool:
    """Whether a text (a clause with the clauses it goes on about) names the event; `ranged`: or, for a closing or
    an opening, writes a time range (which names what it is of no more than any time does)."""
    said = bool(next(says for e, _, says in EVENTS if e == event).search(text))
    return said or (ranged and event in ("closing", "opening") and bool(re.search(RANGE, text, re.I)))


def of_event(clause: Clause, question: str) -> bool:
    """Whether a clause names the event the question asks the time of ("check-out by 10:00 am" for being out of a
    cabin on the day one leaves, which shares no word with it)."""
    event = asked_event(question)
    return event is not None and names_event(event, f"{clause.before} {clause.text}", ranged=False)


def timed(text: str) -> set[str]:
    """The times a text writes (10:00 am, 9点)."""
    return {v for v, kinds in mentions(text) if "time" in kinds}


def other_event(reply: str, question: str, sources: list[dict]) -> list[str]:
    """An event's time asked: the reply's times that only clauses naming no such event hold, where a clause of the
    passages naming it holds a time ("9:00 pm" of "Day visitors … must leave by 9:00 pm" for a cabin's check-out,
    beside "Cabins: check-in from 3:00 pm, check-out by 10:00 am")."""
    from .clauses import clauses
    from .whole_passages import as_shown

    event = asked_event(question)
    said = timed(re.sub(r"\[\d+\]", " ", reply)) - with_hours(timed(question))
    if event is None or not said or not sources:
        return []
    found = [(c, f"{c.before} {c.text}") for c in clauses(as_shown(sources))]
    if not any(names_event(event, text) and timed(c.text) for c, text in found):
        return []
    out = []
    for value in sorted(said):
        holding = [text for c, text in found if value in with_hours(timed(c.text))]
        if holding and not any(names_event(event, text) for text in holding):
            out.append(f"(not the {event} {value})")
    return out
