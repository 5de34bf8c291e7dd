"""A table row whose label cell lists alternatives and whose value cell lists as many values, in order
("清洗（挂机 / 柜机） | 80元 / 120元", "Ticket (adult/child) | £28 / £22"): the alternative the question names picks
its value, written with its label ("清洗（柜机）：120元").

heldout8's 柜机 cleaning was answered "80元 / 120元" (the 挂机's first), and its 滚筒 motor's 180元 / 140元 likewise.
"""
from __future__ import annotations

import re

from .clauses import words_of
from .keyword import CJK

# Alternatives in brackets ("清洗（挂机 / 柜机）", "Ticket (adult/child)"), or a whole cell of them ("adult/child").
BRACKETED = re.compile(r"[（(]([^（）()]+)[）)]")
SPLIT = re.compile(r"\s*[/／、]\s*")


def alternatives(label: str) -> tuple[str, list[str]]:
    """(the label's stem, its alternatives) where the cell lists two or more; (label, []) where it lists none."""
    for m in BRACKETED.finditer(label):
        alts = SPLIT.split(m.group(1).strip())
        if len(alts) > 1 and all(alts):
            return label[:m.start()].strip(), alts
    alts = SPLIT.split(label.strip())
    return ("", alts) if len(alts) > 1 and all(alts) else (label, [])


def named(alt: str, question: str) -> bool:
    """Whether the question names an alternative: its Chinese whole, or its English words all."""
    if CJK.search(alt):
        return alt in question
    own = {w for w in words_of(alt) if len(w) > 1}
    return bool(own) and own <= words_of(question)


def pick(question: str, cells: list[str], value: str) -> tuple[str, str] | None:
    """(the label cell written with the alternative the question names, its value) where one cell of the row lists
    as many alternatives as `value` lists values and the question names exactly one of them; else None."""
    values = SPLIT.split(value.strip())
    # Each a value of its own: "59元/天" is one price per day, not 59元 or 天 (tests/test_reply_document.py).
    if len(values) < 2 or not all(re.search(r"\d", v) for v in values):
        return None
    for cell in cells:
        stem, alts = alternatives(cell)
        if len(alts) != len(values) or cell == value:
            continue
        hit = [i for i, a in enumerate(alts) if named(a, question)]
        if len(hit) == 1:
            alt = alts[hit[0]]
            said = (f"{stem}（{alt}）" if CJK.search(stem) else f"{stem} ({alt})") if stem else alt
            return said, values[hit[0]]
    return None


def row_cells(row: str) -> list[str]:
    """A row's cells as the clause keeps its text ("空调 | 清洗（挂机 / 柜机） | 80元 / 120元 |")."""
    return [c.strip() for c in row.strip().strip("|").split("|") if c.strip()]


def paired_read(question: str, head: str, row: str, value: str) -> str | None:
    """A row's paired cell as a person reads it for the question ("空调 | 清洗（柜机）：120元"); None where the row
    pairs no alternatives with the value's or the question names none of them."""
    chosen = pick(question, row_cells(row), value)
    if chosen is None:
        return None
    label, said = chosen
    colon = "：" if CJK.search(label) else ": "
    return f"{head} | {label}{colon}{said}" if head and head != label else f"{label}{colon}{said}"


def unpicked(reply: str, question: str) -> list[str]:
    """A reply quoting a paired row's values all ("清洗（挂机 / 柜机） | 80元 / 120元") where the question names one
    alternative (柜机): it leaves the asker to pick, and reads first as the first one's."""
    for line in reply.splitlines():
        cells = row_cells(line) if "|" in line else []
        if any(pick(question, cells, c) for c in cells):
            return ["(paired values unpicked)"]
    return []
