"""Yes/no questions and claims: a reply that says yes or no must be backed by a clause of the evidence that says so.

A yes or no holds no number or name for the value check to test: the built-in model answered the unanswerable
"看牙能用医保卡报销吗？" with "Yes, but only if the patient is a student." (bench/data/evidence/heldout2).
"""
from __future__ import annotations

import re

from .rivals import Clause, _words, clauses

# A question asked to be answered yes or no: 吗 at its end, an A-not-A form, or an English auxiliary first.
YES_NO_ZH = re.compile(r"(吗|么)\s*[？?]?\s*$|能不能|可不可以|是不是|有没有|行不行|可否|能否|是否|允许.*[？?]$")
YES_NO_EN = re.compile(r"^\s*(can|could|may|is|are|do|does|did|will|would|should|must|am|was|were|has|have)\b", re.I)
# A question word asks for something else ("你知道几点开门吗" asks a time).
WH = re.compile(r"多少|几|哪|什么|谁|怎么|如何|为什么|\b(how|what|which|when|where|who|whom|why)\b", re.I)
# What a clause or a reply says: no (禁止, 不得, not allowed) or yes (可以, 允许, allowed). No is read first:
# 不可以 holds 可以.
NO = re.compile(r"禁止|严禁|不得|不可|不能|不允许|不准|不接受|不提供|不支持|不予|不行|谢绝|无法|"
                r"不是|没有|不用|不需要|无需|"
                r"\bnot\b|\bno\b|\bnever\b|cannot|can't|won't|isn't|aren't|doesn't|don't|prohibited|forbidden", re.I)
YES = re.compile(r"可以|允许|可|能|接受|提供|支持|欢迎|"
                 r"\b(yes|allowed|permitted|may|can|welcome|accepted|available)\b", re.I)
# The start of a reply that answers yes or no (是的, 不可以, "No, ...", "Yes.").
REPLY_NO = re.compile(r"^\W*(不|没|no\b|not\b|nope\b|cannot\b|can't\b)", re.I)
REPLY_YES = re.compile(r"^\W*(是|可以|能|行|允许|有|对|当然|yes\b|sure\b|of course\b|you can\b|it is\b|"
                       r"allowed\b)", re.I)
# A clause says yes or no to the question when it shares this share of the question's words (by length), its
# yes/no words aside (期刊不可续借 for 期刊可以续借吗: 续借 of 期刊 and 续借). Set by hand, not measured: the
# question sets hold one yes/no question (with no answer).
ABOUT = 0.5


def asks_yes_no(question: str) -> bool:
    """Whether the question is answered by yes or no (能用医保卡报销吗, Can I bring a dog?)."""
    if WH.search(question):
        return False
    return bool(YES_NO_ZH.search(question) or YES_NO_EN.search(question))


def polarity(text: str) -> bool | None:
    """True for a text that says yes (可以, allowed), False for no (不得, not allowed), None for neither."""
    if NO.search(text):
        return False
    return True if YES.search(text) else None


def reply_polarity(reply: str) -> bool | None:
    """What a reply answers: True (是的, Yes), False (不可以, No) or None (it states no yes or no)."""
    first = re.split(r"[，,。.！!；;\n]", reply.strip(), maxsplit=1)[0]
    if REPLY_NO.search(first):
        return False
    return True if REPLY_YES.search(first) else None


def _plain(text: str) -> set[str]:
    """A text's words with its yes/no words left out (the question's 能 is not what a clause is about)."""
    return _words(YES.sub(" ", NO.sub(" ", text)))


def polar_clause(question: str, shown: str) -> tuple[Clause, bool] | None:
    """(clause, yes) of the clause about the question that says yes or no; None if none clearly does.

    None too when clauses about it equally say both (the question cannot tell which applies).
    """
    asked = _plain(question)
    total = sum(len(w) for w in asked)
    if not total:
        return None
    best: list[tuple[float, Clause, bool]] = []
    for c in clauses(shown):
        said = polarity(c.text)
        if said is None:
            continue
        share = sum(len(w) for w in asked & (c.about - c.titled)) / total
        if share >= ABOUT:
            best.append((share, c, said))
    if not best:
        return None
    top = max(b[0] for b in best)
    leaders = [b for b in best if b[0] >= 0.85 * top]
    if len({b[2] for b in leaders}) > 1:
        return None
    _, clause, said = next(b for b in leaders if b[0] == top)
    return clause, said


def unbacked(reply: str, question: str, shown: str) -> bool:
    """A yes or no that no clause of the evidence about the question says (the reply's claim is its own)."""
    if not asks_yes_no(question):
        return False
    said = reply_polarity(reply)
    if said is None:
        return False
    backing = polar_clause(question, shown)
    return backing is None or backing[1] != said
