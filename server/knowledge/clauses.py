"""The evidence cut into clauses: each knows its source, its title's and heading's words, and the clause of its
sentence it goes on about (a Chinese clause that leaves out its subject, an English one cut at a conjunction)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..key_tokens import ORDINAL, RUN, chinese_names, names
from .bilingual import stem
from .chunk import sentences
from .evidence import TABLE_ROW, TABLE_RULE, cells
from .keyword import words
from .weekday import ANY as DAY

# Where a clause's value starts: a number, a day, a floor's ordinal ("the second floor").
VALUE = re.compile(f"{RUN.pattern}|{DAY.pattern}|{ORDINAL.pattern}", re.I)
# An English clause with its own subject and verb before its value ("the labs are on the third floor", "the second
# prize is 800 euros") does not go on about its sentence's start.
OWN_SUBJECT = re.compile(r"^\s*(?:(?:the|a|an|its|their)\s+)?[a-z]+(?:\s+[a-z]+)?\s+(?:is|are|was|were)\b", re.I)
# An English clause whose subject is its value's name alone goes on about the clause before, as a Chinese one may:
# "… can request a JW202 visa support letter; the fee is 500 yuan" is the letter's fee.
PRICED = re.compile(r"^\s*(?:the|its|their)\s+(?:fee|price|cost|charge|deposit|rate)s?\s+(?:is|are)\b", re.I)
# A cell's column label as the evidence shows it ("Junior (7–15): $38", "费用：5300元").
LABEL = re.compile(r"^[^|:：]{1,40}(?::\s|：)")
SOURCE = re.compile(r"^\[(\d+)\] \((.+?)\)\s?(.*)$")  # "[n] (title) sentence" or "[n] (title, where)" + the passage
COMPOUND = re.compile(r"\w+-\w+")  # check-in, check-out, e-bike
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
CLAUSE = re.compile(r"[，；;。！？!?]|[,.](?=\s)")
# English clauses that join two values ("costs 5 dollars for adults and 3 dollars for children") are cut at
# the conjunction, but not an age's bound ("aged 65 and over", "16 or older").
LEADING_JOIN = re.compile(r"^\s*(?:and|or|but|while|where)\s+", re.I)
JOIN = re.compile(r"\s(?:and|or|but|while)\s(?!(?:over|older|above|up|under|younger|below)\b)", re.I)
# A Chinese clause that starts like these goes on about the clause before it, whose subject it leaves out
# (口腔外科的主任医师是孙立平，每周五全天出诊 / 洗牙一次约需40分钟，费用为150元 / 期刊借期7天，不可续借): it keeps
# that clause's words.
GOES_ON = re.compile(r"^\s*(每|逢|均|都|也|并|且|只|仅|全天|上午|下午|晚上|早上|费用|价格|收费|票价|"
                     r"不|可|能|禁止|严禁|须|需|在|位于|"
                     r"(周|星期|礼拜)[一二三四五六日天])")
@dataclass
class Clause:
    n: int  # the source it comes from (0: not a numbered source)
    sentence: int  # which sentence of the evidence, in the order shown (best first)
    text: str
    about: frozenset  # its words and those of its source's title and heading
    weight: float = 0
    titled: frozenset = frozenset()  # the words it has from the title and heading alone
    before: str = ""  # the text of the clauses of its sentence it goes on about (周日：只开急诊 for 10:00–16:00)
    values: frozenset = field(default_factory=frozenset)
    row: str = ""  # a table's row it is a cell of (its whole text), or ""
    head: str = ""  # that row's first cell, where this is a later one ("Snowboard package" for "Junior (7–15): $38")




def words_of(text: str) -> set[str]:
    """A text's words as clauses and questions are compared on (stemmed; digits apart)."""
    # Digits apart first: the library's words glue "20:00关门" into "00关门", which 关门 would not match.
    return {stem(w) for w in words(RUN.sub(" ", text))}


def clauses(shown: str) -> list[Clause]:
    """The clauses of the evidence, each knowing its source, its title's and its heading's words."""
    out, n, context, order = [], 0, set(), 0
    seen: set[tuple] = set()  # (source, clause) said already; a table's cells by their row too
    topic: dict[int, set[str]] = {}  # a source's last sentence's first clause's words
    last: dict[int, str] = {}  # a source's last sentence, which an English clause naming only a price goes on about
    lines = shown.splitlines()
    started = not any(SOURCE.match(line) for line in lines)  # else the instruction before the first source is none
    for line in lines:
        m = SOURCE.match(line)
        if m:
            n, context, line, started = int(m.group(1)), words_of(m.group(2)), m.group(3), True
        elif not started:
            continue
        if line.lstrip().startswith("#"):
            context = context | words_of(line)
            continue
        if TABLE_RULE.match(line):
            continue
        if is_row(line):
            order += 1
            out.extend(_cells(n, order, line, context, seen))
            continue
        for s in sentences(line):
            order += 1
            # An English sentence's later clauses often leave out its subject and verb ("..., a cat 18 dollars a
            # night", "..., given by Elena Fischer"): those that do not restate it ("the second prize is 800
            # euros") keep the words before the sentence's first number ("On Saturdays it opens at"), or with none
            # before its first day ("The rental is open from" Tuesday to Sunday and closed on Mondays).
            latin = is_latin(s)
            lead = words_of((RUN if RUN.search(s) else VALUE).split(s)[0]) if latin else set()
            # The words of the clause before, which a Chinese clause may go on about; at a sentence's start, those
            # of the source's sentence before's first clause (博物馆周二至周日开放。每周一闭馆。).
            before, first, said = topic.get(n, set()), True, ""
            opening = last.get(n, "").strip(" -*•")
            for c in _listed(CLAUSE.split(s)):
                for p in _parts(c) if latin else _people(c):
                    if p.strip() and (n, p) not in seen:
                        seen.add((n, p))
                        own = words_of(p)
                        # Not "up (to)", nor a compound's half: "check-out by" restates no "check-in from".
                        restated = {w for w in words_of(COMPOUND.sub(" ", VALUE.split(p)[0])) & lead if len(w) > 2}
                        kept = set() if restated or OWN_SUBJECT.match(LEADING_JOIN.sub("", p)) else lead
                        earlier = ""
                        if goes_on(p) if not latin else PRICED.match(LEADING_JOIN.sub("", p)):
                            kept = kept | (before if not latin or said else words_of(opening))
                            earlier = said or (opening if latin else "")
                        before = own | (kept if not latin else set())
                        said = f"{earlier}，{p}" if earlier else p
                        if first:
                            topic[n], first = before, False
                        out.append(Clause(n, order, p.strip(), frozenset(own | context | kept),
                                          titled=frozenset(context - own - kept), before=earlier))
            last[n] = s
    return out


def is_row(line: str) -> bool:
    """A table's row: "| a | b |" as written, or as the evidence shows it ("Snowboard package | Adult (16+): $52")."""
    return bool(TABLE_ROW.match(line)) or line.count(" | ") >= 2 or line.rstrip().endswith(" |")


def _cells(n: int, order: int, line: str, context: set[str], seen: set) -> list[Clause]:
    """A table row's cells, each a clause about its row: its own words, the row's first cell's and the other cells'
    values (a column's label is its cell's alone: "Junior (7–15): $38" is not about "Adult")."""
    row = [c for c in cells(line) if c]
    if len(row) < 2:
        return []
    text = " | ".join(row)
    said = [words_of(LABEL.sub("", c)) for c in row]
    out = []
    for i, cell in enumerate(row):
        if (n, text, cell) in seen:
            continue
        seen.add((n, text, cell))
        label = LABEL.match(cell)  # what the cell goes on about, as a Chinese clause its clause before
        own = words_of(cell)
        kept = set().union(*(w for j, w in enumerate(said) if j != i))
        out.append(Clause(n, order, cell[label.end():] if label else cell, frozenset(own | context | kept),
                          titled=frozenset(context - own - kept), before=label.group().rstrip(": ：") if label else "",
                          row=text, head=row[0] if i else ""))
    return out


def is_latin(text: str) -> bool:
    """Whether a sentence is written in a Latin script: no Chinese in it (£15, "9:00am – 6:00pm" and café are)."""
    return not CJK.search(text)


def goes_on(clause: str) -> bool:
    """Whether a Chinese clause goes on about the one before: it starts like one (GOES_ON: 每, 在三楼) or is a
    value alone (周日：只开急诊，10:00–16:00)."""
    return bool(GOES_ON.match(clause)) or not words_of(VALUE.sub(" ", clause))


def _people(clause: str) -> list[str]:
    """A Chinese clause listing people each with their own part (陈Mia（外文图书）、王志远（参考咨询）) cut at 、."""
    pieces = clause.split("、")
    if len(pieces) > 1 and all(names(p) | chinese_names(p) for p in pieces):
        return pieces
    return [clause]


def _listed(pieces: list[str]) -> list[str]:
    """English clauses with a list of days cut at its commas joined again ("Monday, Wednesday and Friday")."""
    out: list[str] = []
    for piece in pieces:
        only_days = (is_latin(piece) and DAY.search(piece) and not RUN.search(piece)
                     and not words_of(DAY.sub(" ", piece)))
        if out and only_days and DAY.search(out[-1]):
            out[-1] += ", " + piece.strip()
        else:
            out.append(piece)
    return out


def _parts(clause: str) -> list[str]:
    """An English clause cut at a conjunction between two values (numbers or days); any other clause whole."""
    if not is_latin(clause):
        return [clause]
    parts: list[str] = []
    for piece in JOIN.split(clause):
        # A piece that is a value alone ("Monday and Friday", "9:00 and 17:00") is part of the one before.
        if parts and not (VALUE.search(piece) and VALUE.search(parts[-1]) and words_of(VALUE.sub(" ", piece))):
            parts[-1] += " and " + piece
        else:
            parts.append(piece)
    return parts
