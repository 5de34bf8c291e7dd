"""How a composed reply is written: the clause as a person reads it, cited, in a short frame of its language."""
from __future__ import annotations

import re

from ..key_tokens import RUN
from .chunk import sentences
from .clauses import CLAUSE, LEADING_JOIN, VALUE, Clause, goes_on, is_latin, words_of
from .evidence import is_chinese
from .grounding import EVIDENCE_LINE
from .rivals import values_of

FRAME = {"zh": "根据资料{cites}：{body}", "en": "According to {cites}: {body}"}
END = {"zh": "。", "en": "."}
RIVALS = {"zh": "资料中有不止一个答案：{body}", "en": "The library gives more than one answer: {body}"}
NEAREST = {"zh": "知识库中没有找到明确的答案。最接近的是{cites}：{body}",
           "en": "Not found plainly in the knowledge base. The nearest it says is {cites}: {body}"}
SEP = {"zh": "；", "en": "; "}
# Markdown emphasis, which a quoted clause would otherwise show as it is written ("Kids' Club** (ages 6–12)").
EMPHASIS = re.compile(r"\*\*|__|`")
TRAILING = re.compile(r"[\s，,；;。.！!？?：:、]+$")


def closed(text: str) -> str:
    """A sentence cut inside a parenthesis ends before it: "外卖请在一楼公共区域吃 (no food in the dorms;"."""
    return re.sub(r"\s*[(（][^)）]*$", "", text)


def frame(lang: str, said: list[tuple[int, str]]) -> str:
    said = [(n, EMPHASIS.sub("", text)) for n, text in said]
    if len(said) == 1:
        n, text = said[0]
        return FRAME[lang].format(cites=f"[{n}]", body=TRAILING.sub("", closed(text))) + END[lang]
    body = SEP[lang].join(f"{TRAILING.sub('', text)}{' ' if lang == 'en' else ''}[{n}]" for n, text in said)
    return RIVALS[lang].format(body=body) + END[lang]


def as_read(clause: Clause, shown: str, kind: str | None = None) -> str:
    """The clause as a person reads it: with the clauses before it that its subject is in.

    A Chinese clause that goes on about the one before (费用为150元 after 洗牙一次约需40分钟) keeps that one; an
    English clause keeps its sentence's start (its subject: "Dolphin lessons are $22 each, or $240 ...").
    """
    if clause.row:  # a table's cell with its row's name ("Snowboard package | Junior (7–15): $38"); a name, the row
        label = f"{clause.before}{'：' if is_chinese(clause.before) else ': '}" if clause.before else ""
        return f"{clause.head} | {label}{clause.text}" if clause.head else clause.row
    sentence = sentence_of(clause, shown)
    at = sentence.find(clause.text) if sentence else -1
    if at < 0:
        return clause.text
    end = at + len(clause.text)
    if is_latin(sentence):
        return clause.text if not at else _english(sentence, clause.text)
    start = at
    while start > 0 and goes_on(sentence[start:end]):
        cut = [m.end() for m in CLAUSE.finditer(sentence[:start - 1])]
        before = cut[-1] if cut else 0
        if values_of(kind, sentence[before:start]) - clause.values:
            break  # the clause before holds another value of the kind asked (周一至周五 8:30—17:30): not its subject
        start = before
    return sentence[start:end].strip()


def _english(sentence: str, part: str) -> str:
    """A later clause of an English sentence: itself where it restates its subject ("a return ticket costs 6
    dollars"), else after the sentence's start ("A kayak costs … 45 dollars per day"), never the other values."""
    part = LEADING_JOIN.sub("", part)
    lead = VALUE.split(sentence)[0] if not RUN.search(sentence) else RUN.split(sentence)[0]
    if {w for w in words_of(VALUE.split(part)[0]) & words_of(lead) if len(w) > 2}:
        return part[:1].upper() + part[1:]
    before_day = VALUE.split(lead)[0].rstrip(" ,;:")
    lead = before_day if len(before_day.split()) >= 3 else lead.rstrip(" ,;:")  # not "On" of "On Saturdays it"
    lead = lead.rstrip(" $€£¥")  # "rented for £" cut before its number
    return f"{lead} … {part}" if lead else part


def sentence_of(clause: Clause, shown: str) -> str:
    for m in EVIDENCE_LINE.finditer(shown):
        if int(m.group(1)) == clause.n:
            for s in sentences(m.group(3)):
                if clause.text in s:
                    return s
    return ""
