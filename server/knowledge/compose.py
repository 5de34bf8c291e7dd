"""Library answers composed from the evidence for base models: the clause that answers, cited, in a short frame.

The 270M base model's replies were right for 6 of the 18 questions of bench/data/evidence/heldout2, with 4
wrong values unflagged. When one clause of the evidence clearly answers what a question asks (a value of the
asked kind, a name for a who-question, a yes or a no), the server states that clause itself. Rivals that the
question cannot tell apart are all stated and flagged; a doubtful choice is never composed (the model writes).
Where no clause is about a value question at all, the reply says so and quotes the nearest sentence.
"""
from __future__ import annotations

import re
from typing import cast

from ..shapes import Grounding
from ..key_tokens import names
from .answer_kind import has_kind, mentions
from .asked_noun import asked_noun, gives
from .asked_parts import parts
from .composed_parts import Composed, each_part, from_whole
from .events import of_event
from .bilingual import HALF, held_share
from .elsewhere import clause_else, own_names
from .evidence import WANTS_NUMBER, is_chinese, language
from .grounding import EVIDENCE_LINE, answer_quote
from .echo import asks_someone
from . import ranges
from .narrow import asked_kind, coded, in_range
from .clauses import Clause, is_latin, words_of
from .rivals import CUES, candidates, rates, subject_words
from .paired import paired_read
from .summed import summed
from .tables import asked_cell, named_column
from .weekday import weekdays
from .yes_no import asks_yes_no, form, polar_clause
from .wording import EMPHASIS, END, NEAREST, TRAILING, as_read, closed, frame, sentence_of

# A who-question's clause must share this much of what the question is about (by length): the right names composed
# on bench/data/evidence shared 0.25-1.0; "To drop, email or visit Gareth Olsen" shared 0.17 of "Who should I email
# to book beds for a group of 12 people?" (its "email" alone), which the hostel's manager answers.
PERSON_SHARE = 0.25
# Capitalized words that name no person: places, groups, days and months ("Kids' Club — Saturdays" names nobody).
PLACES = set("Station Street Road Room Hall Library Pool Centre Center Park Square Building Floor Club Team Squad "
             "Class Group Desk Office Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February "
             "March April May June July August September October November December".split())
# Verbs of when a thing is open or held: what a question asks, not a thing it is about. "宿舍搬迁从哪天开始" names
# nothing but its notice's own title (宿舍搬迁通知) and such a verb: it is about the document itself.
WHEN_VERBS = set("开始 开门 关门 闭馆 开放 结束 营业 open close shut start begin end finish".split())
WHERE = re.compile(r"在哪|哪里|哪儿|什么地方|什么位置|\bwhere\b", re.I)


def compose(question: str, shown: str, sources: list[dict]) -> Composed | None:
    """The reply composed from the clause of `shown` (evidence lines) that answers; None when none clearly does.

    A question of two parts is answered part by part; a clause that lacks what was asked (its event's name, a value
    of the asked kind) is answered from the whole passages where they hold it (composed_parts.py)."""
    asked = parts(question)
    if asked:
        return each_part(asked, shown, sources, compose)
    return from_whole(question, shown, sources, _compose)


def _compose(question: str, shown: str, sources: list[dict]) -> Composed | None:
    """The reply composed from the clause of `shown` that answers; None when none clearly does."""
    lang = language(question)
    if asks_yes_no(question):
        return _yes_no(question, shown, lang)
    person = asks_someone(question)
    if not (person or asked_kind(question) or WANTS_NUMBER.search(question)):
        # A where-question asks no value, but a clause about it that gives a floor or a room answers it; any other
        # (next to the vending machines, the Blue Room) is left to the model.
        return _where(question, shown, sources, lang) if WHERE.search(question) else None
    if not person and asked_kind(question) == "money":
        total = summed(question, shown, sources)  # a discount, a count or a deposit the answer is a sum of
        if total is not None:
            return Composed(total[0], total[1], {"supported": True})
    own = own_names(sources)
    found = candidates(question, shown, person=person, kind=asked_kind(question), names=_named_more(question, own))
    found.answer = coded(question, found.answer)
    if person:  # a name the question says itself (阅览室, read as a name) is no answer to who
        named = [c for c in found.answer if any(v not in question for v in c.values)]
        found.answer = named or found.answer
    ranged = in_range(question, shown, found, lambda c: _about(c, question, {}))
    if ranged:
        found.answer, found.ambiguous = ranged, False
    cell = asked_cell(question, found.answer) if not ranged and found.ambiguous else None
    column = named_column(question, found.answer, lambda c: not _out_of_range(question, c))
    if column is not None:  # a row's cells: the one whose column the question names (住一晚: 每晚价格)
        found.answer, found.ambiguous = [column], False
    if cell is not None:  # a row's cells read in translation: the row and column the question names (about it)
        found.answer, found.ambiguous, cell.weight = [cell], False, max(cell.weight, 1.0)
    top = max((c.weight for c in found.answer), default=0)
    leader = next((c for c in found.answer if c.weight == top), None)
    if leader is not None and not ranged and _out_of_range(question, leader):
        return _nearest(question, shown, lang)  # 小型犬（10公斤以下）'s deposit for a dog of 三十多公斤
    if leader is None or not (ranged or cell) and (top <= 0 or not (_about(leader, question, own)
                                                        or _on_the_day(leader, question, sources)
                                                        or of_event(leader, question))):
        # No clause shares what the question is about: the model would pick a value of something else (a bath's
        # 100 元 for a microchip). Said so, with the nearest sentence, where the model reads its own language.
        return _nearest(question, shown, lang)
    if clause_else(leader.text, leader.n, question, sources, own):
        return None  # a café's hours for the gym's: the model writes, and the check reads where its value is from
    asked_rates = rates(question) if found.kind == "money" else set()
    if asked_rates and rates(leader.text) and not rates(leader.text) & asked_rates:
        return None  # £42 per month for a whole year's price: the model writes, and the check reads the passages
    noun = asked_noun(question)
    if noun and not gives(noun, f"{leader.before} {leader.text}"):
        # A deposit asked, a rent said (or an extension asked, a floor said): the model writes, and is checked; where
        # no line of the evidence gives it at all, the reply says so.
        lines = [m.group(3) for m in EVIDENCE_LINE.finditer(shown)]
        return None if any(gives(noun, line) for line in lines) else _nearest(question, shown, lang)
    if person and _share(leader, question, own) < PERSON_SHARE:
        return None
    if person and not all(_people(c.text, question) for c in found.answer):
        return None  # a name of a place or a thing, not of someone
    if found.ambiguous:  # rivals in the best clause's sentence: every one of them, flagged
        rivals = [c for c in found.answer if c.sentence == leader.sentence]
        reply = frame(lang, [(c.n, as_read(c, shown, found.kind)) for c in _distinct(rivals)])
        return Composed(reply, sorted({c.n for c in rivals}), _flagged(question, sources, shown))
    # A rival counts by every word it shares, its document's name included: fewer rivals never compose more.
    if any(c.values != leader.values and (_about(c, question, {}) or _on_the_day(c, question, sources))
           for c in found.answer):
        return None  # another sentence's value nearly as much about the question: the model writes, and is checked
    # A row pairing alternatives with values (清洗（挂机 / 柜机） | 80元 / 120元): the one the question names.
    said = (leader.row and paired_read(question, leader.head, leader.row, leader.text)
            or as_read(leader, shown, found.kind))
    return Composed(frame(lang, [(leader.n, said)]), [leader.n], {"supported": True})


def _out_of_range(question: str, clause: Clause) -> bool:
    """Whether the clause is a table's cell whose row's name gives a range of the quantity the question states that
    does not hold it. Only a row's name: a sentence's "单程80元（1-2人）" is a party's size, which a bare range
    would be read as an age."""
    quantity = ranges.asked(question)
    said = clause.head or clause.text
    if quantity is None or not clause.row:
        return False
    return ranges.names_range(quantity, said) and not ranges.holds(quantity, said, ranges.careful(said))


def _where(question: str, shown: str, sources: list[dict], lang: str) -> Composed | None:
    """A where-question answered by the one clause about it that gives a floor (or a room); None when none clearly
    does."""
    own = own_names(sources)
    for kind in ("floor", "room"):
        found = candidates(question, shown, person=False, kind=kind)
        found.answer = [c for c in found.answer if has_kind(kind, c.text)]  # not any number, as a count would be
        top = max((c.weight for c in found.answer), default=0)
        leader = next((c for c in found.answer if c.weight == top), None)
        if leader is None or top <= 0 or not _about(leader, question, own):
            continue
        if clause_else(leader.text, leader.n, question, sources, own):
            return None
        if found.ambiguous or any(c.values != leader.values and _about(c, question, {}) for c in found.answer):
            return None
        return Composed(frame(lang, [(leader.n, _place(leader, shown, kind))]), [leader.n], {"supported": True})
    return None


def _place(clause: Clause, shown: str, kind: str) -> str:
    """A place as a person reads it: an English clause with its sentence's start where that gives places alone
    ("Self-service laundry: Room 312, Level 3", not the floor alone after "Self-service laundry: Room …")."""
    sentence = sentence_of(clause, shown)
    at = sentence.find(clause.text) if sentence else -1
    head = sentence[:at] if at > 0 and is_latin(sentence) else ""
    said = list(mentions(head))
    if said and all(kinds & {"floor", "room"} for _, kinds in said):
        return sentence[:at + len(clause.text)].strip()
    return as_read(clause, shown, kind)


def _about(clause: Clause, question: str, own: dict[int, set[str]]) -> bool:
    """Whether the clause shares a word of what the question is about, not only of what it asks (每小时, 多少钱) nor
    of its document's own name (own: 青松图书馆's 青松 in 青松社区图书馆位于… is no answer about parking there)."""
    # A day alone is not enough: 港城图书馆周六几点关门 would take another library's 周二至周日 9:00—21:00.
    about = clause.about - clause.titled - _name_of(clause, question, own)
    if _subject(question) & about:
        return True
    # Else only in translation (a Chinese question, an English clause): half of what it is about, not one word.
    return language(clause.text) != language(question) and held_share(subject_words(question), about) >= HALF


def _on_the_day(clause: Clause, question: str, sources: list[dict]) -> bool:
    """Whether the clause is the one of the day the question names (周日：10:00–16:00 for 礼拜天诊所几点关门), its own
    day and not in a range, in a document whose title or headings name what the question is about (毛球动物诊所)."""
    asked = weekdays(question)
    if not asked or (weekdays(clause.text) or weekdays(clause.before)) != asked:
        return False
    source = next((s for s in sources if s["n"] == clause.n), None)
    if source is None:
        return False
    headings = " ".join(line for line in source.get("text", "").splitlines() if line.lstrip().startswith("#"))
    return bool(_subject(question) & words_of(f"{source['title']} {headings}"))


def _subject(question: str) -> set[str]:
    """What the question is about, with its words that hold a cue but are more (年费, 挂号费: a fee of something)."""
    return subject_words(question) | {w for w in words_of(question) if len(w) > 1 and CUES.search(w)
                                      and not CUES.fullmatch(w)}


def _share(clause: Clause, question: str, own: dict[int, set[str]]) -> float:
    subject = _subject(question)
    about = clause.about - clause.titled - _name_of(clause, question, own)
    return sum(len(w) for w in subject & about) / (sum(len(w) for w in subject) or 1)


def _name_of(clause: Clause, question: str, own: dict[int, set[str]]) -> set[str]:
    """The words of the clause's document's own name, where the question is about more than that document (停车 at
    青松图书馆); none where it names nothing else (宿舍搬迁从哪天开始 of the notice 宿舍搬迁通知)."""
    name = own.get(clause.n, set())
    if language(clause.text) != language(question):
        return set()  # read in translation: the question cannot write the name's words (bike-rental.md's "bike")
    return name if any(len(w) > 1 for w in _subject(question) - name - WHEN_VERBS) else set()


def _named_more(question: str, own: dict[int, set[str]]) -> dict[int, set[str]]:
    """The sources' own names where the question is about more than the document (the manager of Northgate Bike
    Rental): there a clause writing the name is not more about the question for it."""
    return {n: name for n, name in own.items() if any(len(w) > 1 for w in _subject(question) - name - WHEN_VERBS)}


def _nearest(question: str, shown: str, lang: str) -> Composed | None:
    """"Not found plainly", quoting the best evidence sentence; None where some evidence is in another language
    than the question (the model reads across languages: 健身房的年卡多少钱 -> 420 euros), there is none, or the
    question names nothing it is about."""
    lines = [(int(m.group(1)), m.group(3).strip()) for m in EVIDENCE_LINE.finditer(shown)]
    if not lines or any(language(text) != lang for _, text in lines) or not _subject(question):
        return None  # nothing but what it asks ("How much is the yearly fee?"): no clause can be judged off it
    n, text = lines[0]
    body = TRAILING.sub("", closed(EMPHASIS.sub("", text))) + END[lang]
    return Composed(NEAREST[lang].format(cites=f"[{n}]", body=body), [n], {"supported": True})


def _people(text: str, question: str) -> set[str]:
    """Names of people in a clause: jieba's person names, Latin names the question does not hold."""
    import jieba.posseg

    found = {w.word for w in jieba.posseg.cut(text) if w.flag.startswith("nr")} if is_chinese(text) else set()
    latin = {w for w in names(text) - names(question) if w not in PLACES and w.removesuffix('s') not in PLACES
             and not text.startswith(w)}
    return found | latin


def _yes_no(question: str, shown: str, lang: str) -> Composed | None:
    """A yes/no question answered by the clause that says so, its sentence quoted; None when no clause clearly does."""
    found = polar_clause(question, shown)
    if found is None:
        return None
    clause, yes = found
    zh = ("需要。", "不需要。") if form(question) == "need" else ("可以。", "不可以。")
    word = {"zh": zh[0] if yes else zh[1], "en": "Yes. " if yes else "No. "}[lang]
    said = sentence_of(clause, shown) or clause.text
    return Composed(word + frame(lang, [(clause.n, said)]), [clause.n], {"supported": True})


def _distinct(found: list[Clause]) -> list[Clause]:
    out: list[Clause] = []
    for c in found:
        if all(c.text != o.text for o in out):
            out.append(c)
    return out


def _flagged(question: str, sources: list[dict], shown: str) -> Grounding:
    """Rivals: not supported, with the quote of what the evidence says about the question (every rival)."""
    quote = answer_quote(question, shown, sources)
    return cast(Grounding, {"supported": False, **({"quote": {"kind": "passage", **quote}} if quote else {})})
