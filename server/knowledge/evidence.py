"""Evidence sentences: the few sentences (or clauses) of the chosen passages that answer a question, best first."""
from __future__ import annotations

import re

import numpy as np

from . import ranges
from .bilingual import CROSS, shared, weighed
from .chunk import sentences
from .keyword import CJK, words
from .other_words import also, held_otherwise
from ..key_tokens import numbers
from .weekday import day_words, same_day

# Sentences handed to a small model. On bench/data/evidence the built-in 270M model read 3 sentences
# better than whole passages (bench/RESULTS.md); the right sentence was among the best 3 for 40 of 42 questions.
TOP = 3
# A sentence much weaker than the best one is left out: it is noise to a small model.
KEEP_RATIO = 0.45
DENSE_WEIGHT = 0.6  # the embedder's say, rescaled to 0-1 among the candidates, next to keyword coverage 0-1
WANTS_BONUS = 0.35  # a question that asks for a number, time or price prefers sentences that hold one
# Questions that ask for a number, a time, a price or a count (checked on bench/data/evidence's 42).
# A phone number or an extension is a number too ("What's the extension for the grooming center?" -> "The
# grooming center is located at [1]." went unflagged); 打电话 (to phone) asks for none.
WANTS_NUMBER = re.compile(r"how (much|many|long|old|far|early|soon)\b|what time|when|cost|price|fee|多少|几|多长|"
                          r"什么时候|何时|价|费|钱|时间|日期|\bextension\b|\bext\b|(tele)?phone (number|no\b)|"
                          r"what number|分机|(?<!打)电话|号码", re.I)
# A sentence whose range holds the quantity the question states (a 10 year old: "Child (5–15) | £3.80"; a 15 kg
# dog: 中型犬（10–25公斤）) is the one for the asker: such a row had ranked 5th-8th below prose sharing more words.
RANGE_BONUS = 0.35
# A who-question prefers sentences that name a person, as a how-much question those that hold a number: "Priya Shah,
# Youth Coordinator — Kids' Club, …" was 4th for who runs the kids' sessions. Across the 208 answerable questions of
# bench/data/evidence's eight sets the answer reached the shown evidence for 2 more (heldout3, heldout4), none fewer.
FULL_NAME = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b")
MARKUP = re.compile(r"^[#>*\-+|\s]+")
MIN_CHARS = 6  # shorter pieces are headings or list markers, not evidence
# Whole sentences, not their clauses: cutting Chinese sentences at their commas ("专家门诊挂号费为50元" apart
# from "普通门诊挂号费为10元") fixed 3 of the built-in model's answers on bench/data/evidence and broke 5
# (clauses lose their subject): 25/42 right against 27/42 (bench/RESULTS.md). Kept for that measurement.
CLAUSES = False
CLAUSE = re.compile(r"(?<=[，；])")



CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]+")


def language(question: str) -> str:
    """The question's language: Chinese where it has as many Chinese characters as Latin words ("B超室在几楼")."""
    return "zh" if len(CJK_CHAR.findall(question)) >= len(LATIN_WORD.findall(question)) else "en"


def split(text: str) -> list[tuple[str, str]]:
    """(sentence, its heading) of a passage, markup stripped; headings and fragments are not sentences. A table's
    row has its header's labels after its heading: the row is read with them (labelled), and ranked with them too."""
    out = []
    heading = ""
    header = ""  # the labels of the table the line is a row of, or ""
    rows = text.split("\n")
    for i, line in enumerate(rows):
        if line.lstrip().startswith("#"):
            heading = MARKUP.sub("", line).strip()
            continue
        if not TABLE_ROW.match(line):
            header = ""
        elif i + 1 < len(rows) and TABLE_RULE.match(rows[i + 1]):
            header = " ".join(cells(line))
        for s in sentences(line):
            s = MARKUP.sub("", s).strip()
            for c in (CLAUSE.split(s) if CLAUSES else [s]):
                c = c.strip()
                if len(c) >= MIN_CHARS and not (c.endswith(":") and len(c) < 40):
                    out.append((c, f"{heading} {header}".strip() if header and not TABLE_RULE.match(line) else heading))
    return out


def rank(question: str, sources: list[dict], idf, embedder=None) -> list[tuple[float, int, str]]:
    """(score, n, sentence) of every sentence of the sources, best first.

    Score = idf-weighted share of the question's words the sentence holds + the embedder's cosine
    (rescaled among the candidates) + a bonus when the question asks for a number and the sentence has one.
    """
    q_words = set(words(question))
    q_words |= set(also(question, words(" ".join(s["text"] for s in sources))))
    total = sum(idf(w) for w in q_words) or 1.0
    seen, cands, headings = set(), [], []
    for s in sources:
        for sent, heading in split(s["text"]):
            if sent not in seen:  # passages overlap by a sentence
                seen.add(sent)
                cands.append((s["n"], sent))
                headings.append(heading)
    if not cands:
        return []
    # A sentence's heading counts for its words ("## Fares" answers "how much"), half as much as the sentence.
    # Words count in either language (shared): 押金 finds "deposit". A sentence naming the question's day in
    # other words (周日 for 礼拜天) holds the question's day words.
    days = q_words & set(words(day_words(question)))
    kw = np.array([(weighed(q_words, words(sent), idf) + _otherwise(q_words, words(sent), idf)
                    + 0.5 * weighed(q_words - shared(q_words, words(sent)), words(h), idf)
                    + (sum(idf(w) for w in days - shared(days, words(sent)))  # not twice where held in translation
                       if days and same_day(question, sent) else 0))
                   / total for (_, sent), h in zip(cands, headings)])
    dense = np.zeros(len(cands))
    if embedder is not None:
        qv = embedder.embed([question], query=True)[0]
        cos = embedder.embed([sent for _, sent in cands], query=False) @ qv
        dense = _rescaled(cos)
        across = _across(question, cands, sources, q_words, days, idf)
        if across.any():  # the embedder's say counts half across languages, among those sentences alone
            dense[across] = (1 + _rescaled(cos[across])) / 2
    wants = bool(WANTS_NUMBER.search(question))
    q_numbers = numbers(question)
    in_range = _in_range(question, cands, sources)
    from .echo import asks_someone  # echo reads rivals, which reads this module: imported when first asked

    someone = asks_someone(question)
    scores = []
    for i, (n, sent) in enumerate(cands):
        held = numbers(sent) - q_numbers
        bonus = WANTS_BONUS if (wants and held) or (someone and _names_person(sent, question)) else 0.0
        bonus += RANGE_BONUS if i in in_range else 0.0
        scores.append((float(kw[i] + DENSE_WEIGHT * dense[i] + bonus - 0.02 * n), n, sent))
    return sorted(scores, key=lambda t: -t[0])


def _otherwise(q_words: set[str], sent_words: list[str], idf) -> float:
    """The weight of the question's words a sentence holds only in words of the same meaning (当班 by 值班's line), as
    much as a word held only in translation."""
    return CROSS * sum(idf(w) for w in held_otherwise(q_words - shared(q_words, sent_words), sent_words))


def _names_person(sentence: str, question: str) -> bool:
    """Whether a sentence names a person the question does not: "Priya Shah", or one of jieba's person names (林浩)."""
    if any(m.group() not in question for m in FULL_NAME.finditer(sentence)):
        return True
    if not CJK.search(sentence):
        return False
    import jieba.posseg

    return any(w.flag == "nr" and len(w.word) > 1 and w.word not in question for w in jieba.posseg.cut(sentence))


def _in_range(question: str, cands: list[tuple[int, str]], sources: list[dict]) -> set[int]:
    """The sentences whose range holds the quantity the question states, in its language where any is."""
    # A document in both languages says it twice (中件（20 寸以上至 28 寸）：15 元/件/天 and "Medium item (over 20
    # inches up to 28 inches)"): with both shown, the clause choice read two rivals and composed none.
    quantity = ranges.asked(question)
    if quantity is None:
        return set()
    careful = ranges.careful(" ".join(s["text"] for s in sources))  # as narrow.in_range reads the evidence shown
    held = [i for i, (_, sent) in enumerate(cands) if ranges.holds(quantity, sent, careful)]
    lang = language(question)
    own = {i for i in held if language(cands[i][1]) == lang}
    return own or set(held)


def _across(question: str, cands: list[tuple[int, str]], sources: list[dict], q_words: set[str], days: set[str],
            idf) -> np.ndarray:
    """The sentences of the other language that hold some of the question in translation, where the passages of that
    language hold more of what it is about than those of its own; none elsewhere.

    The embedder puts a question nearer any sentence of its own language than the one of the other language that
    answers it (index.Snapshot.across): 去机场的大巴在火车站哪个出口坐 had "Airport shuttle bus: from Exit D" at 0.0 of
    the Chinese lines' 1.0 and never showed it. Only where the other language holds more of the question:
    图书馆每周哪天不开门 keeps its Chinese library (滨江区图书馆…每周一闭馆) ahead of an English library's
    "opens at 9:00 on weekdays", and a day counts in any words (诊所星期六几点关门 -> 周六).
    """
    from .rivals import CUES  # rivals reads this module's language(): imported when first asked

    lang = language(question)
    other = np.array([language(sent) != lang for _, sent in cands])
    if other.all() or not other.any():
        return np.zeros(len(cands), dtype=bool)
    subject = set(words(CUES.sub(" ", question))) - days
    about = {False: 0.0, True: 0.0}
    for src in sources:
        held = weighed(subject, words(f"{src['title']} {src['text']}"), idf)
        held += sum(idf(w) for w in days) if days and same_day(question, src["text"]) else 0
        about[language(src["text"]) != lang] = max(about[language(src["text"]) != lang], held)
    if about[True] <= about[False]:
        return np.zeros(len(cands), dtype=bool)
    translated = np.array([bool(shared(q_words, words(sent)) - set(words(sent))) for _, sent in cands])
    return other & translated


def _rescaled(cos: np.ndarray) -> np.ndarray:
    """Cosines rescaled to 0-1 among the candidates (all zeros where they are all alike)."""
    span = float(cos.max() - cos.min()) if len(cos) else 0.0
    return (cos - cos.min()) / span if span > 1e-6 else np.zeros(len(cos))


def choose(ranked: list[tuple[float, int, str]], top: int = TOP) -> list[tuple[int, str]]:
    """The best `top` sentences that are not much weaker than the best one: (n, sentence)."""
    if not ranked:
        return []
    best = ranked[0][0]
    return [(n, s) for score, n, s in ranked[:top] if score >= best * KEEP_RATIO]


def lines(chosen: list[tuple[int, str]], sources: list[dict]) -> str:
    """The evidence as the model reads it: one `[n] (title) sentence` line each, a table's row with its header."""
    titles = {s["n"]: s["title"] for s in sources}
    texts = {s["n"]: s["text"] for s in sources}
    return "\n".join(f"[{n}] ({titles[n]}) {labelled(s, texts[n])}" for n, s in chosen)


TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|[\s:|-]+\|\s*$")
EMPTY_CELL = {"", "-", "—", "–"}


def cells(row: str) -> list[str]:
    """A Markdown table row's cells: "| a | b |" -> [a, b]."""
    return [c.strip() for c in row.strip().strip("|").split("|")]


def table_start(lines: list[str], i: int) -> tuple[int, bool]:
    """The first line of the table that line i is in, and whether line i is a row under that line as its header."""
    start = i
    while start > 0 and TABLE_ROW.match(lines[start - 1]):
        start -= 1
    return start, i >= start + 2 and bool(TABLE_RULE.match(lines[start + 1]))


def labelled(sentence: str, text: str) -> str:
    """A table's row as read with its header ("Snowboard package (board + boots) | Adult (16+): $52 | Junior
    (7–15): $38 | ..."), where its passage holds the header; any other sentence as it is.

    A row alone gives a column's value with nothing to say which column it is: "How much would a snowboard cost for
    my 12 year old?" was answered "$12." from a row read as "Snowboard package | $52 | $38 | $24".
    """
    rows = text.split("\n")
    for i, line in enumerate(rows):
        if sentence not in line or not TABLE_ROW.match(line):
            continue
        start, under_header = table_start(rows, i)
        if not under_header:
            return sentence  # the header itself, or a table cut from its header by the passage's start
        header, row = cells(rows[start]), cells(line)
        if len(header) != len(row):
            return sentence
        said = [f"{h}{'：' if CJK.search(h) else ': '}{c}" if h else c
                for h, c in zip(header[1:], row[1:]) if c not in EMPTY_CELL]
        return " | ".join([row[0], *said])
    return sentence


def is_chinese(text: str) -> bool:
    return bool(CJK.search(text))
