"""Candidate answers in the evidence: the clauses most about a question that hold a value of the kind it asks for.

Several clauses about the question equally, each with its own value (普通号挂号费为15元 / 主任医师号挂号费为60元
for a question that names neither), are rivals: nothing in the question tells them apart, so neither a reply
nor the number guard may pick one as if it were sure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..key_tokens import chinese_names, names, numbers, with_hours
from . import conditions
from .bilingual import HALF, held_share, weighed
from .answer_kind import ASKS, has_kind, kind_of, mentions, of_kind
from .asked_noun import MONEY_NOUNS, asked_noun, gives
from .place_codes import WHERE
from .events import asked_event, names_event
from .clauses import Clause, clauses, words_of
from .evidence import language
from .weekday import weekdays, within

# A value counts for the guard when its clause shares nearly as much of the question as the best clause with
# one: on bench/data/evidence the 270M model swapped 专家门诊's 50元 for 普通门诊's 10元 of the same sentence and
# took a bath's 15 dollars for a cat's night; 0.7 told those apart and flagged none of its right answers.
CLAUSE_SHARE = 0.7
# Clauses this close to the best one are about the question equally: their different values are rivals.
RIVAL_SHARE = 0.85
# A word of the question that a clause has from its title or heading alone counts half: every clause of the
# document has it (康宁口腔医院's 口腔 made 正畸科's 每周一出诊 a rival of 口腔外科's 每周五 at 12 against 14).
TITLED = 0.5
# A clause naming a day the question names counts as one two-character word more (周六 for 星期六, which share
# no word): 诊所星期六几点关门 then finds 周六 9:00—12:00 ahead of another clinic's 工作日 hours (heldout2).
DAY_WEIGHT = 2
# The unit of a rate ("12 dollars per hour or 45 dollars per day", 每小时/每天): a price question that names
# one is answered by the clauses of that unit, not by the other rates of the same sentence.
RATES = (("hour", re.compile(r"per hour|an hour|hourly|/\s*h(?:ou)?r\b|每小时|每个小时|一小时|/小时", re.I)),
         ("day", re.compile(r"per day|a day\b|daily|/\s*day|每天|每日|一天|/天", re.I)),
         ("night", re.compile(r"per night|a night|nightly|每晚|一晚|每夜", re.I)),
         ("week", re.compile(r"per week|a week\b|weekly|每周(?![一二三四五六日天])|"
                             r"每星期(?![一二三四五六日天])|一周|/周", re.I)),
         ("month", re.compile(r"per month|a month|monthly|每月|每个月|一个月|/月|月卡", re.I)),
         ("year", re.compile(r"per year|a year|yearly|annual|(?:whole|full) year|year's|每年|一年|/年|年卡|全年|一整年",
                             re.I)))
# A reply's parts, each of which may say one value ("普通号15元，主任医师号60元", "£4 and £7").
RIVAL_PARTS = re.compile(r"[|，,；;。\n]|\band\b|和|或")
# A question asking how many of a thing (几本书, 多少个, how many lanes): a count, not a price, time or length.
COUNT = re.compile(r"[几多少]+\s*[本册个件张只位名间条辆次人门节]|\bhow many\b", re.I)
# What a question asks rather than what it is about: its kind's cue words, a rate's unit, "one time".
CUES = re.compile("|".join([p.pattern for _, p in ASKS] + [p.pattern for _, p in RATES] +
                           [r"一次|每次|多少|what|which|how|who|是谁|谁"]), re.I)


@dataclass
class Candidates:
    kind: str | None
    answer: list  # the clauses most about the question that hold a value (RIVAL_SHARE of the best)
    backing: list  # the clauses whose values the guard allows (CLAUSE_SHARE of the best)
    every: set  # every value of the asked kind in the evidence
    ambiguous: bool  # the answer clauses hold different values: rivals

    @property
    def values(self) -> set:
        return set().union(*(c.values for c in self.answer)) if self.answer else set()


def subject_words(question: str) -> set[str]:
    """The words of what a question is about: its words less the cue words of what it asks (多少钱, 每小时, which
    floor)."""
    return words_of(CUES.sub(" ", question))


def asks_person(question: str) -> bool:
    return bool(re.search(r"谁|哪一?位|叫什么名字|什么名字|\bwho\b|\bwhom\b", question, re.I))


def values_of(kind: str | None, text: str, person: bool = False) -> frozenset:
    """The values of the asked kind a clause states: names for a who-question, else numbers of the kind."""
    if person:
        return frozenset(chinese_names(text) | latin_people(text))
    if kind == "date":  # a day of the week is a date's value too (每周五出诊 for 哪天出诊)
        dated = {v for v, kinds in mentions(text) if "date" in kinds}
        return frozenset(dated | weekdays(text))
    if kind:
        return frozenset(of_kind(kind, [text])) if has_kind(kind, text) else frozenset()
    return frozenset(numbers(text))


def states_rivals(reply: str, cands, person: bool) -> bool:
    """Whether the reply picks some rival values, or states them all without what tells them apart."""
    # heldout7's three vehicles' per-minute prices, each as "步行者按分钟计费：每分钟$…", had passed for the
    # e-scooter's; "普通号15元，主任医师号60元" says which is which.
    def said(text: str) -> set:
        return (names(text) | chinese_names(text)) if person else with_hours(numbers(text)) | weekdays(text)

    rivals = [c.values for c in cands.answer]
    if not any(v & said(reply) for v in rivals):
        return False
    if not all(v & said(reply) for v in rivals):
        return True
    # Each part that says a rival's value, by its words: one with none the others lack does not say which it is.
    parts = [words_of(re.sub(r"\[\d+\]", " ", p)) for p in RIVAL_PARTS.split(reply)
             if any(v & said(p) for v in rivals)]
    common = set.intersection(*parts) if parts else set()
    return any(not part - common for part in parts)


# A clause's first word capitalized as any sentence's is (After, New, Children), unless a name goes on after it.
OPENING = re.compile(r"^\W*([A-Z][a-z]+)\b(?![-' ]+[A-Z])")


def latin_people(text: str) -> set[str]:
    """Latin names of a clause, not its opening word ("New members should write to ..." names nobody)."""
    found = names(text)
    m = OPENING.match(text)
    return found - {m.group(1)} if m else found


def _to_named(found: list[Clause]) -> None:
    """A clause naming nobody is about the person its sentence last named (刘强医生：异宠医生，兔子、仓鼠、鹦鹉请找他):
    its words count for that person's clause, so 兔子 finds 刘强 and not 周晓雯's 猫科 (heldout3)."""
    named: Clause | None = None
    for c in found:
        if named is None or (c.n, c.sentence) != (named.n, named.sentence):
            named = None
        if c.values:
            named = c
        elif named is not None:
            named.about = named.about | (c.about - named.titled)


def _of_clause_before(noun: str, holding: list[Clause], found: list[Clause], asked: set[str]) -> None:
    """A deposit's clause is about the thing of the clause before it in its sentence (羽毛球拍租借 10元/支/次，押金
    100元): it takes that clause's words, where it says the noun and no words of the question of its own."""
    for c in holding:
        i = found.index(c)
        if i and found[i - 1].sentence == c.sentence and c.weight <= 0 and gives(noun, c.text):
            c.about = c.about | found[i - 1].about
            c.weight = sum(len(w) for w in asked & c.about) - TITLED * sum(len(w) for w in asked & c.titled)


def rates(text: str) -> set[str]:
    """The units of the rates a text states: {"hour", "day"} for "12 dollars per hour or 45 dollars per day"."""
    return {unit for unit, pattern in RATES if pattern.search(text)}


def _translated(question: str, holding: list[Clause]) -> list[Clause]:
    """The clauses holding most of the question's words in translation (bilingual.py) where one holds HALF of what
    it is about, else all (the ranker's first line answers, as with no dictionary).

    Only where no clause shares a word in the question's own language: counted beside its own words, "dental
    implant" (种植牙单颗8800元起) let $8800 answer "How much deposit ... before a dental implant?", and a tie on
    打印 ("print") let the black-and-white page's 0.10 answer 彩色打印 where the ranker had put colour first.
    """
    asked, subject, lang = words_of(question), subject_words(question), language(question)
    # Clauses of the other language only: a bilingual line's "外卖请在一楼公共区域吃 (no food in the dorms" is no
    # answer to 女生宿舍在几楼 by its "dorms".
    fit = [c for c in holding if language(c.text) != lang and held_share(subject, c.about - c.titled) >= HALF]
    for c in fit:
        c.weight = weighed(asked, c.about, len) - TITLED * weighed(asked, c.titled, len)
    most = max((c.weight for c in fit), default=0)
    return [c for c in fit if c.weight >= RIVAL_SHARE * most] if most > 0 else holding


def candidates(question: str, shown: str, person: bool | None = None, kind: str | None = None,
               names: dict[int, set[str]] | None = None) -> Candidates:
    """The evidence's candidate answers to the question (names for a who-question, unless `person` is False), of
    the kind it asks for (or `kind`: a where-question's floor). `names`: each source's words of its document's own
    name, which count as a title's (half) even where a clause writes them ("beside Northgate Station" is not more
    about "the manager of Northgate Bike Rental" than "The shop manager is Lucas Moreau")."""
    kind = kind or kind_of(question)
    person = asks_person(question) if person is None else person
    asked = words_of(question)
    found = clauses(shown)
    # A number the question itself says is not what it asks: 可续借一次 is no rival of 每次最多借8册 for
    # 一次能借几本书 (heldout4's one right reply flagged for it).
    own = frozenset() if person else frozenset(numbers(question))
    for c in found:
        c.values = values_of(kind, c.text, person) - own
    if person:
        _to_named(found)
    for c in found:
        if names and language(c.text) == language(question):
            c.titled = c.titled | (c.about & names.get(c.n, set()))
        c.weight = sum(len(w) for w in asked & c.about) - TITLED * sum(len(w) for w in asked & c.titled)
    asked_days = weekdays(question)
    for c in found:  # 星期六 asked, 周六 9:00—12:00 said: the same day in other words
        if asked_days and any(within(d, weekdays(c.text) or weekdays(c.before)) for d in asked_days):
            c.weight += DAY_WEIGHT
    if not kind and not person and (WHERE.search(question) or COUNT.search(question)):
        # A place asked: its hours beside it are no answer ("Window 1 in the ticket hall, open 7:00am – 9:00pm" for
        # a passport holder's where-to-buy); a count asked (几本书): a price, a time or a length is none either.
        typed = ("time",) if WHERE.search(question) else ("time", "money", "duration", "date", "percent")
        untimed = {id(c): frozenset(v for v, kinds in mentions(c.text) if not kinds & set(typed)) & c.values
                   for c in found}
        if any(untimed.values()):
            for c in found:
                c.values = untimed[id(c)]
    holding = [c for c in found if c.values]
    if kind and not person and not holding:  # none of the asked kind: any number may answer (a count)
        for c in found:
            c.values = frozenset(numbers(c.text)) - own
        holding = [c for c in found if c.values]
    noun = asked_noun(question)
    if noun in MONEY_NOUNS:  # a key's deposit asked: the locker's rent beside it is no answer (nor a rival)
        holding = [c for c in holding if gives(noun, f"{c.before} {c.text}")] or holding
        _of_clause_before(noun, holding, found, asked)
    event = asked_event(question) if kind == "time" else None
    if event:  # a cabin's check-out asked: day visitors' "leave by 9:00 pm" is no answer (nor a rival)
        holding = [c for c in holding if names_event(event, f"{c.before} {c.text}")] or holding
    asked_rates = rates(question) if kind == "money" else set()
    if asked_rates:  # per day asked: the per-hour clause of the same sentence is no answer (nor a rival)
        fitting = [c for c in holding if not rates(c.text) or rates(c.text) & asked_rates]
        holding = fitting or holding
    holding = _numbered_as_asked(question, holding, found)
    every = set().union(*(c.values for c in holding)) if holding else set()
    top = max((c.weight for c in holding), default=0)
    if not top:  # nothing shares a word with the question (a Chinese question, English evidence): the best line
        first = min((c.sentence for c in _translated(question, holding)), default=0)
        best = [c for c in holding if c.sentence == first]
        return Candidates(kind, best, best, every, len({c.values for c in best}) > 1)
    answer = [c for c in holding if c.weight >= RIVAL_SHARE * top]
    backing = [c for c in holding if c.weight >= CLAUSE_SHARE * top]
    # Rivals share the best clause's sentence: between sentences the order shown decides (the ranker's choice,
    # which also weighs the embedder: "weekdays" against "Monday to Friday" no word of the question tells).
    leader = next(c for c in answer if c.weight == top)
    distinct = {c.values for c in answer if c.sentence == leader.sentence}
    # One clause's values inside another's (a range and its start) are one answer, not rivals.
    ambiguous = any(not (a <= b or b <= a) for a in distinct for b in distinct)
    # A question's condition picks the clause of the best sentence that names it: "How many books can a child
    # borrow?" is answered by "..., children up to 6", not by the adults' 12 that shares more of its words.
    condition = conditions.of_question(question)
    named = [c for c in holding if (c.n, c.sentence) == (leader.n, leader.sentence)
             and conditions.applies(condition, c.text)] if condition else []
    if named and len({c.values for c in named}) == 1:
        answer, ambiguous = named, False
        backing = backing + [c for c in named if c not in backing]
    return Candidates(kind, answer, backing, every, ambiguous)


# A thing numbered in Chinese (科目三, 二号楼): two characters and a numeral, the numeral apart in the library's words.
# Not a count of a thing after a particle (游泳池的十次卡: 十次, no 池的十) nor a number with its unit (三天, 十个).
NUMBERED = re.compile(r"([\u4e00-\u9fff][\u4e00-\u9fff](?<![的了是和或每第共约近]))([一二三四五六七八九十])"
                      r"(?![一二三四五六七八九十百千万两\d]|[次个天元块人岁年月日分本件张位名间条辆门节周点倍种])")
# A thing numbered by a letter and a digit (T1航站楼 and T2航站楼, class C1): the letter names the series.
CODE = re.compile(r"(?<![A-Za-z0-9])([A-Z])(\d{1,2})(?![A-Za-z0-9])")


def _numbered(text: str) -> set[tuple[str, str]]:
    return set(NUMBERED.findall(text)) | series_codes(text)


def series_codes(text: str) -> set[tuple[str, str]]:
    """The codes of a series a text names, as (series, number): ("T", "1") for T1航站楼."""
    return set(CODE.findall(text))


def not_siblings(asked: set[tuple[str, str]], found: list[Clause],
                 named: dict[int, set[tuple[str, str]]]) -> list[Clause]:
    """The clauses less those naming a sibling of an asked numbered thing (T2 for T1) and not the asked one, where
    some clause names an asked one; all of them where none does. named: each clause's (by id) numbered things."""
    if not any(named[id(c)] & asked for c in found):
        return found
    heads = {head for head, _ in asked}
    return [c for c in found if named[id(c)] & asked or not any(h in heads for h, _ in named[id(c)])]


def numbered(text: str) -> set[str]:
    """The numbered things a text names as written: {"T1", "科目三"}."""
    return {m.group() for pattern in (NUMBERED, CODE) for m in pattern.finditer(text)}


def _numbered_as_asked(question: str, holding: list[Clause], found: list[Clause]) -> list[Clause]:
    """The clauses less those naming a sibling of the numbered thing the question asks about (科目二 for 科目三), by
    themselves or, naming none, by their sentence, where another clause names the asked one: 补考费：科目二每次200元，
    科目三每次300元 answers 科目三's with 300, and 科目一、科目四…，补考费…每次50元 is not about 科目三; a shuttle's row
    "酒店 ⇄ T2航站楼 | 每20分钟一班" is no rival of T1's for a question about T1."""
    asked = _numbered(question)
    if not asked:
        return holding
    in_sentence: dict[int, set] = {}
    for c in found:
        in_sentence.setdefault(c.sentence, set()).update(_numbered(f"{c.before} {c.text}"))
    named = {id(c): _numbered(f"{c.before} {c.text}") or in_sentence[c.sentence] for c in holding}
    return not_siblings(asked, holding, named)
