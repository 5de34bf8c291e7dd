"""What in a question narrows the clauses that may answer it, beyond its words: a code of a series it names (T1, not
T2), a quantity a clause's range holds (a 12 year old: "Junior (7–15)"), a how-far-ahead that asks a length of time."""
from __future__ import annotations

import re
from typing import Callable

from ..key_tokens import numbers
from . import dated, ranges
from .answer_kind import kind_of
from .clauses import Clause, clauses
from .rivals import Candidates, not_siblings, series_codes, values_of

# A question asking how far ahead something must be done asks a length of time.
AHEAD = re.compile(r"\bhow (?:early|soon|far (?:ahead|in advance)|much notice)\b|\bhow long before\b", re.I)

def asked_kind(question: str) -> str | None:
    """The kind of value asked: answer_kind's, or a length of time where it asks how far ahead ("How early do we
    have to book?" was answered from a clause's "20% off" beside "Book at least 7 days ahead")."""
    return kind_of(question) or ("duration" if AHEAD.search(question) else None)


def _values(kind: str | None, text: str, dating: bool) -> frozenset:
    """A clause's values of the asked kind; for a date's clause a share answers an amount too (退多少: 退还50%)."""
    found = values_of(kind, text)
    return found or (values_of("percent", text) if dating and kind == "money" else frozenset())


def coded(question: str, found: list[Clause]) -> list[Clause]:
    """The clauses less those naming another code of a series the question names one of (T2 for T1, Gate B4 for
    B5), where some clause names the asked one: 酒店 ⇄ T1航站楼 | 每30分钟一班 answers 去T1航站楼多久一班, not T2's."""
    asked = series_codes(question)
    if not asked:
        return found
    named = {id(c): series_codes(f"{c.before} {c.head} {c.text}") for c in found}
    return not_siblings(asked, found, named)


def in_range(question: str, shown: str, found: Candidates, about: Callable[[Clause], bool]) -> list[Clause]:
    """The clauses whose range holds the quantity the question states (a child 一米三 tall: 1.2-1.4米儿童半价（34元）;
    a 12 year old: "Junior (7–15): $38"), where they hold one value of the kind asked and share the source of the
    clause most about the question, or are about it themselves; none elsewhere."""
    quantity = ranges.asked(question)
    date = dated.asked(question) if quantity is None else None
    if (quantity is None and date is None) or not found.answer:
        return []
    top = max(c.weight for c in found.answer)
    lead = next(c for c in found.answer if c.weight == top)
    careful = ranges.careful(shown)
    own = frozenset(numbers(question))
    every = clauses(shown)
    whole: dict[tuple[int, int], str] = {}  # each sentence's text: a date's range is often a clause of its own
    for c in every:
        whole[(c.n, c.sentence)] = f"{whole.get((c.n, c.sentence), '')}，{c.before} {c.text}"
    held = []
    for c in every:
        c.values = _values(found.kind, c.text, date is not None) - own
        holding = (ranges.holds(quantity, f"{c.before} {c.text}", careful) if quantity is not None else
                   date is not None and dated.holds(date, whole[(c.n, c.sentence)]))
        if c.values and holding and (c.n == lead.n or about(c)):
            held.append(c)
    held = coded(question, held)
    if lead.row:  # a table's row named by the question: its cells alone
        held = [c for c in held if c.row == lead.row] or held
    if len({c.values for c in held}) != 1:
        return []
    for c in held:
        c.weight = top
    return held
