"""A value from a sentence about another thing: a café's hours for the gym's, a reading room's for the library's.

"The Basecamp Café is open ... Sunday 9:00am – 5:00pm" shares with "What time does the climbing gym shut on
Sundays?" only the day and the document's own name (Granite Peak Climbing ...), and names a thing of its own, the
café: its 5:00pm is the café's, not the gym's (heldout4, composed and unflagged). The gym's own line, "Sunday:
9:00am – 6:00pm", names nothing but the day.
"""
from __future__ import annotations

import re

from .chunk import sentences
from .clauses import RUN, VALUE, words_of
from .rivals import CUES
from .weekday import ANY as DAY_WORDS

# A sentence's label: what comes before its colon ("Passenger Service Centre: daily 6:00am", 三楼少儿阅览室：周二),
# not a time's colon (9:00).
LABEL = re.compile(r"(?<!\d)[:：](?!\d)")
LABEL_CHARS = 40  # a longer start before a colon is a sentence, not a label
# Words of when a thing is open, which say nothing of what is open (the café "is open", 关门).
WHEN = set("开始 开门 关门 闭馆 开放 结束 营业 时间 每天 每日 上午 下午 早上 晚上 中午 open opens opening close closed "
           "closes closing shut start begin end finish daily every hour hours morning afternoon evening night".split())


def subject_of(sentence: str) -> set[str]:
    """The words of what a sentence is about by its start: its label, else its words before its first value,
    less days, words of when and cue words ("The Basecamp Café is open Monday ..." -> basecamp, café)."""
    m = LABEL.search(sentence)
    first = VALUE.search(sentence) or RUN.search(sentence)
    if m and m.start() <= LABEL_CHARS:
        lead = sentence[:m.start()]
    else:
        lead = sentence[:first.start()] if first else ""
    # One character names no thing (每周一闭馆's 每, 为).
    return {w for w in words_of(DAY_WORDS.sub(" ", lead)) if w not in WHEN and not CUES.fullmatch(w)
            and not w.isdigit() and len(w) > 1}


def about_else(sentence: str, context: str, question: str, own: set[str]) -> bool:
    """Whether a sentence is about another thing than the question: it names a thing of its own at its start that
    the question does not, and it (with its context: its heading, its source's title) shares nothing of what the
    question is about but the days and its document's own name (`own`)."""
    from .evidence import language

    if language(sentence) != language(question):
        return False  # read in translation: its words cannot be compared here (bilingual.py's part)
    lead = subject_of(sentence)
    named = {w for w in lead if not _named_by(w, own)}
    if not named or len(named) < len(lead):
        return False  # "Sunday: 9:00am – 6:00pm" names nothing but its day; 本学期宿舍搬迁定于 names its notice
    # A question naming nothing but the document and a day (周末图书馆几点关门) is not answered by a room's hours.
    # The question's words less its cue words one by one: subject_words would cut "When does the café close" whole.
    subject = {w for w in words_of(question) if not DAY_WORDS.fullmatch(w) and w not in WHEN
               and not CUES.fullmatch(w) and not _named_by(w, own)}
    return not subject & words_of(f"{context} {sentence}")


def _named_by(word: str, own: set[str]) -> bool:
    """Whether a word is of the document's own name, or a compound of its words (体检中心 of 安康体检中心)."""
    return word in own or any(len(o) > 1 and o in word for o in own)


def own_names(sources: list[dict]) -> dict[int, set[str]]:
    """Each source's words of its document's own name: its title's and its first-level headings' in any passage of
    it shown (Granite Peak's "peak" makes "Off-peak membership" no answer about it). Not the words its passages
    share: neighbouring passages overlap, and two of a climbing gym's shared "sunday" and "open"."""
    by_document: dict[str, list[dict]] = {}
    for s in sources:
        by_document.setdefault(s.get("document_id", s["n"]), []).append(s)
    own: dict[int, set[str]] = {}
    for passages in by_document.values():
        texts = [s.get("text", "") for s in passages]
        name = words_of(" ".join([passages[0].get("title", "")] + [line for t in texts for line in t.splitlines()
                                                                 if re.match(r"\s*#\s", line)]))
        for s in passages:
            own[s["n"]] = name
    return own


def units(source: dict):
    """(sentence, its context: the source's title and every heading of the passage before it)."""
    heading = ""
    for line in source.get("text", "").splitlines():
        if line.lstrip().startswith("#"):
            heading += " " + line
            continue
        for s in sentences(line):
            yield s, f"{source.get('title', '')} {heading}"


def clause_else(text: str, n: int, question: str, sources: list[dict], own: dict[int, set[str]]) -> bool:
    """Whether the sentence of source n that holds a clause's text is about another thing than the question."""
    source = next((s for s in sources if s["n"] == n), None)
    found = next(((s, c) for s, c in units(source) if text in s), None) if source else None
    return found is not None and about_else(found[0], found[1], question, own.get(n, set()))


def from_elsewhere(reply: str, question: str, sources: list[dict]) -> list[str]:
    """The reply's values (not the question's own) that every sentence of the question's language holding them is
    about another thing ("5:00pm" for the gym's Sunday closing, held only by the café's line)."""
    from ..key_tokens import with_hours
    from .answer_kind import kind_of, mentions
    from .evidence import language

    kind = kind_of(question)
    asked = with_hours({v for v, _ in mentions(question)})
    said = {v for v, kinds in mentions(re.sub(r"\[\d+\]", " ", reply))
            if (not kind or kind in kinds) and v not in asked}
    if not said:
        return []
    own = own_names(sources)
    lang = language(question)
    holding: dict[str, list[bool]] = {}
    for source in sources:
        for sentence, context in units(source):
            if language(sentence) != lang:
                continue  # read in translation: not judged here
            held = with_hours({v for v, _ in mentions(sentence)}) & said
            for v in held:
                holding.setdefault(v, []).append(about_else(sentence, context, question, own.get(source["n"], set())))
    return sorted(f"(elsewhere {v})" for v, verdicts in holding.items() if all(verdicts))


def other_document(reply: str, question: str, sources: list[dict]) -> bool:
    """Whether a value or name of the reply comes only from other documents than the one the question names by a
    word of its title: "What's the Wi-Fi password at the hostel?" -> 2290, a college's IT help line's extension,
    while youth-hostel.md is among the sources (its sentence shares "password": the sentence check passes it)."""
    from ..key_tokens import names, numbers
    from .rivals import subject_words

    titled = own_names(sources)  # its title and first heading: 陶艺课 names pottery.md by its "# 陶艺课 …"
    named = {w for w in subject_words(question) if len(w) > (2 if w.isascii() else 1)
             and any(w in t for t in titled.values())}
    said = (numbers(re.sub(r"\[\d+\]", " ", reply)) - numbers(question)) | (names(reply) - names(question))
    if not named or not said:
        return False
    for value in said:
        # A passage that writes the named word itself is about it (种植中心在综合楼六楼, though 中心 names 体检中心).
        holding = [s for s in sources if value in numbers(s["text"]) | names(s["text"])]
        if holding and not any(named & (titled[s["n"]] | words_of(s["text"])) for s in holding):
            return True
    return False
