"""Conditions a question carries and a clause names: a person's age (I'm 70, 8 岁), being a child, a child's
height (一米三) and the hour it happens at (半夜一点).

"I'm 70 years old. Do I get any discount on tuition?" is answered by "Seniors aged 65 and over get 50% off
tuition" because 70 is 65 or over; "Can I bring my 8-year-old daughter?" by "Children are not allowed"; "my child
is 1.3 m tall" by "1.2-1.4米儿童半价" and not by the adults' price beside it; "at 1 am" by the night shift's
"(24:00–7:00)" line and not by the manager's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..key_tokens import chinese_number

# A person's own age in a question: "I'm 70", "70 years old", "my 8-year-old daughter", 我70岁, 孩子8岁.
QUESTION_AGE = re.compile(r"(\d{1,3})\s*(?:-|\s)?years?(?:-|\s)?old|\b(?:i'?m|i am|aged?)\s+(\d{1,3})\b(?![.,]\d)|"
                          r"(\d{1,3})\s*周?岁", re.I)
# What a clause allows by age: 65 and over, 16 or older, 18+, 16 岁以上, 满 18 周岁 (a least age); under 12,
# 12 岁以下 (a greatest).
AT_LEAST = re.compile(r"(\d{1,3})\s*(?:\+|and (?:over|older|above|up)|or (?:older|over|above)|"
                      r"(?:周?岁)?\s*(?:以上|及以上|或以上))|满\s*(\d{1,3})\s*周?岁|"
                      r"(?:over|above) (?:the age of )?(\d{1,3})", re.I)
BELOW = re.compile(r"(?:under|below|younger than)\s+(?:the age of\s+)?(\d{1,3})|(\d{1,3})\s*周?岁\s*(?:以下|以内)|"
                   r"不满\s*(\d{1,3})\s*周?岁", re.I)
CHILD = re.compile(r"\b(child|children|kids?|daughters?|sons?|bab(?:y|ies)|toddlers?|minors?|infants?)\b|"
                   r"孩子|小孩|儿童|女儿|儿子|宝宝|小朋友|幼儿|未成年", re.I)
# A question's words that only state its condition ("8-year-old", 岁): matched as a condition, not as a topic.
WORDS = re.compile(r"\b(years?|old|aged?)\b|周?岁", re.I)


# A height in a question, in metres: 一米三 (1.3), 1米3, 1.3米, 1.3 m, 130厘米, 130 cm.
ZH_DIGIT = "一二两三四五六七八九"
QUESTION_HEIGHT = re.compile(rf"([一两1])\s*米\s*([{ZH_DIGIT}\d])(?![\d.]|\s*[岁元])|(\d\.\d+)\s*(?:米|m\b)|"
                             r"(1\d\d)\s*(?:厘米|公分|cm\b)", re.I)
# What a clause allows by height: 1.2米以下, 1.2-1.4米, 1.4米以上 (and "under 1.2 m").
HEIGHT_RANGE = re.compile(r"(\d\.\d+)\s*[-–—~至到]\s*(\d\.\d+)\s*(?:米|m\b)", re.I)
HEIGHT_BELOW = re.compile(r"(\d\.\d+)\s*(?:米|m)\s*(?:以下|以内)|(?:under|below)\s+(\d\.\d+)\s*m\b", re.I)
HEIGHT_ABOVE = re.compile(r"(\d\.\d+)\s*(?:米|m)\s*(?:以上|及以上)|(?:over|above)\s+(\d\.\d+)\s*m\b", re.I)
# The hour a question happens at: 半夜一点, 凌晨2点, 晚上11点, at 1 am, 11pm, at 23:00.
QUESTION_HOUR = re.compile(rf"(半夜|深夜|凌晨|夜里|晚上|下午|早上|上午)?\s*([{ZH_DIGIT}十]+|\d{{1,2}})\s*点|"
                           r"\b(?:at\s+)?(\d{1,2})\s*(am|pm)\b|\bat\s+(\d{1,2}):(\d\d)\b", re.I)
# An hour range a clause holds a thing for: (22:00-次日8:00), 24:00–7:00, 8:00 to 22:00.
HOURS = re.compile(r"(\d{1,2}):(\d\d)\s*(?:[-–—~至到]|to)\s*(?:次日|next day\s*)?(\d{1,2}):(\d\d)", re.I)


# How many people come, in a question: 十个人, 10人, 10 people, a group of 10. One person is a price's unit
# (一个人多少钱), not a party.
QUESTION_PARTY = re.compile(rf"([{ZH_DIGIT}十\d]+)\s*(?:个|位)?人(?![次均民])|(\d+)\s*(?:people|persons|guests)\b|"
                            r"\b(?:group|party|team) of (\d+)", re.I)
# A room's or a car's capacity in a clause: 6人, 40 people; not a least (3人及以上) nor a range (1-2人).
CAPACITY = re.compile(r"(?<![\d\-–~至到])(\d+)\s*(?:人|people|persons|guests|seats)"
                      r"(?!\s*(?:及|以上|或以上|or more|and over|\+))", re.I)


@dataclass
class Condition:
    age: int | None
    child: bool
    height: float | None = None  # metres
    hour: float | None = None  # 0-24
    party: int | None = None  # how many people come, two or more

    def __bool__(self) -> bool:
        return (self.age is not None or self.child or self.height is not None or self.hour is not None or
                self.party is not None)


def of_question(question: str) -> Condition:
    """The asker's age and whether they ask about a child (a daughter, 孩子): what the clause choice reads."""
    m = QUESTION_AGE.search(question)
    age = int(next(g for g in m.groups() if g)) if m else None
    return Condition(age, bool(CHILD.search(question)))


def stated(question: str) -> Condition:
    """Every condition the question states, the child's height and the hour too: what the check reads."""
    found = of_question(question)
    return Condition(found.age, found.child, _height(question), _hour(question), _party(question))


def _party(question: str) -> int | None:
    m = QUESTION_PARTY.search(question)
    n = _digit(next(g for g in m.groups() if g)) if m else None
    return n if n is not None and n > 1 else None


def capacity(clause: str) -> int | None:
    """How many people a clause's room (or car, or table) takes: 松 | 3楼302室 | 6人 | 60元 -> 6."""
    m = CAPACITY.search(clause)
    return int(m.group(1)) if m else None


def _digit(text: str) -> int | None:
    return int(text) if text.isdigit() else chinese_number(text.replace("两", "二"))


def _height(question: str) -> float | None:
    m = QUESTION_HEIGHT.search(question)
    if m is None:
        return None
    if m.group(1):  # 一米三: one metre and three tenths
        tenths = _digit(m.group(2))
        return None if tenths is None else 1 + tenths / 10
    return float(m.group(3)) if m.group(3) else int(m.group(4)) / 100


def _hour(question: str) -> float | None:
    m = QUESTION_HOUR.search(question)
    if m is None:
        return None
    if m.group(2):
        hour = _digit(m.group(2))
        if hour is None or hour > 24:
            return None
        if m.group(1) in ("晚上", "下午") and hour < 12:
            hour += 12
        return float(hour % 24 if m.group(1) in ("半夜", "深夜", "凌晨", "夜里") and hour == 12 else hour)
    if m.group(3):
        hour = int(m.group(3)) % 12 + (12 if m.group(4).lower() == "pm" else 0)
        return float(hour)
    return int(m.group(5)) + int(m.group(6)) / 60


def _first(m: re.Match | None) -> int | None:
    return int(next(g for g in m.groups() if g)) if m else None


def applies(condition: Condition, clause: str) -> bool | None:
    """Whether the clause names the question's condition and the asker meets it: True (it applies), False (it
    names it and the asker does not meet it: 60 against 65 and over), None (it does not name it)."""
    named = False
    if condition.age is not None:
        least, below = _first(AT_LEAST.search(clause)), _first(BELOW.search(clause))
        if least is not None or below is not None:
            named = True
            if (least is not None and condition.age < least) or (below is not None and condition.age >= below):
                return False
    if condition.child and CHILD.search(clause):
        named = True
    if condition.height is not None:
        fits = _height_fits(condition.height, clause)
        if fits is False:
            return False
        named = named or fits is True
    if condition.hour is not None:
        spans = [_span(m) for m in HOURS.finditer(clause)]
        if spans:
            if not any(_within(condition.hour, *s) for s in spans):
                return False
            named = True
    room = capacity(clause) if condition.party is not None else None
    if room is not None and condition.party is not None:
        if room < condition.party:
            return False
        named = True
    return True if named else None


def roomier(condition: Condition, clause: str, others: list[str]) -> bool:
    """Whether another clause's room also takes the party and is smaller: the clause's (40人 for ten) is not the one
    asked for ("能坐得下的会议室" is the smallest that does)."""
    party, room = condition.party, capacity(clause)
    return party is not None and room is not None and any(party <= c < room for c in map(capacity, others)
                                                           if c is not None)


def _height_fits(height: float, clause: str) -> bool | None:
    """Whether a clause's height rule takes in the height (None: it states none)."""
    m = HEIGHT_RANGE.search(clause)
    if m:
        return float(m.group(1)) <= height < float(m.group(2)) or height == float(m.group(2))
    below, above = _first_float(HEIGHT_BELOW.search(clause)), _first_float(HEIGHT_ABOVE.search(clause))
    if below is None and above is None:
        return None
    return (below is None or height < below) and (above is None or height >= above)


def _first_float(m: re.Match | None) -> float | None:
    return float(next(g for g in m.groups() if g)) if m else None


def _span(m: re.Match) -> tuple[float, float]:
    return (int(m.group(1)) + int(m.group(2)) / 60) % 24, (int(m.group(3)) + int(m.group(4)) / 60) % 24


def _within(hour: float, start: float, end: float) -> bool:
    """Whether an hour falls in a span that may run past midnight (22:00 to 8:00 takes in 1:00)."""
    return start <= hour < end if start < end else hour >= start or hour < end
