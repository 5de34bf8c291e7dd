"""Whether a reply's values come from sentences about what the question is about, or only from others."""
from __future__ import annotations

from ..key_tokens import CITATION, numbers, with_hours
from .answer_kind import mentions
from .chunk import sentences
from .clauses import words_of
from .elsewhere import other_document
from .evidence import language
from .rivals import subject_words

# What a sentence (read with its line's first sentence, its passage's headings and its title) must share of what
# a question is about for a value of it to answer the question: on bench/data/evidence (all five sets, the
# built-in model's replies at 53a3f66, same language) the best sentences of the wrong replies' values shared
# 0-0.20 (18 dollars from a poster's price for a rabies shot: 0), those of the right ones at least 0.22.
ON_TOPIC = 0.2
# The same of a whole passage with its title: the wrong replies' values' passages shared 0-0.17, the right ones'
# at least 0.42 (all four sets then, the built-in model's replies at 4e53287, same language).
PASSAGE_ON_TOPIC = 0.3


def off_topic(reply: str, question: str, sources: list[dict], debug: bool = False):
    """Whether a value of the reply comes only from sentences about something else than the question.

    A sentence backs a value when it holds it; it is about the question when it (with its line's first sentence,
    its heading and its source's title) shares ON_TOPIC of what the question is about (its words less the cue
    words of what it asks: 多少钱, 每小时, which floor). "A rabies shot costs 18 dollars." has its 18 only from
    "Posters up to A1 size cost 18 dollars each." and a cat's night: both about something else. A sentence in
    another language than the question shares no words and is not judged (its value counts as backed).
    `debug`: the smallest of the values' best shares, or None when nothing was judged.
    """
    from .index import mostly_latin

    asked = numbers(question)
    said = {v: kinds for v, kinds in mentions(CITATION.sub(" ", reply)) if v not in asked}
    subject = subject_words(question)
    total = sum(len(w) for w in subject)
    best: dict[str, float] = {}
    english = language(question) == "en"
    for unit, context in (u for s in sources for u in units_of(s)) if said and total else ():
        # A value backs the reply's only as the same kind of number: "$10" is not the 10 of "7:00 and 10:00".
        for value in {v for v, kinds in mentions(unit) if v in said and not (kinds and said[v] and
                                                                             not kinds & said[v])}:
            if mostly_latin(unit) != english:
                best[value] = 1.0
            else:
                share = sum(len(w) for w in subject & words_of(context)) / total
                best[value] = max(best.get(value, 0.0), share)
    if debug:
        return max(best.values()) if best else None
    return ((bool(best) and max(best.values()) < ON_TOPIC) or passage_off_topic(reply, question, sources)
            or other_document(reply, question, sources))


def passage_off_topic(reply: str, question: str, sources: list[dict]) -> bool:
    """The check before it was made per sentence: the passages holding the reply's values, in the question's
    language, share under PASSAGE_ON_TOPIC of what it is about. Kept: it alone flags "I pay $10" for a late
    check-out (its 10 is a laundry price's, in a line of both languages that the sentence check does not judge)."""
    from .index import mostly_latin

    said = with_hours(numbers(reply))
    subject = subject_words(question)
    total = sum(len(w) for w in subject)
    holding = [s for s in sources if said and with_hours(numbers(s["text"])) & said]
    if not total or not holding or any(mostly_latin(s["text"]) != (language(question) == "en") for s in holding):
        return False
    share = max(sum(len(w) for w in subject & words_of(f"{s['title']} {s['text']}")) / total for s in holding)
    return share < PASSAGE_ON_TOPIC


def units_of(source: dict):
    """(sentence, what it is read with: its line's first sentence, its heading, the source's title) of a passage."""
    heading = ""  # every heading of the passage so far: "# 摄影入门工作坊" names what "## 费用"'s 学费 is of
    for line in source["text"].splitlines():
        if line.lstrip().startswith("#"):
            heading += " " + line
            continue
        said = sentences(line)
        for s in said:
            yield s, f"{source['title']} {heading} {said[0]} {s}"
