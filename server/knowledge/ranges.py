"""A quantity a question states (a child 一米三 tall, a 28寸 suitcase, a 12 year old) and the ranges clauses name
(1.2-1.4米, 20 寸以上至 28 寸, Junior (7–15)): the clause whose range holds the quantity is the one for it."""
from __future__ import annotations

import re

from ..key_tokens import chinese_number

NUM = r"(?<![\d:.])(\d+(?:\.\d+)?)(?![\d:])"
# Units by what they measure, with the factor to a common one (metres, inches, years, kilograms).
UNITS = (("age", r"周岁|岁|years?[- ]old|yrs?[- ]old", 1.0), ("length", r"厘米|公分|cm\b", 0.01),
         ("length", r"米|m\b", 1.0), ("size", r"英寸|寸|inch(?:es)?|\"", 1.0),
         ("weight", r"公斤|kg\b", 1.0), ("weight", r"斤", 0.5))
UNIT = "|".join(f"(?:{p})" for _, p, _ in UNITS)
ZH = "一二两三四五六七八九十"
# 一米三 is 1.3 m and 1米35 is 1.35 m, as heights are said aloud.
SPOKEN_HEIGHT = re.compile(f"([{ZH}\\d])米([{ZH}\\d]{{1,2}})(?![{ZH}\\d]*(?:米|厘|公分))")
ASKED = re.compile(f"{NUM}\\s*-?\\s*({UNIT})|([{ZH}]+)多?\\s*(周岁|岁|米|寸|公斤)|"  # 三十多公斤: 30 and more
                   r"\b(?:i'?m|i am|aged?|(?:son|daughter|child|kid|boy|girl) is)\s+(\d{1,3})\b", re.I)
# A range: both ends held (7–15, 1.2-1.4米, 20 寸以上至 28 寸: its start is above 20, so 20 is not in it).
BETWEEN = re.compile(f"{NUM}\\s*({UNIT})?\\s*(以上)?\\s*(?:-|–|—|~|～|至|到|to)\\s*{NUM}\\s*({UNIT})?", re.I)
# An open range: at least (16+, 65 and over, 及以上, 以上) or at most (6 and under, 20 寸及以下, 以下, under 12).
AT_LEAST = re.compile(f"{NUM}\\s*({UNIT})?\\s*"
                      r"(\+|and (?:over|older|above|up)|or (?:older|over|more)|及以上|或以上|以上)"
                      r"(?!\s*(?:至|到|-|–|~))", re.I)
AT_MOST = re.compile(f"{NUM}\\s*({UNIT})?\\s*(and (?:under|younger|below)|or (?:under|younger|less)|及以下|以下|以内)",
                     re.I)
UNDER = re.compile(f"(?:under|below|younger than)\\s+{NUM}\\s*({UNIT})?", re.I)
OVER = re.compile(f"(?:over|above|older than)\\s+{NUM}\\s*({UNIT})?", re.I)


def _unit(text: str | None) -> tuple[str, float] | None:
    for what, pattern, factor in UNITS:
        if text and re.fullmatch(pattern, text.strip(), re.I):
            return what, factor
    return None


def number(text: str) -> float | None:
    """A number written in digits (8, 8.5) or Chinese (八, 两, 三十); None for anything else."""
    if text.replace(".", "", 1).isdigit():
        return float(text)
    n = chinese_number(text)
    return float(n) if n is not None else None


def asked(question: str) -> tuple[str, float] | None:
    """The quantity the question states, as (what it measures, value in the common unit); None where it states
    none, or several."""
    found = set()
    for m in SPOKEN_HEIGHT.finditer(question):
        whole, tenths = number(m.group(1)), number(m.group(2))
        if whole is not None and tenths is not None:
            found.add(("length", whole + tenths / (10 if tenths < 10 else 100)))
    spoken = " ".join(m.group() for m in SPOKEN_HEIGHT.finditer(question))
    for m in ASKED.finditer(question):
        if m.group(0) in spoken or (m.group(3) and f"{m.group(3)}{m.group(4)}" in spoken):
            continue
        if m.group(5):
            found.add(("age", float(m.group(5))))
            continue
        value = number(m.group(1) or m.group(3))
        unit = _unit(m.group(2) or m.group(4))
        if value is not None and unit:
            found.add((unit[0], value * unit[1]))
    return found.pop() if len(found) == 1 else None


def holds(quantity: tuple[str, float], clause: str, careful: bool = False) -> bool:
    """Whether the clause names a range of the quantity's measure that holds it (a range with no unit, "Junior
    (7–15)", counts for an age, as ages are written bare). careful: the text writes 及以下 or 及以上 where a bound is
    in its range, so its bare 以上 and 以下 leave theirs out (28 寸 is not in 28 寸以上 beside 20 寸以上至 28 寸)."""
    what, value = quantity

    def fits(unit: str | None) -> float | None:
        u = _unit(unit)
        if u is None:
            return 1.0 if what == "age" else None
        return u[1] if u[0] == what else None

    for m in BETWEEN.finditer(clause):
        factor = fits(m.group(5) or m.group(2))
        if factor is not None:
            low, high = float(m.group(1)) * factor, float(m.group(4)) * factor
            if (low < value if m.group(3) else low <= value) and value <= high:
                return True
    for pattern, at_least in ((AT_LEAST, True), (AT_MOST, False)):
        for m in pattern.finditer(clause):
            factor = fits(m.group(2))
            if factor is None:
                continue
            bound = float(m.group(1)) * factor
            strict = careful and m.group(3) in ("以上", "以下")  # alone, 16 岁以上 includes 16
            if (value > bound if at_least else value < bound) or (value == bound and not strict):
                return True
    for pattern, at_least in ((OVER, True), (UNDER, False)):
        for m in pattern.finditer(clause):
            factor = fits(m.group(2))
            if factor is not None and (value > float(m.group(1)) * factor if at_least
                                       else value < float(m.group(1)) * factor):
                return True
    return False


def careful(text: str) -> bool:
    """Whether a text writes 及以上 or 及以下 (then its bare 以上 and 以下 leave their bound out)."""
    return "及以上" in text or "及以下" in text


def names_range(quantity: tuple[str, float], clause: str) -> bool:
    """Whether the clause names any range of the quantity's measure (held or not)."""
    what = quantity[0]
    for pattern, group in ((BETWEEN, (5, 2)), (AT_LEAST, (2,)), (AT_MOST, (2,)), (UNDER, (2,)), (OVER, (2,))):
        for m in pattern.finditer(clause):
            unit = next((m.group(g) for g in group if m.group(g)), None)
            u = _unit(unit)
            if (u is None and what == "age") or (u and u[0] == what):
                return True
    return False
