"""Replies that answer nothing: one that only says the question again, and a who-question's reply naming nobody."""
from __future__ import annotations

import re

from .keyword import words
from .rivals import asks_person
from .yes_no import asks_yes_no

# Who-questions that ask for a member of staff rather than say 谁 (该找哪个工作人员, 找哪位老师, "which member of
# staff"); 哪个 alone asks for a thing (哪个出口).
STAFF = re.compile(r"(哪|什么)(个|一个|位)?\s*(工作人员|员工|职员|老师|医生|大夫|护士|馆员|管理员|负责人|联系人|人)|"
                   r"找谁|联系谁|问谁|\bwhich\s+(member\s+of\s+staff|staff(\s+member)?|person|teacher|doctor|nurse|"
                   r"librarian|employee|coach|instructor)\b", re.I)

CHOICE = re.compile(r"还是|或者|\bor\b", re.I)  # a question offering its answers


def asks_someone(question: str) -> bool:
    """Whether the question asks for a person (谁, who, and 该找哪个工作人员 / "which member of staff")."""
    return asks_person(question) or bool(STAFF.search(question))


def echoes(reply: str, question: str) -> bool:
    """Whether the reply, a yes/no question's aside, holds no word that the question does not (it says the
    question again: "电子阅览室的电脑上不了网，该找哪个工作人员？" answered by itself)."""
    if asks_yes_no(question) or CHOICE.search(question):
        return False  # "是的，可以续借。" and 周日 for 周六还是周日 take every word from the question and answer it
    own = set(words(re.sub(r"\[\d+\]", " ", reply)))  # its numbers too: "It closes at 22:30." answers
    return bool(own) and not own - set(words(question))


# Numbers strung with dashes ("3-15-15", "1-1-1-1"), which a reply may write for a code, a line or a date.
STRUNG = re.compile(r"\d+(?:\s*[-–]\s*\d+){2,}")
DIGIT_RUN = re.compile(r"\d[\d\s\-–]*\d|\d")


def strung(reply: str, evidence: str) -> list[str]:
    """The reply's dash-strung numbers whose digits no run of the evidence writes: small numbers of the evidence
    strung together ("1-1-1-…" for a Wi-Fi password, its 1 from 一楼) are no number it holds."""
    held = [re.sub(r"\D", "", m) for m in DIGIT_RUN.findall(evidence)]
    return [f"(strung {m})" for m in STRUNG.findall(reply)
            if not any(re.sub(r"\D", "", m) in run for run in held)]
