"""A date a question states (6月20号) and the date ranges clauses name (6月15日至7月1日, 6月15日前, 7月1日以后): the
clause whose range holds the date is the one for it (a refund's share by when one withdraws)."""
from __future__ import annotations

import re

DAY = r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"
ASKED = re.compile(DAY)
BETWEEN = re.compile(DAY + r"\s*(?:至|到|-|–|—|~|～)\s*(?:" + DAY + r"|(\d{1,2})\s*[日号])")
BEFORE = re.compile(DAY + r"\s*(?:前|以前|之前)")
AFTER = re.compile(DAY + r"\s*(?:后|以后|之后|起)")


def _day(month: str, day: str) -> int:
    return int(month) * 100 + int(day)


def asked(question: str) -> int | None:
    """The one date the question states, as month * 100 + day; None where it states none or several."""
    found = {_day(*m.groups()) for m in ASKED.finditer(question)}
    return found.pop() if len(found) == 1 else None


def holds(date: int, text: str) -> bool:
    """Whether the text names a date range that holds the date (its ends in: 6月15日至7月1日 holds 6月20日)."""
    for m in BETWEEN.finditer(text):
        start = _day(m.group(1), m.group(2))
        end = _day(m.group(3), m.group(4)) if m.group(3) else _day(m.group(1), m.group(5))
        if start <= date <= end:
            return True
    # 6月15日前 leaves out 6月15日 itself; 7月1日以后 takes it in.
    return (any(date < _day(*m.groups()) for m in BEFORE.finditer(text)) or
            any(date >= _day(*m.groups()) for m in AFTER.finditer(text)))


def names_range(text: str) -> bool:
    """Whether the text names any date range (held or not)."""
    return bool(BETWEEN.search(text) or BEFORE.search(text) or AFTER.search(text))
