"""Sums a reply must make from the evidence: a discount the asker gets off a price, a count times a unit price, a
fee plus its deposit; written out ("280元 × 0.8 = 224元"), and a written sum's numbers backed by its operands.

heldout7 asked a 70-year-old's cleaning (280元, 年满65周岁的老人…打八折: 224元) and a student's month of
e-scooters ($60, 40% off for students: $36); no clause writes either answer, and the built-in model answered the
full price, unflagged.
"""
from __future__ import annotations

import re

from ..key_tokens import WORDS, canonical, chinese_number, numbers
from . import ranges
from .answer_kind import mentions
from .clauses import CLAUSE, words_of
from .chunk import sentences
from .keyword import CJK
from .rivals import rates

# 八折 0.8, 八五折 0.85, 8折, 8.5折; a percentage off; half price.
FOLD = re.compile(r"(?<![\d.])(\d(?:\.\d)?|[一二三四五六七八九])([一二三四五六七八九五])?\s*折")
OFF = re.compile(r"(\d{1,2}(?:\.\d+)?)\s*(?:%|percent)\s*(?:off|discount)|(?:discount of|save)\s*(\d{1,2})\s*%|"
                 r"优惠\s*(\d{1,2})\s*%|减免\s*(\d{1,2})\s*%", re.I)
HALF = re.compile(r"半价|半票|half[- ]price|half (?:of )?the (?:\w+ )?(?:price|fare|fee|rate)", re.I)
# Who a discount is for, and who asks.
GROUPS = (("student", re.compile(r"学生|研究生|在读|college|student|university", re.I)),
          ("senior", re.compile(r"老人|老年|长者|退休|senior|pensioner|elderly|retired", re.I)),
          ("child", re.compile(r"儿童|孩子|小孩|小朋友|\bchild(?:ren)?\b|\bkids?\b", re.I)))
# An age said without 岁 (我妈今年七十了), and a clause's lower bound said as 年满65周岁.
SAID_AGE = re.compile(r"(?:今年|已经|都)\s*([\d一二两三四五六七八九十]+)\s*(?:多)?\s*(?:岁|周岁)?了")
FULL_AGE = re.compile(r"年满\s*(\d{1,3})\s*周?岁")
# Sixty and over counts as a senior where the clause names seniors but no age.
SENIOR_AGE = 60
# A count the question states: 两个人, 我们三个, 三晚, two adults, 3 nights.
ZH_NUM = "零一二两三四五六七八九十"
ZH_COUNT = re.compile(f"([{ZH_NUM}]+|\\d+)\\s*(?:个|位|名)?\\s*(人|大人|成人|晚|夜|天|张|小时|间)|"
                      f"我们\\s*([{ZH_NUM}]+|\\d+)\\s*(?:个|位)")
EN_COUNT = re.compile(r"\b(\d+|" + "|".join(w for w in WORDS if w not in ("zero", "one")) +
                      r")\s+(?:of us|people|persons|adults|guests|nights|days|tickets|hours)\b", re.I)
UNIT_OF = {"人": "person", "大人": "person", "成人": "person", "张": "person", "晚": "night", "夜": "night",
           "天": "day", "小时": "hour", "间": "room", "of us": "person", "people": "person", "persons": "person",
           "adults": "person", "guests": "person", "tickets": "person", "nights": "night", "days": "day",
           "hours": "hour"}
PER_PERSON = re.compile(r"每人|每位|/\s*人|一人|per (?:person|adult|head|ticket)|\beach\b|a head|每张", re.I)
ONE = re.compile(r"每|一个人|一位|一晚|\bper\b|\beach\b|\bone (?:person|night|day)\b|\ba (?:night|day|person)\b", re.I)
TOTAL = re.compile(r"一共|总共|合计|加起来|总计|in total|altogether|all in|\btotal\b", re.I)
DEPOSIT = re.compile(r"押金|定金|deposit", re.I)
# A price's parts, spelled once for money()'s prices, a written sum's operands and the price written() copies.
CURRENCY = r"[$€£¥]"
AMOUNT = r"(\d[\d,]*(?:\.\d+)?)"
MONEY_UNIT = r"元|块|dollars?|euros?|yuan|pounds?"
PRICE = re.compile(f"({CURRENCY}\\s*)?{AMOUNT}\\s*({MONEY_UNIT})?")
# A written sum: "280元 × 0.8 = 224元", "$60 × 0.6 = $36", "2 × 112元 = 224元", "1200元 + 300元 = 1500元".
OPERAND = f"{CURRENCY}?\\s*{AMOUNT}\\s*(?:{MONEY_UNIT})?"
# "200元 × 30% = 60元": a percentage the evidence states of an amount the question states.
WRITTEN = re.compile(f"{OPERAND}\\s*([×x*+])\\s*{OPERAND}(%)?\\s*=\\s*{OPERAND}")
PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*%")


def factors(text: str) -> list[tuple[float, str]]:
    """The discounts a text states: (what is paid of the price, as written): 八折 (0.8), 40% off (0.6), 半价 (0.5)."""
    out = []
    for m in FOLD.finditer(text):
        tens = ranges.number(m.group(1))
        if tens is None or not 0 < tens < 10:
            continue
        tenths = ranges.number(m.group(2)) if m.group(2) else 0
        out.append((round(tens / 10 + (tenths or 0) / 100, 4), m.group()))
    for m in OFF.finditer(text):
        off = float(next(g for g in m.groups() if g))
        out.append((round(1 - off / 100, 4), m.group()))
    out += [(0.5, m.group()) for m in HALF.finditer(text)]
    return out


def groups(text: str) -> set[str]:
    """The groups a text names (student, senior, child): who a discount is for, or who asks."""
    return {name for name, pattern in GROUPS if pattern.search(text)}


def asker_age(question: str) -> float | None:
    """The age the question states (I'm 70, 70岁, 今年七十了)."""
    found = ranges.asked(question)
    if found and found[0] == "age":
        return found[1]
    m = SAID_AGE.search(question)
    value = (int(m.group(1)) if m.group(1).isdigit() else chinese_number(m.group(1))) if m else None
    return float(value) if value else None


def applies(clause: str, question: str) -> bool:
    """Whether a discount's clause is for the asker: a group both name (students, 学生), or an age bound of the
    clause that holds the age the question states (年满65周岁, 65+)."""
    age = asker_age(question)
    bound = FULL_AGE.search(clause)
    if age is not None:
        if bound:
            return age >= float(bound.group(1))
        if ranges.names_range(("age", age), clause):
            return ranges.holds(("age", age), clause)
    asked = groups(question) | ({"senior"} if age is not None and age >= SENIOR_AGE else set())
    return bool(asked & groups(clause))


def count(question: str) -> tuple[int, str] | None:
    """(how many, of what: person, night, day, hour, room) the question states; None for one, several or none."""
    found = set()
    for m in ZH_COUNT.finditer(question):
        raw, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), "人")
        n = int(raw) if raw.isdigit() else chinese_number(raw)
        if n and n > 1:
            found.add((n, UNIT_OF[unit]))
    for m in EN_COUNT.finditer(question):
        raw = m.group(1).lower()
        n = int(raw) if raw.isdigit() else WORDS[raw]
        unit = m.group().split(None, 1)[1].lower()
        if n > 1:
            found.add((n, UNIT_OF[unit]))
    return found.pop() if len(found) == 1 else None


def unit_of(clause: str) -> str | None:
    """The unit a clause's price is per: a person, a night, a day, an hour."""
    if PER_PERSON.search(clause):
        return "person"
    units = rates(clause) & {"night", "day", "hour"}
    return units.pop() if len(units) == 1 else None


def shares(words: set[str], text: str) -> bool:
    """Whether a text has one of the words, loosely: a Chinese word's characters all in it (洗牙 in 洗一次全口牙), an
    English one as a stem of one of its words (month, monthly)."""
    theirs = words_of(text)
    for w in words:
        if CJK.search(w):
            if len(w) > 1 and all(ch in text for ch in w):
                return True
        elif len(w) > 3 and any(t.startswith(w) or w.startswith(t) for t in theirs if len(t) > 3):
            return True
    return False


def money(text: str) -> list[tuple[str, str]]:
    """(canonical value, as written with its currency) of each price in a text."""
    out = []
    for m in PRICE.finditer(text):
        if m.group(1) or m.group(3):
            out.append((canonical(m.group(2)), m.group().strip()))
    return out


def written(value: float, like: str) -> str:
    """A value written with the currency of `like` ("$60" -> "$36", "280元" -> "224元")."""
    number = f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    m = re.fullmatch(f"({CURRENCY}\\s*)?{AMOUNT}\\s*(.*)", like)
    if not m:
        return number
    if m.group(2).count(".") and "." not in number and m.group(1):
        number = f"{value:.2f}"
    return f"{m.group(1) or ''}{number}{m.group(3) or ''}"


def derived(reply: str, question: str, shown: str) -> set[str]:
    """The numbers of the reply's written sums (their results, and the factor of a discount) whose every operand is
    a number of the evidence or the question, or a discount the evidence states, and whose result is right: these
    are backed as the evidence's own numbers are. A wrong operand or a wrong result backs nothing."""
    return {v for _, v in _sums(reply, question, shown)}


def stated(reply: str, question: str, shown: str) -> str:
    """The reply less its right sums' results and factors: what it states of the evidence's own values, which the
    checks of where a value comes from read ("280元 × 0.8 = 224元" is checked as 280元)."""
    for span, _ in sorted(_sums(reply, question, shown), reverse=True):
        reply = reply[:span[0]] + " " * (span[1] - span[0]) + reply[span[1]:]
    return reply


def _sums(reply: str, question: str, shown: str) -> set[tuple[tuple[int, int], str]]:
    """((start, end), canonical value) of each result and factor of the reply's right, backed written sums."""
    held = numbers(shown) | numbers(question)
    stated_count = count(question)
    if stated_count:
        held.add(str(stated_count[0]))
    given = {f for f, _ in factors(shown)}
    out = set()
    for m in WRITTEN.finditer(reply):
        a, b, c = (float(m.group(i).replace(",", "")) for i in (1, 3, 5))
        if m.group(4):  # a percentage: one the evidence states as such, not any number of it (a minimum's 30元)
            if m.group(2) == "+" or not any(float(p) == b for p in PERCENT.findall(shown)):
                continue
            b /= 100
        factor = [i for i, v in ((1, a), (3, b)) if v in given and canonical(m.group(i)) not in held]
        if not all(canonical(m.group(i)) in held or i in factor or (i == 3 and m.group(4)) for i in (1, 3)):
            continue
        if abs((a + b if m.group(2) == "+" else a * b) - c) < 0.005 + 1e-9 * c:
            # A percentage's amount the question states is the asker's own, no value the evidence answers with.
            own = [1] if m.group(4) and canonical(m.group(1)) in numbers(question) else []
            out |= {(m.span(i), canonical(m.group(i))) for i in (*factor, *own, 5)}
    return out


def clauses_of(text: str) -> list[str]:
    """A passage's clauses, sentence by sentence: a discount for one group and another for the next
    (老人…洗牙打八折；学生凭学生证补牙九折) are two."""
    return [c.strip(" -*•") for line in text.split("\n") for s in sentences(line) for c in CLAUSE.split(s)
            if c.strip()]


def mentions_money(text: str) -> bool:
    """Whether a text states an amount of money (answer_kind's reading: 224元, $36)."""
    return any("money" in kinds for _, kinds in mentions(text))
