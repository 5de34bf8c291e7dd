"""Yes/no questions and claims: a reply that says yes or no must be backed by a clause of the evidence that says so.

A yes or no holds no number or name for the value check to test: the built-in model answered the unanswerable
"看牙能用医保卡报销吗？" with "Yes, but only if the patient is a student." (bench/data/evidence/heldout2).
What a clause says is read with what the question asks: "可以不牵绳吗" against "必须牵绳" is a no, "Do I need
to book?" against "no booking needed" a no; a question with a condition (I'm 70, my 8-year-old daughter) is
answered only by a clause that names it (aged 65 and over, children).
"""
from __future__ import annotations

import re

from . import conditions
from .clauses import Clause, clauses, words_of

# A question asked to be answered yes or no: 吗 at its end, an A-not-A form, or an English auxiliary first.
YES_NO_ZH = re.compile(r"(吗|么)\s*[？?]?\s*$|能不能|可不可以|是不是|有没有|行不行|可否|能否|是否|允许.*[？?]$")
YES_NO_EN = re.compile(r"^\s*(can|could|may|is|are|do|does|did|will|would|should|must|am|was|were|has|have|"
                       r"isn't|aren't|don't|doesn't|can't|won't|wouldn't|shouldn't)\b", re.I)
# A question word asks for something else ("你知道几点开门吗" asks a time).
WH = re.compile(r"多少|几|哪|什么|谁|怎么|如何|为什么|\b(how|what|which|when|where|who|whom|why)\b", re.I)
ASKED = re.compile(r"[^?？。.!！]+[?？]?")  # the sentences of a question ("I'm 70 years old. Do I get ...?")
# What a clause says: no need (无需, not required), no (禁止, 不得, not allowed), must (必须, required) or yes
# (可以, 允许, allowed), read in that order: 不需要 holds 需要, 不可以 holds 可以.
NO_NEED = re.compile(r"不必|不需要?|无需|无须|不用|免预约|\bno need\b|not (?:required|necessary|needed)|needn't|"
                     r"(?:don't|do not|doesn't|does not) (?:have|need) to|\boptional\b", re.I)
NO = re.compile(r"禁止|严禁|不得|不可|不能|不允许|不准|不接受|不提供|不支持|不予|不行|谢绝|无法|不是|没有|"
                r"\bnot\b|\bno\b|\bnever\b|cannot|can't|won't|isn't|aren't|doesn't|don't|prohibited|forbidden", re.I)
NEED = re.compile(r"必须|务必|须|需要|需|\bmust\b|ha(?:ve|s) to|need(?:s)? to|\brequired\b|\brequires?\b|mandatory",
                  re.I)
YES = re.compile(r"可以|允许|可|能|接受|提供|支持|欢迎|"
                 r"\b(yes|allowed|permitted|may|can|welcome|accepted|available)\b", re.I)
# What the question asks: may I not do it (可以不牵绳吗, "can I skip"), must I do it (需要预约吗, "do I have
# to"), or anything else (may I, is it, do I get).
ASKS_NOT = re.compile(r"(?:可以|能|可)不(?!可以|能|可|行)|不\S{1,8}(?:可以|行|能)吗|"
                      r"\b(?:can|could|may)\s+\w+\s+(?:not|skip)\b|\bwithout\b", re.I)
ASKS_NEED = re.compile(r"需要|需不需要|要不要|用不用|必须|一定要|得\S{0,6}吗|"
                       r"\b(?:have|has|need|needs) to\b|\bmust\b|\b(?:required|necessary|compulsory|mandatory)\b",
                       re.I)
# The start of a reply that answers yes or no (是的, 不可以, "No, ...", "Yes.").
REPLY_NO = re.compile(r"^\W*(不|没|no\b|not\b|nope\b|cannot\b|can't\b)", re.I)
REPLY_YES = re.compile(r"^\W*(是|可以|能|行|允许|有|对|当然|需要|要|yes\b|sure\b|of course\b|you can\b|it is\b|"
                       r"allowed\b)", re.I)
ASIDE = re.compile(r"[(（][^)）]*(?:[)）]|$)")  # a parenthesis ("(not off materials fees)") says no yes or no
# Words that say who asks or how, not what about (我家狗狗很乖的: 我家; "She'd just sit": d, just).
ASKER = re.compile(r"我们|我家|我|你们|你|他们|啊|呀|呢|吧|的话|\b(?:i'm|am|m|d|just|any|really|please|ok|okay)\b",
                   re.I)
# A sentence says yes or no to the question when it shares this share of the question's words (by length), its
# yes/no words, its asker and its condition aside (期刊不可续借 for 期刊可以续借吗: 续借 of 期刊 and 续借). Set by
# hand: the question sets hold five yes/no questions, the one with no answer shares under a third.
ABOUT = 0.5
LEADERS = 0.85  # sentences this close to the best one answer it equally: if they disagree, none is sure


def _asked(question: str) -> list[str]:
    return [s.strip() for s in ASKED.findall(question) if s.strip()] or [question]


def asks_yes_no(question: str) -> bool:
    """Whether the question is answered by yes or no (能用医保卡报销吗, "I'm 70. Do I get a discount?")."""
    if WH.search(question):
        return False
    return any(YES_NO_ZH.search(s) or YES_NO_EN.search(s) for s in _asked(question))


def form(question: str) -> str:
    """"not" (may I not do it), "need" (must I do it) or "may" (anything else)."""
    if ASKS_NOT.search(question):
        return "not"
    return "need" if ASKS_NEED.search(question) else "may"


def modality(text: str) -> str | None:
    """What a clause says of doing something: "no need", "no", "must", "yes", or None (none of these)."""
    text = ASIDE.sub(" ", text)
    for name, pattern in (("no need", NO_NEED), ("no", NO), ("must", NEED), ("yes", YES)):
        if pattern.search(text):
            return name
    return None


# The answer (True: yes) to each form of question from what a clause says; absent: the clause does not tell.
ANSWERS = {"may": {"yes": True, "no": False, "must": True},
           "not": {"must": False, "no need": True},
           "need": {"must": True, "no need": False, "no": False}}


def polarity(text: str) -> bool | None:
    """True for a text that says yes (可以, allowed), False for no (不得, not allowed), None for neither."""
    return ANSWERS["may"].get(modality(text) or "")


def reply_polarity(reply: str) -> bool | None:
    """What a reply answers: True (是的, Yes), False (不可以, No) or None (it states no yes or no)."""
    first = re.split(r"[，,。.！!；;\n]", reply.strip(), maxsplit=1)[0]
    if REPLY_NO.search(first):
        return False
    return True if REPLY_YES.search(first) else None


def _plain(text: str) -> set[str]:
    """A text's words without its yes/no words, its asker and its condition (能, 我家, "8-year-old")."""
    for pattern in (NO_NEED, NO, NEED, YES, ASKER, conditions.WORDS):
        text = pattern.sub(" ", text)
    return {w for w in words_of(text) if not w.isdigit() and w != "不"}


def _answer(kind: str, text: str, condition: conditions.Condition) -> bool | None:
    """A clause's answer to a question of this form and condition; None when it gives none."""
    said = modality(text)
    if condition:
        fits = conditions.applies(condition, text)
        if not fits:
            return None  # it does not name the question's condition, or the asker does not meet it
        if said is None and kind == "may":
            return True  # "Seniors aged 65 and over get 50% off tuition" for "I'm 70. Do I get a discount?"
    return ANSWERS[kind].get(said or "")


def polar_clause(question: str, shown: str) -> tuple[Clause, bool] | None:
    """(clause, yes) of the clause about the question that says yes or no; None if none clearly does.

    A clause is about the question when its sentence shares ABOUT of the question's words (a child named in
    both counts as shared: daughter and children). None too when sentences about it equally say both.
    """
    asked = _plain(question)
    condition = conditions.of_question(question)
    child = {w for w in asked if conditions.CHILD.search(w)} if condition.child else set()
    total = sum(len(w) for w in asked)
    if not total:
        return None
    kind = form(question)
    found = clauses(shown)
    sentence_words: dict[tuple[int, int], set[str]] = {}
    for c in found:
        sentence_words.setdefault((c.n, c.sentence), set()).update(c.about - c.titled)
    best: dict[tuple[int, int], tuple[float, float, Clause, bool]] = {}
    for c in found:
        said = _answer(kind, c.text, condition)
        if said is None:
            continue
        words = sentence_words[(c.n, c.sentence)]
        shared = asked & words | (child if conditions.CHILD.search(" ".join(words)) else set())
        share = sum(len(w) for w in shared) / total
        own = sum(len(w) for w in asked & (c.about - c.titled)) / total
        key = (c.n, c.sentence)
        if share >= ABOUT and (key not in best or own > best[key][1]):
            best[key] = (share, own, c, said)
    if not best:
        return None
    top = max(b[0] for b in best.values())
    leaders = [b for b in best.values() if b[0] >= LEADERS * top]
    if len({b[3] for b in leaders}) > 1:
        return None
    _, _, clause, said = max(leaders, key=lambda b: (b[0], b[1]))
    return clause, said


def unbacked(reply: str, question: str, shown: str) -> bool:
    """A yes or no that no clause of the evidence about the question says (the reply's claim is its own), or a
    reply that says neither ("even if they sit quietly [2]" for "Can I bring my 8-year-old daughter?")."""
    if not asks_yes_no(question):
        return False
    said = reply_polarity(reply)
    if said is None:  # no yes or no first: what its words say ("Children are not allowed in classrooms")
        said = _answer(form(question), reply, conditions.of_question(question))
    if said is None:
        return True
    backing = polar_clause(question, shown)
    return backing is None or backing[1] != said
