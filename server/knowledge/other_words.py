"""What a question says in other words than its document: a verb and its object said apart (洗个牙: 洗牙), months
for their season (七八月份: 夏季, summer), words of the same meaning (当班: 值班, from CC-CEDICT: bilingual.alike)."""
from __future__ import annotations

import re
from typing import Iterable

from ..key_tokens import chinese_number
from .bilingual import alike, whole_words
from .keyword import CJK

# A verb and its object with a measure or an aspect between (洗个牙, 洗一次全口牙, 看了牙, 补一下牙): the object is one
# of the next few characters. The joined word counts only where the library holds it (jieba's dictionary has no 洗牙).
APART = re.compile(r"([\u4e00-\u9fff])(?:个|了|过|一次|一下|一回|次)([\u4e00-\u9fff]{1,3})")
SEASONS = ((3, 4, 5), (6, 7, 8), (9, 10, 11), (12, 1, 2))
SEASON_WORDS = ("春季 春天 spring", "夏季 夏天 summer", "秋季 秋天 autumn fall", "冬季 冬天 winter")
# Months said without a day (七八月份, 7、8月, in July and August): a time of year, not a date (6月20号 is a date).
_NUM = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
_AND = r"\s*[、,，和到至\-~～]\s*"
MONTHS_ZH = re.compile(rf"({_NUM}(?:{_AND}{_NUM})*)\s*月(?!\s*(?:\d|[一二三四五六七八九十]+\s*[日号]))")
MONTH_NAMES = ("January February March April May June July August September October November December").split()
# Capitalised, and May only after a word that makes it a month ("May I ask" is none).
MONTHS_EN = re.compile(r"\b(" + "|".join(n for n in MONTH_NAMES if n != "May")
                       + r"|(?<=\b(?:in|of|to) )May|(?<=\b(?:early|until|since) )May|(?<=\blate )May)\b(?!\s*\d)")


def joined(question: str, known: Iterable[str]) -> list[str]:
    """The words a question says apart (洗个牙) as the known words (a library's, a passage's) write them: 洗牙."""
    have = set(known)
    out = []
    for m in APART.finditer(question):
        for ch in m.group(2):
            if m.group(1) + ch in have:
                out.append(m.group(1) + ch)
    return out


def months(question: str) -> set[int]:
    """The months a question names as a time of year: 七八月份 -> {7, 8}; "in July" -> {7}; 6月20号 -> none."""
    out: set[int] = set()
    for m in MONTHS_ZH.finditer(question):
        for part in re.split(_AND, m.group(1)):
            if part.isdigit():
                out.add(int(part))
            elif "十" in part:
                out.add(chinese_number(part) or 0)
            else:  # 七八: two months said together
                out.update(chinese_number(c) or 0 for c in part)
    out.update(MONTH_NAMES.index(m.group(1)) + 1 for m in MONTHS_EN.finditer(question))
    return {n for n in out if 1 <= n <= 12}


def season(question: str) -> list[str]:
    """The words of the season that holds every month the question names (七八月份: 夏季 夏天 summer), or none."""
    named = months(question)
    for held, said in zip(SEASONS, SEASON_WORDS):
        if named and named <= set(held):
            return said.split()
    return []


def also(question: str, known: Iterable[str]) -> list[str]:
    """Words a question means beside its own, of the known words (a library's, a passage's): its season, and what it
    says apart (a word no text holds would only lower the share of the question a passage holds)."""
    have = set(known)
    return [w for w in season(question) if w in have] + joined(question, have)


def held_otherwise(asked: Iterable[str], text_words: Iterable[str]) -> set[str]:
    """The asked Chinese words a text does not hold while it holds a word of the same meaning (当班 by 值班); not the
    parts jieba also cut a word into (夏令营's 夏令 "summer" is no 夏季)."""
    have = set(text_words)
    return {w for w in whole_words(asked) if w not in have and CJK.fullmatch(w) and alike(w) & have}
