"""Conditions a question carries and a clause names: a person's age (I'm 70, 8 岁) and being a child.

"I'm 70 years old. Do I get any discount on tuition?" is answered by "Seniors aged 65 and over get 50% off
tuition" because 70 is 65 or over; "Can I bring my 8-year-old daughter?" by "Children are not allowed".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# A person's own age in a question: "I'm 70", "70 years old", "my 8-year-old daughter", 我70岁, 孩子8岁.
QUESTION_AGE = re.compile(r"(\d{1,3})\s*(?:-|\s)?years?(?:-|\s)?old|\b(?:i'?m|i am|aged?)\s+(\d{1,3})\b|"
                          r"(\d{1,3})\s*周?岁", re.I)
# What a clause allows by age: 65 and over, 16 or older, 18+, 16 岁以上, 满 18 周岁 (a least age); under 12,
# 12 岁以下 (a greatest).
AT_LEAST = re.compile(r"(\d{1,3})\s*(?:\+|and (?:over|older|above|up)|or (?:older|over|above)|"
                      r"(?:周?岁)?\s*(?:以上|及以上|或以上))|满\s*(\d{1,3})\s*周?岁|"
                      r"(?:over|above) (?:the age of )?(\d{1,3})", re.I)
BELOW = re.compile(r"(?:under|below|younger than)\s+(?:the age of\s+)?(\d{1,3})|(\d{1,3})\s*周?岁\s*(?:以下|以内)|"
                   r"不满\s*(\d{1,3})\s*周?岁", re.I)
CHILD = re.compile(r"\b(child|children|kids?|daughters?|sons?|bab(?:y|ies)|toddlers?|minors?|infants?)\b|"
                   r"孩子|小孩|儿童|女儿|儿子|宝宝|小朋友|幼儿|未成年", re.I)
# A question's words that only state its condition ("8-year-old", 岁): matched as a condition, not as a topic.
WORDS = re.compile(r"\b(years?|old|aged?)\b|周?岁", re.I)


@dataclass
class Condition:
    age: int | None
    child: bool

    def __bool__(self) -> bool:
        return self.age is not None or self.child


def of_question(question: str) -> Condition:
    """The asker's age and whether they ask about a child (a daughter, 孩子)."""
    m = QUESTION_AGE.search(question)
    age = int(next(g for g in m.groups() if g)) if m else None
    return Condition(age, bool(CHILD.search(question)))


def _first(m: re.Match | None) -> int | None:
    return int(next(g for g in m.groups() if g)) if m else None


def applies(condition: Condition, clause: str) -> bool | None:
    """Whether the clause names the question's condition and the asker meets it: True (it applies), False (it
    names it and the asker does not meet it: 60 against 65 and over), None (it does not name it)."""
    named = False
    if condition.age is not None:
        least, below = _first(AT_LEAST.search(clause)), _first(BELOW.search(clause))
        if least is not None or below is not None:
            named = True
            if (least is not None and condition.age < least) or (below is not None and condition.age >= below):
                return False
    if condition.child and CHILD.search(clause):
        named = True
    return True if named else None
