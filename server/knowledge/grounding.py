"""The honest fallback: is a grounded reply's every number, time and name in what the model was shown?"""
from __future__ import annotations

import re
from typing import cast

from .chunk import sentences
from .asked_noun import asked_noun, dialled, not_the_named, only_the_named
from .evidence import WANTS_NUMBER
from .clauses import clauses
from .rivals import candidates, latin_people, numbered, rates, states_rivals
from ..key_tokens import canonical, chinese_names, names, number_forms, numbers, with_hours
from ..shapes import Grounding
from .answer_kind import has_kind, kind_of, mentions, of_kind
from .weekday import DAYS, weekdays, within
from .yes_no import unbacked
from .echo import asks_someone, echoes, strung
from .place_codes import named_elsewhere, unbacked_codes
from .whole_passages import as_shown, of_no_kind_held, outranked
from .elsewhere import from_elsewhere
from .asked_thing import about_other
from .sums import derived, stated
from .on_topic import off_topic, units_of
from .events import other_event
from .paired import unpicked
from .asked_parts import by_part, parts, unanswered_parts

CLAUSE_START = re.compile(r"^[\s\-*•>]+")  # a reply's list marker ("- New members ...")
EVIDENCE_LINE = re.compile(r"^\[(\d+)\] \((.+?)\) (.+)$", re.M)  # "[n] (title) sentence", best first


def answer_numbers(question: str, shown: str) -> list[str]:
    """The numbers a reply may write, in every form it may write them.

    Those of the clauses about the question nearly as much as the best one, and the question's own. Every
    rival's value is among them: the guard never forces a doubtful choice; the check flags a reply that makes one.
    """
    allowed, texts = with_hours(numbers(question)), []
    for asked in parts(question) or [question]:  # a question of two parts: the numbers of each
        found = candidates(asked, shown, person=False)
        backing = [c.text for c in found.backing] or [shown]
        texts += backing
        allowed |= with_hours(of_kind(found.kind, backing))
    return sorted(f for f in number_forms("\n".join(texts + [question])) if f in allowed or _canonical_in(f, allowed))


def _canonical_in(form: str, backed: set[str]) -> bool:
    try:
        return canonical(form) in backed
    except ValueError:
        return False


NOT_FOUND_WORDS = ("not found", "没有找到", "未找到", "找不到")  # the server's own not-found replies say the first two


def says_not_found(reply: str) -> bool:
    """Whether a reply says the knowledge does not hold the answer, as the prompt asks a model to."""
    low = reply.lower()
    return any(w in low for w in NOT_FOUND_WORDS)


def unsupported(reply: str, question: str, shown: str) -> list[str]:
    """What the reply states that the evidence about the question does not back, without a rival.

    Its numbers and times must be those of the clauses most about the question (or the question's own); its
    names, Latin or Chinese, must be in the evidence, and for a who-question in those clauses. A question that
    asks for a number and a reply with none, a reply whose numbers are all of another kind than asked
    (哪天闭馆 -> 9:00到17:00), and a reply that picks one of rival values, or lists them without what tells them
    apart ("(rival)"), are unsupported too.
    Days of the week are values like numbers: for a 哪天 / which-day question those of the clauses most about
    it (or the question's), for any other question those of the evidence. A yes or a no must be what a clause
    about the question says (不可续借 against 可以).
    """
    codes = numbered(question)  # T1 of T1航站楼 names the terminal: it backs no "1小时" and is no value of a reply
    plain = _without(reply, codes)
    found, days = numbers(plain), weekdays(reply)
    if says_not_found(reply) and not found and not days:
        return []  # "Not found." claims nothing: it is what a model is told to say when the evidence lacks it
    kind = kind_of(question)
    # 多久 asks a length as 多长时间 does: "学校不再为学生出具签证延期材料" tells no 提前多久.
    if (WANTS_NUMBER.search(question) or kind == "duration") and not found and not (kind == "date" and days):
        return ["(no number)"]
    if asked_noun(question) == "phone" and not any(run in shown for run in dialled(reply)):
        return ["(no phone number)"]  # "3-15-15" for an extension: small numbers of the evidence, none to dial
    if kind and found and not has_kind(kind, reply):
        return [f"(no {kind})"]
    if kind == "date" and not found and not days:
        return ["(no date)"]
    person = asks_someone(question)  # 谁, who, and 该找哪个工作人员
    cands = candidates(question, shown, person=person)
    said = latin_people(CLAUSE_START.sub("", reply)) | chinese_names(reply)
    if person and not {w for w in said if w not in question}:
        return ["(no name)"]  # the question's own names (青少年泳姿班) and a first word ("New members") name nobody
    # The question's own numbers back the reply's, but not as the kind it asks where it says them as another:
    # 游泳池的十次卡多少钱 counts ten visits, it prices nothing at 10 dollars.
    as_asked = {v for v, k in mentions(plain) if kind in k} if kind else set()
    own = numbers(_without(question, codes)) - (as_asked - {v for v, k in mentions(question) if kind in k})
    backed = with_hours(own | (set() if person else cands.values))
    if person or not cands.answer:  # a who-question's numbers, or nothing of the kind: any of the evidence
        backed |= with_hours(numbers(shown))
    # A number of another kind than asked (the start date beside a course's length) need only be in the evidence.
    aside = ({v for v, kinds in mentions(plain) if kind and kind not in kinds} - as_asked) & numbers(shown)
    missing = sorted(found - backed - with_hours(aside) - derived(reply, question, shown))  # a sum's, written out
    missing += _misplaced_rates(reply, shown)
    day_backed = weekdays(question) | (_days(cands.values) if kind == "date" and cands.answer else weekdays(shown))
    missing += sorted(d for d in days if not within(d, day_backed))
    low = f"{shown}\n{question}".lower()
    stated = names(reply) | chinese_names(reply)
    missing += sorted(w for w in stated if w.lower() not in low and w.lower().rstrip("s") not in low)
    if person and cands.answer:
        named = " ".join(set().union(*(c.values for c in cands.answer)))
        missing += sorted(w for w in stated & cands.every if w not in named)
    if cands.ambiguous and not missing and states_rivals(reply, cands, person):
        missing.append("(rival)")
    if unbacked(reply, question, shown):  # a yes or a no that no clause about the question says
        missing.append("(yes/no)")
    return missing


def unanswered(reply: str, question: str, sources: list[dict], shown: str) -> list[str]:
    """What the whole passages say against the reply: it says the question again, or strings small numbers
    together ("1-1-1"); an exit, gate or window code (A出口, Exit D) that no sentence about the question names; a
    value the passages' best clauses do not hold ("$30" for a course whose sentence says $95 but was not shown); a
    price or time held only as another kind, or only by sentences about another thing (a café's hours for the
    gym's); a price for an asked deposit or fine that no clause naming it holds."""
    if says_not_found(reply):
        return []
    if echoes(reply, question):
        return ["(echo)"]
    evidence = [u for s in sources for u, _ in units_of(s)] + [m.group(3) for m in EVIDENCE_LINE.finditer(shown)]
    return (strung(reply, "\n".join(evidence)) or
            unbacked_codes(reply, question, evidence) + named_elsewhere(reply, question, evidence) +
            outranked(reply, question, sources, asks_someone(question)) + of_no_kind_held(reply, question, sources) +
            from_elsewhere(reply, question, sources) + not_the_named(reply, question, sources) +
            other_event(reply, question, sources) + unpicked(reply, question) +
            only_the_named(reply, question, sources) +
            about_other(reply, question, sources, shown))



def _misplaced_rates(reply: str, shown: str) -> list[str]:
    """Prices the reply gives per a unit the evidence never gives them per ("15 dollars per day" for 15 an hour)."""
    given = [(c.text, rates(c.text)) for c in clauses(shown)]
    out = []
    for part in clauses(reply):
        units = rates(part.text)
        for value in {v for v, kinds in mentions(part.text) if "money" in kinds} if units else ():
            per = [u for text, u in given if value in numbers(text)]
            if per and all(u and not u & units for u in per):
                out.append(f"{value} per {'/'.join(sorted(units))}")
    return out


def _days(values: set[str]) -> set[str]:
    return {v for v in values if v.partition("-")[0] in DAYS}


def check(reply: str, question: str, sources: list[dict], shown: str) -> Grounding:
    """`done.grounding`: {supported: true}, or {supported: false, quote: {n, kind, title, sentence}}.

    `shown` is the system text the model was given (its passages or evidence sentences); the question's own
    numbers count as shown, since a reply may repeat them. The quote is what the knowledge says about the
    question: the sentences of the clauses most about it (every rival, where they rival), else the best evidence.
    """
    # A question of two parts: every part answered, each read with the values of the others' clauses left out.
    missing = unanswered_parts(reply, question, shown) or [
        m for part, asked in by_part(reply, question, shown) for m in _missing(part, asked, sources, shown)]
    if not missing:
        return {"supported": True}
    # A value outranked by a sentence that was not shown: the quote is that sentence.
    quoted = as_shown(sources) if any(m.startswith("(outranked") for m in missing) else shown
    quote = answer_quote(question, quoted, sources)
    return cast(Grounding, {"supported": False, **({"quote": {"kind": "passage", **quote}} if quote else {})})


def _missing(reply: str, question: str, sources: list[dict], shown: str) -> list[str]:
    said = stated(reply, question, shown)  # a sum's result is checked by its operands (sums.py)
    return (unsupported(reply, question, shown) or unanswered(said, question, sources, shown) or
            (["(off topic)"] if off_topic(said, question, sources) else []))


def _without(text: str, codes: set[str]) -> str:
    """The text less the numbered things (T1, 科目三) the question names."""
    for code in codes:
        text = text.replace(code, " ")
    return text


def answer_quote(question: str, shown: str, sources: list[dict]) -> dict | None:
    """What the knowledge says about the question: its answer clauses' sentences, else the best evidence."""
    return _answer_quote(question, shown, sources) or _best_quote(shown, sources)


def _answer_quote(question: str, shown: str, sources: list[dict]) -> dict | None:
    """The whole sentences of the source that hold the clauses most about the question (all rivals of it)."""
    answer = candidates(question, shown).answer
    source = next((s for c in answer for s in sources if s["n"] == c.n), None)
    if source is None:
        return None
    said = []
    for c in answer:
        whole = _whole(c.text, sources, source["n"]) if c.n == source["n"] else None
        if whole and whole not in said:
            said.append(whole)
    return {"n": source["n"], "title": source["title"], "sentence": " ".join(said)}


def _best_quote(shown: str, sources: list[dict]) -> dict | None:
    first = EVIDENCE_LINE.search(shown)
    if first and any(s["n"] == int(first.group(1)) for s in sources):
        n = int(first.group(1))
        title = next(s["title"] for s in sources if s["n"] == n)
        return {"n": n, "title": title, "sentence": _whole(first.group(3).strip(), sources, n)}
    best = next((s for s in sources if s.get("sentences")), None)
    if best is not None:
        return {"n": best["n"], "title": best["title"], "sentence": best["sentences"][0]}
    if sources:
        return {"n": sources[0]["n"], "title": sources[0]["title"], "sentence": sources[0]["text"]}
    return None


def _whole(part: str, sources: list[dict], n: int) -> str:
    """The whole sentence of source n that an evidence clause comes from (a person reads it with its subject)."""
    text = next((s["text"] for s in sources if s["n"] == n), "")
    return next((s for line in text.splitlines() for s in sentences(line) if part in s), part)


def evidence_style(setting: str, backend) -> str:
    """--kb-evidence: "auto" shows sentences to base models (no chat template), whole passages to the rest."""
    if setting in ("sentences", "passages"):
        return setting
    return "sentences" if getattr(backend, "base_model", False) else "passages"


def for_done(text: str, reason: str, question: str, sources: list | None, messages: list | None) -> Grounding | None:
    """`done.grounding` of a grounded reply that produced text; None for any other."""
    if not sources or not text.strip() or reason == "error" or not messages or messages[0]["role"] != "system":
        return None
    # Facts of the graph are checked as part of what was shown; only passages can be quoted.
    passages = [s for s in sources if s.get("kind", "passage") == "passage" and "text" in s]
    return check(text, question, passages, messages[0]["content"])
