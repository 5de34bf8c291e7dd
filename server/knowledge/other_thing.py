"""A reply's clause about another thing than the one asked: a value of another kind (a camp's dates for how much
of its fee comes back), a sibling of the asked thing (e-bikes for a push-bike), another row of the table whose row
the question names (pay-as-you-go's unlock fee for a monthly pass holder).

heldout7's composed replies each held a value of the evidence, from the right document, about something beside
what was asked; no value check can see that, only what the clause names against what the question names.
"""
from __future__ import annotations

import re

from ..key_tokens import numbers
from .answer_kind import has_kind, mentions
from .clauses import words_of
from .evidence import TABLE_ROW, TABLE_RULE, cells, language

# A value of one kind answers a question asking another: a share of a fee is an amount of it (退多少 -> 50%).
ANSWERS = {"money": {"money", "percent"}}
# A modifier and the noun it names a kind of: "push-bike", "e-bikes", "pedal bikes", "lift ticket".
# Read overlapping: "ordinary push-bike trip" names a push-bike (and a bike trip).
COMPOUND = re.compile(r"\b([a-z]+)(?=(?:-|\s)([a-z]{3,})\b)", re.I)
# Words before a thing's name that say nothing of which thing it is (a, my, per, how much is a ...).
PLAIN = set("the a an for of my your our their his her its this that these those one two per each much many any "
            "some what which how who whom is are was were be do does did can could will would should may to in on at "
            "by with from and or if i'm i we you it's there get much cost costs price".split()) | set(
    # Verbs before a thing ("to hire kayaks", "Who teaches yoga"): what is done, not which thing.
    "teach teaches lead leads rent rents hire book buy get take bring pay charge make need want go call use "
    "borrow park leave keep join learn send open close start run".split())
# Words before a noun that say nothing of which kind of it is (an ordinary bike is any bike).
GENERIC = set("ordinary normal regular usual standard same other another every all no not only just also still "
              "already more most less least long".split())
# Units are no things of a kind: "a day pass" and "the first day" name no two days. Nor are words of place or
# time between two words ("how early before the boat leaves", "20 minutes before departure": no two "before"s).
UNITS = set("minute minutes hour hours day days week weeks month months year years time times before after across "
            "over under until till through into onto about around between behind beside near since during within "
            "without against along among via than ago early late".split())


def of_another_kind(reply: str, question: str, kind: str | None) -> list[str]:
    """A value question answered with values, none of the asked kind: a refund asked (营费还能退多少), the camp's
    dates said; a length of time asked (多少天内退), a date said."""
    if not kind:
        return []
    reply = re.sub(r"\[\d+\]", " ", reply)
    said = [(v, kinds) for v, kinds in mentions(reply) if v not in numbers(question)]
    if not said or any(has_kind(k, reply) for k in ANSWERS.get(kind, {kind})):
        return []  # (a date's value may be a weekday: "every Saturday at 10:00" for which day)
    return [f"(no {kind})"] if any(kinds for _, kinds in said) else []


def _compounds(text: str) -> dict[str, set[str]]:
    """Each noun a text names a kind of, with the modifiers it names it by ({"bike": {"e", "pedal"}})."""
    found: dict[str, set[str]] = {}
    for m in COMPOUND.finditer(text):
        modifier, noun = m.group(1).lower(), m.group(2).lower()
        if {modifier, noun} & (PLAIN | GENERIC | UNITS):
            continue
        found.setdefault(noun.removesuffix("s") if len(noun) > 3 else noun, set()).add(modifier)
    return found


def sibling(clause: str, question: str, kind: str | None) -> list[str]:
    """An English clause that names a kind of the noun the question names another kind of, and not the question's:
    "30 minutes on e-bikes" for an ordinary push-bike's trip, "single adult ticket" for a lift ticket."""
    if language(question) != "en" or language(clause) != "en" or not kind:
        return []  # a place asked: "Self-service laundry: Room 312" is where the coin laundry is, in other words
    asked, said = _compounds(question), _compounds(clause)
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", clause)}
    for noun, modifiers in said.items():
        theirs = asked.get(noun, set())
        if theirs and not theirs & modifiers and not theirs & words and not modifiers & words_of(question):
            return [f"({'/'.join(sorted(modifiers))} {noun}, not {'/'.join(sorted(theirs))})"]
    return []


def other_row(clause: str, question: str, sources: list[dict]) -> list[str]:
    """A table cell whose row the question does not name, in a table one of whose rows it names by every word of
    that row's first cell ("Monthly Pass" for "I already have a monthly pass"): the cell is another row's."""
    asked = words_of(question)
    for s in sources:
        lines = s.get("text", "").splitlines()
        # Not the header: its first cell labels the first column ("Plan"), it is no row of the table.
        rows = [cells(line) for line, after in zip(lines, lines[1:] + [""]) if TABLE_ROW.match(line)
                and not TABLE_RULE.match(line) and not TABLE_RULE.match(after)]
        rows = [r for r in rows if len(r) > 1 and words_of(r[0])]
        quoted = [words_of(r[0]) for r in rows if r[0] in clause and any(c and c in clause for c in r[1:])]
        if quoted and any(words_of(r[0]) <= asked for r in rows) and not any(h <= asked for h in quoted):
            return ["(another row)"]
    return []
