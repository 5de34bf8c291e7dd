"""Whether a reply's backing sentence is about what the question asks: its condition met, its role written, the
thing it names.

Three wrong replies each passed the value checks because their values were in the evidence: a buffet's adult
price for "my child is 1.3 m" beside "1.2-1.4米儿童半价（34元）" in the same line; a manager's name for "at 1 am"
beside the night shift's "(24:00–7:00)" line, under a role (班长) no line writes; a ferry's "single adult ticket"
for "a one-day lift ticket", from a document that never says "lift".
"""
from __future__ import annotations

import re

from ..key_tokens import chinese_names, numbers
from . import conditions
from .asked_document import pointed_elsewhere
from .answer_kind import kind_of, mentions
from .chunk import sentences
from .evidence import language
from .narrow import asked_kind
from .other_thing import PLAIN, of_another_kind, other_row, sibling
from .place_codes import WHERE
from .rivals import asks_person, latin_people, rates, values_of

# A clause of a sentence: what one condition (1.2米以下儿童免费) or one price is said of.
PART = re.compile(r"[，,；;]")
# A composed reply's frame before the clause it quotes.
FRAME = re.compile(r"^\s*(?:根据资料(?:\[\d+\])+：|According to (?:\[\d+\])+:\s*)")
# A reply's label before its value: "班长：何静" (a role), not a time's colon.
LABEL = re.compile(r"^\s*[-*•]?\s*([^:：\d\[\]]{1,16}?)\s*[:：](?!\d)")


def _values(text: str, question: str, person: bool) -> set[str]:
    """A text's values of what the question asks (names for a who-question), less the question's own."""
    if person:
        return (chinese_names(text) | latin_people(text)) - set(re.findall(r"\w+", question))
    return set(values_of(kind_of(question), text)) - numbers(question)


def _lines(source: dict) -> list[list[str]]:
    """A passage's lines (headings left out), each as its sentences."""
    return [sentences(line) for line in source.get("text", "").splitlines() if line.strip()
            and not line.lstrip().startswith("#")]


def about_other(reply: str, question: str, sources: list[dict], shown: str) -> list[str]:
    """What the reply's backing sentence is about against what the question asks: a condition it states that another
    clause meets, a role no line writes, a thing the passage never names ("lift ticket" for a ferry's ticket)."""
    return (unmet_condition(reply, question, sources) + unwritten_role(reply, question, shown) +
            unnamed_thing(reply, question, sources) + other_rate(reply, question) + no_place(reply, question) +
            pointed_elsewhere(FRAME.sub("", reply), question, sources) + of_another_thing(reply, question, sources))


def of_another_thing(reply: str, question: str, sources: list[dict]) -> list[str]:
    """other_thing's rules over a reply's clause: a value of another kind, a sibling, another row."""
    clause, kind = FRAME.sub("", reply), asked_kind(question)
    return of_another_kind(clause, question, kind) + sibling(clause, question, kind) + other_row(clause, question,
                                                                                                  sources)


def other_rate(reply: str, question: str) -> list[str]:
    """A price question per one unit (what do you charge per hour?) answered per another only ("once per day at no
    charge"): what the reply says is not what was asked."""
    asked = rates(question) if kind_of(question) == "money" else set()
    said = rates(FRAME.sub("", reply))
    return [f"(per {'/'.join(sorted(said))})"] if asked and said and not asked & said else []


def no_place(reply: str, question: str) -> list[str]:
    """A where-question answered with values that are all prices or lengths ("Express laundry (back in 4 hours): CNY
    45 per shirt" for where the coin laundry is): no place."""
    if not WHERE.search(question) or kind_of(question):
        return []
    kinds = [k for _, k in mentions(re.sub(r"\[\d+\]", " ", FRAME.sub("", reply)))]
    # Not times: a place's line often gives its hours ("every Wednesday at 15:30 in the Blue Room").
    return ["(no place)"] if kinds and all(k and k <= {"money", "duration"} for k in kinds) else []


def unmet_condition(reply: str, question: str, sources: list[dict]) -> list[str]:
    """The question states a condition (a child's age or height, an hour, a party of ten) that no clause holding the
    reply's values meets, while a clause with a value of its own meets it: in the same line for a person's (the
    child's price beside the adults'), in the same passage for an hour (the night shift's line in a list of staff)
    and for a party (the room of 12 is the one for 10, not the room of 40 nor of 6)."""
    condition = conditions.stated(question)
    person = asks_person(question)
    said = _values(FRAME.sub("", reply), question, person)
    if not condition or not said:
        return []
    unmet = False
    for source in sources:
        held = met = False
        every = [p for line in _lines(source) for s in line for p in PART.split(s) if p.strip()]

        def fits(part: str) -> bool:  # it meets the condition, and no smaller room of the passage holds the party
            return bool(conditions.applies(condition, part)) and not conditions.roomier(condition, part, every)

        for line in _lines(source):
            parts = [p for s in line for p in PART.split(s) if p.strip()]
            backing = [p for p in parts if _values(p, question, person) & said]
            if any(fits(p) for p in backing):
                return []  # a clause holding the reply's value meets it
            meeting = any(fits(p) and _values(p, question, person) - said for p in parts)
            unmet |= bool(backing) and meeting
            held, met = held or bool(backing), met or meeting
        unmet |= (condition.hour is not None or condition.party is not None) and held and met
    return ["(condition unmet)"] if unmet else []


def unwritten_role(reply: str, question: str, shown: str) -> list[str]:
    """A who-question's reply that labels its name with a role no evidence line nor the question writes (班长：何静
    where the line says 店长 Manager：何静)."""
    if not asks_person(question):
        return []
    m = LABEL.match(FRAME.sub("", reply))
    if m is None:
        return []
    label = m.group(1).strip()
    if not label or language(label) != language(question) or label.lower() in f"{shown}\n{question}".lower():
        return []
    return [f"(role {label})"]


def unnamed_thing(reply: str, question: str, sources: list[dict]) -> list[str]:
    """An English value question's thing named by two words ("lift ticket") answered by a sentence that holds the
    second and whose passage never writes the first: "A single adult ticket costs 3.50 dollars" is a ferry's."""
    if language(question) != "en" or asks_person(question) or kind_of(question) is None:
        return []  # a place or a name asked: a station's "ticket hall" answers a train ticket it never names
    asked = re.findall(r"[a-z]+(?:'[a-z]+)?", question.lower())
    said = _values(FRAME.sub("", reply), question, False)
    if not said:
        return []
    verdicts = []
    for source in sources:
        text = f"{source.get('title', '')} {source.get('text', '')}".lower()
        for line in _lines(source):
            for sentence in line:
                if language(sentence) != "en" or not _values(sentence, question, False) & said:
                    continue
                words = set(re.findall(r"[a-z]+", sentence.lower()))
                verdicts.append(_unnamed(asked, words, text))
    missing = [v for v in verdicts if v]
    return [f"(asked {missing[0]})"] if verdicts and len(missing) == len(verdicts) else []


def _unnamed(asked: list[str], words: set[str], passage: str) -> str | None:
    """The question's "first second" whose second word the sentence holds and whose first its passage lacks."""
    for before, word in zip(asked, asked[1:]):
        if word in PLAIN or len(word) < 3 or word not in words or before in PLAIN or len(before) < 3:
            continue
        stem = before.rstrip("s").removesuffix("'")
        if before not in words and stem not in passage:
            return f"{before} {word}"
    return None
