"""The kind of number a question asks for (a price, a time, a floor...) and the numbers of a text of that kind."""
from __future__ import annotations

import re

from ..key_tokens import ARABIC, CHINESE, ORDINAL, ORDINALS, WORD_NUMBER, WORDS, canonical, chinese_number, numbers
from .weekday import weekdays

# Question -> kind, first match wins (a percentage question often says 多少, a week question 几).
ASKS = (
    ("percent", re.compile(r"百分之|百分比|比例|percent|%", re.I)),
    ("week", re.compile(r"第几周|哪一?周|which week", re.I)),
    ("floor", re.compile(r"几楼|几层|哪一?层|哪一?楼|which floor|what floor", re.I)),
    ("room", re.compile(r"哪个?(教室|房间|诊室)|几号(教室|房间|诊室)|which room|what room", re.I)),
    ("time", re.compile(r"几点|what time|几时|\bwhen\b.*\b(open|close|start|begin|leave|end)", re.I)),
    ("date", re.compile(r"哪天|哪一天|哪几天|几号|几月|什么日期|星期几|周几|礼拜几|what date|which date|which days?\b|"
                        r"what days?\b|which weekdays?\b", re.I)),
    ("duration", re.compile(r"多长时间|多久|几天|多少天|几周|多少周|几个月|"
                            r"how long|how many (minutes|hours|days|weeks)", re.I)),
    ("money", re.compile(r"多少钱|费|价|奖|押金|定金|罚|cost|price|fee|charge|deposit|fine\b|set (?:me|us|you) back|"
                         r"how much (is|are|does|do)\b|\bhow much\s*[?？]", re.I)),
)
# A number's kind from the words around it: (kind, what follows it, what comes before it).
AROUND = (
    ("percent", re.compile(r"^\s*(%|percent)", re.I), re.compile(r"百分之$")),
    # A week's number is an ordinal (第九周, week 9); 十八周 without 第 is a course's length: a duration.
    ("week", None, re.compile(r"第\s*$|week\s*$", re.I)),
    ("floor", re.compile(r"^\s*(楼|层|floor)", re.I), re.compile(r"(floor|level)\s*$", re.I)),
    ("room", re.compile(r"^\s*号?(教室|房间|诊室|室)"), re.compile(r"(room|教室|房间)\s*$", re.I)),
    ("time", re.compile(r"^\s*(点|时|am\b|pm\b|o'clock)", re.I), None),
    ("date", re.compile(r"^\s*(月|日|号)"), re.compile(r"(January|February|March|April|May|June|July|August|September|"
                                                    r"October|November|December)\s*$", re.I)),
    ("duration", re.compile(r"^\s*(minutes?|hours?|days?|working days|weeks?|months?|"
                            r"分钟|小时|天|个月|个?工作日|周|个?星期)", re.I), None),
    ("money", re.compile(r"^\s*(元|角|dollars?|euros?|yuan|pounds?|cents?|欧元|美元)", re.I),
     re.compile(r"(?:[$€¥£]|\b(?:CNY|RMB|USD|EUR|GBP))\s*$")),
)


# A question's clauses: "借的书晚还了几天，一天要罚多少钱？" says its 几天 (a few days) before it asks a price.
PARTS = re.compile(r"[，,；;。！!？?—]")


def kind_of(question: str) -> str | None:
    """The kind of number the question asks for, or None (a count, a name, anything else): its last clause's that
    asks one, else the whole question's."""
    for part in reversed(PARTS.split(question)):
        kind = next((kind for kind, pattern in ASKS if pattern.search(part)), None)
        if kind:
            return kind
    return next((kind for kind, pattern in ASKS if pattern.search(question)), None)


def mentions(text: str):
    """(canonical number, kinds) of each number written in the text."""
    # English number words too ("takes two working days"), as numbers() reads them.
    for m in (list(ARABIC.finditer(text)) + list(CHINESE.finditer(text)) + list(WORD_NUMBER.finditer(text)) +
              list(ORDINAL.finditer(text))):
        value: str | int | None
        if m.group()[0].isdigit():
            value = canonical(m.group())
        elif m.group().lower() in ORDINALS:  # "second floor": 2
            value = ORDINALS[m.group().lower()]
        else:
            value = WORDS.get(m.group().lower(), chinese_number(m.group()))
        if value is None:
            continue
        after, before = text[m.end():m.end() + 14], text[max(0, m.start() - 12):m.start()]
        kinds = {k for k, a, b in AROUND if (a is not None and a.search(after)) or (b is not None and b.search(before))}
        if ":" in m.group():
            kinds.add("time")
        if "week" in kinds:  # 第七周讲: an ordinal, not seven weeks
            kinds.discard("duration")
        yield str(value), kinds


def has_kind(kind: str | None, text: str) -> bool:
    """Whether the text writes a number of that kind (for a date, a weekday counts: 周五, Monday to Friday)."""
    return any(kind in kinds for _, kinds in mentions(text)) or (kind == "date" and bool(weekdays(text)))


def of_kind(kind: str | None, texts: list[str]) -> set[str]:
    """The numbers of the texts of that kind; all of them when the question names no kind or none is of it."""
    typed = {v for t in texts for v, kinds in mentions(t) if kind in kinds}
    return typed if typed else set().union(*(numbers(t) for t in texts))
