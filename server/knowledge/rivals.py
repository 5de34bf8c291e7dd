"""Candidate answers in the evidence: the clauses most about a question that hold a value of the kind it asks for.

Several clauses about the question equally, each with its own value (普通号挂号费为15元 / 主任医师号挂号费为60元
for a question that names neither), are rivals: nothing in the question tells them apart, so neither a reply
nor the number guard may pick one as if it were sure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..key_tokens import RUN, chinese_names, names, numbers
from .answer_kind import has_kind, kind_of, of_kind
from .chunk import sentences
from .keyword import words

SOURCE = re.compile(r"^\[(\d+)\] \((.+?)\)\s?(.*)$")  # "[n] (title) sentence" or "[n] (title, where)" + the passage
CLAUSE = re.compile(r"[，；;。！？!?]|[,.](?=\s)")
# English clauses that join two values ("costs 5 dollars for adults and 3 dollars for children") are cut at
# the conjunction.
JOIN = re.compile(r"\s(?:and|or|but|while)\s", re.I)
# A value counts for the guard when its clause shares nearly as much of the question as the best clause with
# one: on bench/data/evidence the 270M model swapped 专家门诊's 50元 for 普通门诊's 10元 of the same sentence and
# took a bath's 15 dollars for a cat's night; 0.7 told those apart and flagged none of its right answers.
CLAUSE_SHARE = 0.7
# Clauses this close to the best one are about the question equally: their different values are rivals.
RIVAL_SHARE = 0.85


@dataclass
class Clause:
    n: int  # the source it comes from (0: not a numbered source)
    sentence: int  # which sentence of the evidence, in the order shown (best first)
    text: str
    about: frozenset  # its words and those of its source's title and heading
    weight: int = 0
    values: frozenset = field(default_factory=frozenset)


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


IRREGULAR = {"children": "child", "people": "person", "men": "man", "women": "woman"}


def _stem(word: str) -> str:
    """closes -> close, saturdays -> saturday: an English plural or third person is the same word here."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    return word[:-1] if len(word) > 3 and word.isascii() and word.endswith("s") and not word.endswith("ss") else word


def _words(text: str) -> set[str]:
    # Digits apart first: the library's words glue "20:00关门" into "00关门", which 关门 would not match.
    return {_stem(w) for w in words(RUN.sub(" ", text))}


def clauses(shown: str) -> list[Clause]:
    """The clauses of the evidence, each knowing its source, its title's and its heading's words."""
    out, n, context, seen, order = [], 0, set(), set(), 0
    lines = shown.splitlines()
    started = not any(SOURCE.match(line) for line in lines)  # else the instruction before the first source is none
    for line in lines:
        m = SOURCE.match(line)
        if m:
            n, context, line, started = int(m.group(1)), _words(m.group(2)), m.group(3), True
        elif not started:
            continue
        if line.lstrip().startswith("#"):
            context = context | _words(line)
            continue
        for s in sentences(line):
            order += 1
            # An English sentence's later clauses often leave out its subject and verb ("..., a cat 18 dollars a
            # night", "..., given by Elena Fischer"): those that do not restate it ("the second prize is 800
            # euros") keep the words before the sentence's first number.
            lead = _words(RUN.split(s)[0]) if s.isascii() else set()
            for c in CLAUSE.split(s):
                for p in _parts(c):
                    if p.strip() and (n, p) not in seen:
                        seen.add((n, p))
                        own = _words(p)
                        restated = {w for w in _words(RUN.split(p)[0]) & lead if len(w) > 2}  # not "up (to)"
                        kept = set() if restated else lead
                        out.append(Clause(n, order, p.strip(), frozenset(own | context | kept)))
    return out


def _parts(clause: str) -> list[str]:
    """An English clause cut at a conjunction between two numbers; any other clause whole."""
    if not clause.isascii():
        return [clause]
    parts: list[str] = []
    for piece in JOIN.split(clause):
        if parts and not (RUN.search(piece) and RUN.search(parts[-1])):
            parts[-1] += " and " + piece
        else:
            parts.append(piece)
    return parts


def asks_person(question: str) -> bool:
    return bool(re.search(r"谁|叫什么名字|什么名字|\bwho\b|\bwhom\b", question, re.I))


def values_of(kind: str | None, text: str, person: bool = False) -> frozenset:
    """The values of the asked kind a clause states: names for a who-question, else numbers of the kind."""
    if person:
        return frozenset(chinese_names(text) | names(text))
    if kind:
        return frozenset(of_kind(kind, [text])) if has_kind(kind, text) else frozenset()
    return frozenset(numbers(text))


def candidates(question: str, shown: str, person: bool | None = None) -> Candidates:
    """The evidence's candidate answers to the question (names for a who-question, unless `person` is False)."""
    kind = kind_of(question)
    person = asks_person(question) if person is None else person
    asked = _words(question)
    found = clauses(shown)
    for c in found:
        c.values = values_of(kind, c.text, person)
        c.weight = sum(len(w) for w in asked & c.about)
    holding = [c for c in found if c.values]
    if kind and not person and not holding:  # none of the asked kind: any number may answer (a count)
        for c in found:
            c.values = frozenset(numbers(c.text))
        holding = [c for c in found if c.values]
    every = set().union(*(c.values for c in holding)) if holding else set()
    top = max((c.weight for c in holding), default=0)
    if not top:  # nothing shares a word with the question (a Chinese question, English evidence): the best line
        first = min((c.sentence for c in holding), default=0)
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
    return Candidates(kind, answer, backing, every, ambiguous)
