"""Weekdays as values (周一, 星期五, Monday, 周一至周五, Tuesday to Sunday, 工作日, weekends), compared like numbers.

A day is "mon".."sun", a range "mon-fri": 周一至周五, Monday to Friday, weekdays and 工作日 are one value, so a
reply may write it in either language, and a reply naming another day than the evidence is caught.
"""
from __future__ import annotations

import re

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHINESE_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
ENGLISH_DAY = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_ZH = r"(?:周|星期|礼拜)([一二三四五六日天])"
_EN = r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b"
_DAY = f"(?:{_ZH}|{_EN})"
# 周一至周五, 周一到周日, 周一~周五, Monday to Friday, Tuesday through Sunday, Monday-Friday.
RANGE = re.compile(f"{_DAY}\\s*(?:至|到|~|～|-|–|—|\\bto\\b|\\bthrough\\b|\\buntil\\b|\\btill\\b)\\s*{_DAY}", re.I)
DAY = re.compile(_DAY, re.I)
# Named spans: weekdays / 工作日 are Monday to Friday, 周末 / weekends Saturday and Sunday.
SPANS = ((re.compile(r"工作日|\bweekdays?\b", re.I), (0, 4)), (re.compile(r"周末|双休日|\bweekends?\b", re.I), (5, 6)))
# Anywhere a day or a span of days is written (where a clause's values start).
ANY = re.compile(f"{_DAY}|工作日|周末|双休日|\\bweekdays?\\b|\\bweekends?\\b", re.I)
# A count, not a day: 一周三次, 每周三天, 两周一次 (第七周 and 十八周 never match: no day follows their 周).
NOT_DAY = re.compile(r"[次天回遍节课个]")


def _index(m: re.Match, offset: int = 0) -> int:
    zh, en = m.group(1 + offset), m.group(2 + offset)
    return CHINESE_DAY[zh] if zh else ENGLISH_DAY[en.lower()]


def _value(first: int, last: int) -> str:
    return DAYS[first] if first == last else f"{DAYS[first]}-{DAYS[last]}"


def weekdays(text: str) -> set[str]:
    """The days and day ranges a text names: {"mon-fri", "sat"} for "周一至周五 ..., 周六 ..."."""
    out, taken = set(), []
    for m in RANGE.finditer(text):
        out.add(_value(_index(m), _index(m, 2)))
        taken.append(m.span())
    for pattern, (first, last) in SPANS:
        for m in pattern.finditer(text):
            out.add(_value(first, last))
    for m in DAY.finditer(text):
        if any(a <= m.start() < b for a, b in taken) or NOT_DAY.match(text, m.end()):
            continue
        out.add(_value(_index(m), _index(m)))
    return out


def within(day: str, backed: set[str]) -> bool:
    """Whether a day (or range) is one of the backed ones, or one day inside a backed range (周三 in 周一至周五).

    A range must be the evidence's own, or each of its days said as a day of its own: "Monday to Friday" for "Monday
    to Saturday" says Saturday is closed, "Tuesday to Sunday" for "Tuesday to Saturday" says Sunday is; 周六、周日：
    9:30–17:00 is the library's 周末 (weekend).
    """
    if day in backed:
        return True
    if "-" in day:
        first, _, last = day.partition("-")
        return all(d in backed for d in DAYS[DAYS.index(first):DAYS.index(last) + 1])
    for b in backed:
        a, _, z = b.partition("-")
        if DAYS.index(a) <= DAYS.index(day) <= DAYS.index(z or a):
            return True
    return False


def same_day(question: str, text: str) -> bool:
    """Whether the text names a day the question names in any words (礼拜天 asked, 周日 said) or a range holding it."""
    asked = weekdays(question)
    said = weekdays(text)
    return bool(asked and said) and any(within(d, said) for d in asked)


def day_words(question: str) -> str:
    """The question's text that names days (礼拜天, on Sundays): its words match a sentence naming the day otherwise."""
    return " ".join(m.group() for m in ANY.finditer(question))
