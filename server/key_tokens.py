"""The key tokens of a text that a wrong answer gets wrong: numbers and times (Arabic or Chinese), Latin names."""
from __future__ import annotations

import re

CITATION = re.compile(r"\[\d+\]")
# 2,000  0.60  22:30  7.15 ; a comma only between groups of three digits
ARABIC = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?::\d{2})?(?:\.\d+)?")
DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
NUMERALS = "".join(DIGITS) + "".join(UNITS)  # the characters a Chinese numeral is written in
# Chinese numerals count only before a measure word or after 第/百分之: alone, 一 is part of too many words
# (一起, 统一, 一般) to be a number.
CHINESE = re.compile(f"(?<=第)[{NUMERALS}]+|(?<=百分之)[{NUMERALS}]+|"
                     f"[{NUMERALS}]+(?=[楼层周天号月日点时元块个次分岁年人本位张间倍折期届门种组项节课])")
# Capitalized Latin words that are not names.
COMMON = set("""The A An I It This That These Those There Here He She They We You Your Our My His Her Their Its
Yes No Not And Or But If In On At To For From By With Of As Is Are Was Were Be Each Every All Any Some
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
September October November December A1 Q A Answer Evidence Source Sources Dr Mr Mrs Ms""".split())
# English number words ("two working days"); not "one", which is mostly a pronoun.
WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
WORDS.update({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100})
WORD_NUMBER = re.compile(r"\b(" + "|".join(w for w in WORDS if w != "one") + r")\b", re.I)
# A floor written as an ordinal ("on the second floor"); "first" alone is mostly an order (the first Thursday).
ORDINALS = {w: i for i, w in enumerate("_ first second third fourth fifth sixth seventh eighth ninth tenth".split())}
ORDINAL = re.compile(r"\b(" + "|".join(list(ORDINALS)[1:]) + r")(?=\s+(?:floor|level|storey)\b)", re.I)
# Latin letters glued to Chinese count as a word's end too (种植科由Kevin周医生负责, 陈Mia).
NAME = re.compile(r"(?<![A-Za-z0-9])[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?![A-Za-z0-9])")


def chinese_number(text: str) -> int | None:
    """三 -> 3, 十五 -> 15, 二十 -> 20, 一百零五 -> 105; None when it is not a well-formed number."""
    total, digit = 0, None
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in UNITS:
            total += (1 if digit is None else digit) * UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def chinese_numeral(n: int) -> str:
    """The other way: 9 -> 九, 15 -> 十五, 20 -> 二十, 302 -> 三百零二 (below 10,000)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            out += ("零" if zero and out else "") + digits[d] + unit
            zero = False
        else:
            zero = True
    return out


def canonical(token: str) -> str:
    """2,000 -> 2000; 0.60 -> 0.6; 08:00 -> 8:00."""
    token = token.replace(",", "")
    if ":" in token:
        h, m = token.split(":", 1)
        return f"{int(h)}:{m}"
    if "." in token:
        return (f"{float(token):.6f}".rstrip("0").rstrip(".")) or "0"
    return str(int(token))


def numbers(text: str) -> set[str]:
    """Every number and time of a text, canonical: the same quantity written two ways gives one token."""
    text = CITATION.sub(" ", text)
    out = {canonical(m.group()) for m in ARABIC.finditer(text)}
    out.update(str(WORDS[m.group().lower()]) for m in WORD_NUMBER.finditer(text))
    out.update(str(ORDINALS[m.group().lower()]) for m in ORDINAL.finditer(text))
    for m in CHINESE.finditer(text):
        if m.group() in ("百", "千", "万") or text.startswith("分之", m.end()):  # 百分之多少: a percentage asked
            continue
        value = chinese_number(m.group())
        if value is not None:
            out.add(str(value))
    return out


def names(text: str) -> set[str]:
    """Capitalized Latin words that are not sentence words everyone uses: people, places, titles."""
    return {w for w in NAME.findall(CITATION.sub(" ", text)) if w not in COMMON}


# Chinese words that name something: jieba's person, place, organisation and other proper names, and nouns
# that end like a department, a room or a building (胃科, 心电图室, 综合楼), but not a numeral's floor (三楼).
NAME_TAGS = ("nr", "ns", "nt", "nz")
PLACE_END = re.compile(r"(科|室|馆|中心|医院|门诊|楼|厅|部|处|站)$")
NUMERAL_WORD = re.compile(f"(^[{NUMERALS}0-9]+|[{NUMERALS}0-9][楼层号])$")


def chinese_names(text: str) -> set[str]:
    """Chinese names of a text (people, places, departments), by jieba's parts of speech."""
    if not re.search(r"[\u4e00-\u9fff]", text):
        return set()
    import jieba.posseg

    out = set()
    for w in jieba.posseg.cut(CITATION.sub(" ", text)):
        word = w.word.strip()
        if len(word) < 2 or NUMERAL_WORD.match(word) or not re.search(r"[\u4e00-\u9fff]", word):
            continue
        end = PLACE_END.search(word)
        if w.flag.startswith(NAME_TAGS) or (w.flag.startswith("n") and end and end.start() > 0):
            out.add(word)
    return out


RUN = re.compile(r"[0-9][0-9,.:]*")  # a number as it is written: 2,000  0.60  13:30


def number_forms(text: str) -> frozenset[str]:
    """Every number of `text` in the forms a reply may write it:
    as written, without its commas, canonical, a time's hour.

    Chinese numerals and English number words count by value (三楼 gives 3, "two days" gives 2); a citation [n] is none.
    """
    text = CITATION.sub(" ", text)
    out = set()
    for m in RUN.finditer(text):
        raw = m.group().rstrip(",.:")
        out |= {raw, raw.replace(",", "")}
    return frozenset(out | with_hours(numbers(text)))


def with_hours(found: set[str]) -> set[str]:
    """A time 20:00 also gives "20" and "8" (晚上8点, 8 pm); 8:30 gives "8"."""
    out = set(found)
    for t in found:
        if ":" in t:
            h = int(t.split(":", 1)[0])
            out |= {str(h), str(h % 12 or 12)}
    return out
