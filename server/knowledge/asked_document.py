"""Which document a Chinese question's own words point at, and a reply whose values come from another one.

heldout6's composed replies took their values from other documents' Chinese clauses: "在校大学生凭学生证可优惠300元"
(a driving school's) for a student's day at a coworking space, whose document the evidence held too and which
alone writes 办公; an airport hotel's car "专车：单程80元" for a senior's ferry fare, whose document names no ferry
(轮渡) and whose clause is about a car that the question never names. A colloquial question shares few words with
its right passage (礼拜天 for 周日, 抱几本书 for 借8册), so no share of words is asked for: only that no other
document of the evidence holds more of the question, and that the clause's own subject is not another thing.
"""
from __future__ import annotations

import re

from . import conditions
from .bilingual import english, whole_words
from .clauses import words_of
from .elsewhere import WHEN
from .keyword import CJK, words
from .rivals import CUES, subject_words
from .weekday import ANY as DAY_WORDS

# A sentence's head ends at its label's colon (not a time's) or its first value; what brackets hold is a list
# of what the head takes in (大件（28 寸以上行李箱、自行车、婴儿车）), not what the sentence is about.
HEAD = re.compile(r"(?<!\d)[:：](?!\d{1,2}:)|(?<![A-Za-z\d])\d")
# Glosses too general to make two words one thing: 上船 "to get on a boat" is no 上车 "to get on a car".
GENERAL = set("get take make go come do have put give be".split())
NUMERAL = re.compile(r"[\d一二两三四五六七八九十]")  # 十个, 三十多: a count, which conditions read
BRACKETS = re.compile(r"（[^）]*）|\([^)]*\)")
ASKING = re.compile("多少|几")  # the words that ask, in a cue
NOT_A_NAME = "那这哪要的了得把给让被"  # a pronoun or particle: never the first or last character of a thing asked
CLAUSE = re.compile(r"[，,；;]")  # a sentence's clauses, each with a head of its own
# A question's words that say who asks (and, by conditions.CHILD, for whom: 女儿, 小孩) or how they speak, not what
# they ask about: counted by no document.
FILLER = set("你们 我们 他们 她们 我家 你家 那儿 这儿 那里 这里 那边 这边 那个 这个 大概 大约 今年 现在 平时 的话 要是 "
             "如果 结果 之前 之后 时候 自己 一下 可以 能不能 应该 只有 这种 那种 什么 怎么 还是 已经 另外 一共".split())


def _asked(question: str) -> set[str]:
    """The question's Chinese words of two characters or more that say what it is about."""
    return {w for w in whole_words(subject_words(question)) if CJK.fullmatch(w) and len(w) > 1
            and w not in FILLER and not conditions.CHILD.search(w) and w not in WHEN and not CUES.fullmatch(w)
            and not NUMERAL.search(w)}


def _held(word: str, text: str, latin: set[str]) -> bool:
    """Whether a text writes a word: itself (as written, whatever jieba cuts), a part of it of two characters
    (学生 of 大学生), or in English (轮渡 as "ferry")."""
    if word in text or any(len(p) > 1 and p != word and p in text for p in words(word)):
        return True
    return bool(latin and english(word) & latin)


def _documents(sources: list[dict]) -> dict:
    """Each document's text as the evidence shows it (its passages and title), by document."""
    out: dict = {}
    for s in sources:
        key = s.get("document_id", s["n"])
        out[key] = f"{out.get(key, s.get('title', ''))}\n{s.get('text', '')}"
    return out


def pointed_elsewhere(reply: str, question: str, sources: list[dict]) -> list[str]:
    """A Chinese value question's reply whose values come only from documents that another document of the evidence
    outnames, or only from sentences whose subject is another thing than the question names."""
    from ..key_tokens import numbers
    from .answer_kind import kind_of
    from .asked_noun import asked_noun, dials, numbers_to_dial
    from .evidence import language
    from .place_codes import WHERE
    from .rivals import asks_person, values_of

    kind = kind_of(question)
    phone = kind is None and asked_noun(question) == "phone"
    if language(question) != "zh" or (kind is None and not phone) or asks_person(question) or WHERE.search(question):
        return []
    reply = re.sub(r"\[\d+\]", " ", reply)
    if phone:  # a number to dial, whole: another document's night line is no answer for this one's (heldout7)
        return _from_other_document(question, sources, set(numbers_to_dial(reply)), dials)
    said = set(values_of(kind, reply)) - numbers(question)
    return (_from_other_document(question, sources, said, lambda v, t: v in values_of(kind, t)) or
            _of_other_subject(question, sources, said, lambda v, t: v in values_of(kind, t)))



def _of_other_subject(question: str, sources: list[dict], said: set[str], holds) -> list[str]:
    """The reply's values all held only by Chinese sentences whose subject is another thing (other_subject)."""
    from .chunk import sentences
    from .evidence import language

    docs = _documents(sources)
    verdicts = []
    for s in sources:
        for line in s.get("text", "").splitlines():
            # Each clause by its own head: "平时作业占30%，期中考试占20%，期末项目占50%" says 50% of 期末项目.
            for clause in (c for sentence in sentences(line) for c in CLAUSE.split(sentence)):
                if language(clause) == "zh" and any(holds(v, clause) for v in said):
                    verdicts.append(other_subject(clause, question, docs[s.get("document_id", s["n"])]))
    return ["(another thing)"] if verdicts and all(verdicts) else []


def _from_other_document(question: str, sources: list[dict], said: set[str], holds) -> list[str]:
    """The reply's values (`said`, each found in a text by `holds(value, text)`) all from documents that another
    document of the evidence outnames: it holds every word of the question that theirs holds, and one more."""
    asked = _asked(question)
    if not asked or not said:
        return []
    docs = _documents(sources)
    named = {}
    for key, text in docs.items():
        latin = {w for w in words_of(text) if w.isascii()}
        named[key] = {w for w in asked if _held(w, text, latin)}
    holding = [k for k, text in docs.items() if any(holds(v, text) for v in said)]
    if not holding:
        return []
    outnamed = [k for k in holding if any(named[o] > named[k] for o in docs if o not in holding)]
    return ["(another document)"] if len(outnamed) == len(holding) else []


def other_subject(sentence: str, question: str, document: str) -> bool:
    """Whether a sentence's head (its label, or its words before its value, less what its brackets list) is a thing
    the question does not name, while the question names a thing the sentence's document never writes, in either
    language nor by a word of the same gloss: the hotel's "可在礼宾部预约专车：单程80元" (a car) for a ferry's fare
    (轮渡); the station's "大件（…自行车…）：25 元/件/天" (a stored item) for a bicycle taken on a boat (上船)."""
    asked = _asked(question)
    head = HEAD.split(BRACKETS.sub(" ", sentence), 1)[0]
    # Days say when, not what: "C1周末班" is the weekend course a 周六周日 question asks for.
    lead = {w for w in words_of(DAY_WORDS.sub(" ", head)) if CJK.fullmatch(w) and len(w) > 1}
    if not asked or not lead or any(w in question for w in lead) or any(_held(w, head, set()) for w in asked):
        return False
    have = words_of(document)
    latin = {w for w in have if w.isascii()}
    glossed = set().union(*(english(w) for w in have if CJK.fullmatch(w)))
    thing = _last_before_cue(question, asked)
    return any(not _held(w, document, latin) and
               ((english(w) and not (english(w) - GENERAL) & glossed) or
                (w.strip(NOT_A_NAME) == thing and not english(w) and _unwritten(w, document)))
               for w in asked)


def _unwritten(word: str, document: str) -> bool:
    """A word with no gloss (冷光, or jieba's 美白要) that a document writes no two characters of: no gloss can
    find it written in other words, and none of its parts is."""
    return not any(word[i:i + 2] in document for i in range(len(word) - 1))


def _last_before_cue(question: str, asked: set[str]) -> str | None:
    """The asked word just before what the question asks (做一次热玛吉要多少钱: 热玛吉): the thing whose value it asks.
    Only that one is read without a gloss: a question's other words are often everyday ones no document writes (进园
    门票多少钱, 存个28寸的箱子), and those have no gloss either."""
    cues = list(CUES.finditer(question))
    if not cues:
        return None
    # 多少定金 / 多少押金: the question names what it asks after its 多少, a noun the cues know; no word before it is.
    if len(cues) > 1 and cues[-2].end() == cues[-1].start() and ASKING.search(cues[-2].group()) \
            and not ASKING.search(cues[-1].group()):
        return None
    at = cues[-1].start()
    ends = {w: question.rfind(w, 0, at) + len(w) for w in asked if question.rfind(w, 0, at) >= 0}
    if not ends:
        return None
    # jieba cuts a pronoun or a particle onto a neighbour (放你们那住一晚: 那住; 美白要): those are no thing's name.
    thing = max(ends, key=lambda w: ends[w]).strip(NOT_A_NAME)
    return thing if len(thing) > 1 else None
