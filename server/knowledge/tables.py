"""A table's rows read with their header where a passage starts inside the table and another passage of the same
document holds its header (the chunker repeats a passage's last line at the next one's start)."""
from __future__ import annotations

from typing import Callable

from .clauses import Clause, words_of
from .evidence import TABLE_ROW, TABLE_RULE, cells, labelled, table_start


def header_of(row: str, sources: list[dict], title: str) -> list[str] | None:
    """The header cells of the table a row (as written, "| a | b |") is in, from any passage of the document titled
    `title`; None where none of them holds the header above it."""
    texts = [s["text"] for s in sources if s.get("title") == title and "text" in s]
    for _ in range(len(texts) + 1):  # a row may be in a passage that starts inside the table too: follow it up
        first = None
        for text in texts:
            lines = text.split("\n")
            for i, line in enumerate(lines):
                if line.strip() != row.strip():
                    continue
                start, under_header = table_start(lines, i)
                if under_header:
                    return cells(lines[start])
                if first is None and start < i:
                    first = lines[start]  # the table's first row in this passage: look for it in another
        if first is None or first.strip() == row.strip():
            return None
        row = first
    return None


def rows(sources: list[dict], title: str) -> list[tuple[list[str], list[str], int]]:
    """(header, cells, source) of every table row of the document's passages whose header is known; each once."""
    out, seen = [], set()
    for s in sources:
        if s.get("title") != title or "text" not in s:
            continue
        for line in s["text"].split("\n"):
            if not TABLE_ROW.match(line) or TABLE_RULE.match(line) or line.strip() in seen:
                continue
            header = header_of(line, sources, title)
            row = cells(line)
            if header and len(header) == len(row) and row != header:
                seen.add(line.strip())
                out.append((header, row, s["n"]))
    return out


def labelled_row(header: list[str], row: list[str]) -> str:
    """A row as evidence.labelled writes one: "Monthly Pass | Pedal bike: $25 | E-bike: $45 | E-scooter: $60"."""
    line = "| " + " | ".join(row) + " |"
    return labelled(line, "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), line]))


def starts_in_table(text: str) -> bool:
    """Whether a passage's first line is a table's row that is not its header (no rule under it)."""
    lines = text.split("\n")
    return bool(TABLE_ROW.match(lines[0])) and not (len(lines) > 1 and TABLE_RULE.match(lines[1]))


def headed(text: str, before: str | None) -> str:
    """A passage that starts inside a table, with the table's header and rule lines from the passage before it (the
    chunker cut "| Plan | Pedal bike | E-bike | E-scooter |" from the rows under it); any other passage as it is."""
    lines = text.split("\n")
    if not before or not starts_in_table(text):
        return text
    above = before.split("\n")
    i = len(above) - 1
    while i >= 1 and TABLE_ROW.match(above[i]):  # up the rows the passage before ends with, to the rule
        if TABLE_RULE.match(above[i]):
            header = above[i - 1]
            rule = [] if TABLE_RULE.match(lines[0]) else [above[i]]  # the passage may start at the rule itself
            return "\n".join([header, *rule, *lines]) if len(cells(header)) == len(cells(lines[0])) else text
        i -= 1
    return text


def asked_cell(question: str, found: list[Clause]) -> Clause | None:
    """The one table cell, among rival cells, whose row and column hold the most of the question's words in the
    other language (每分钟 and 电动滑板车 for "Per minute | … | E-scooter: $0.35"), its column at least one, where the
    clause choice weighed them alike (it reads a cell's words in translation no more than another's); else None."""
    from .bilingual import held_share
    from .evidence import language

    if len(found) < 2 or not all(c.row and language(c.row) != language(question) for c in found):
        return None
    asked = {w for w in words_of(question) if len(w) > 1}

    def held(text: str) -> int:
        said = words_of(text)
        return sum(held_share({w}, said) > 0 for w in asked)

    score = {id(c): held(f"{c.head} {c.before}") for c in found if held(c.before)}
    best = max(score.values(), default=0)
    named = [c for c in found if score.get(id(c)) == best]
    return named[0] if best and len({c.values for c in named}) == 1 else None


def named_column(question: str, found: list[Clause], fits: Callable[[Clause], bool]) -> Clause | None:
    """The one value, among rival cells of table rows that `fits` keeps (a row whose range holds the quantity asked),
    of the cells whose column the question names by the unit of its rate (住一晚: "每晚价格", not "入住押金") or by
    the noun it asks (押金: "入住押金"); else None."""
    from .asked_noun import asked_noun, gives
    from .rivals import rates

    if len(found) < 2 or not all(c.row for c in found):
        return None
    units, noun = rates(question), asked_noun(question)
    named = [c for c in found if c.before and (units & rates(c.before) or (noun and gives(noun, c.before)))
             and fits(c)]
    return named[0] if named and len({c.values for c in named}) == 1 else None
