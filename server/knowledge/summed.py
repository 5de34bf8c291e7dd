"""A value question whose answer is a sum of the evidence's values, composed with the sum written out and cited:
the asker's discount off a price, a count the question states times a unit price, a fee plus its deposit."""
from __future__ import annotations

import re

from .chunk import sentences
from .clauses import clauses, words_of
from .evidence import language
from .paired import SPLIT, pick, row_cells
from .rivals import RATES, candidates, subject_words
from .sums import (DEPOSIT, FULL_AGE, GROUPS, ONE, PERCENT, PRICE, TOTAL, applies,
                   asker_age, clauses_of, count, factors, groups, money,
                   mentions_money, shares, unit_of, written)
from .tables import labelled_row, rows
from .wording import EMPHASIS, TRAILING

FRAME = {"zh": "根据资料{cites}：{said}。{sum}。", "en": "According to {cites}: {said}. {sum}."}
JOIN = {"zh": "；", "en": "; "}
# A column of a price table that is another group's price ("儿童价格（14岁以下）", "Member", "Student").
OTHER_GROUP = re.compile("|".join(p.pattern for _, p in GROUPS) + r"|会员|member", re.I)


def summed(question: str, shown: str, sources: list[dict]) -> tuple[str, list[int]] | None:
    """(reply, cited sources) where the question's answer is a sum the evidence backs; None where it is not, or
    where the evidence writes the asker's price itself (学生日票 59元, "Student monthly membership: £42")."""
    lang = language(question)
    for make in (_discounted, _counted, _with_deposit, _percent_of):
        found = make(question, shown, sources)
        if found:
            said, total, cited = found
            cites = "".join(f"[{n}]" for n in sorted(set(cited)))
            body = JOIN[lang].join(TRAILING.sub("", EMPHASIS.sub("", s)) for s in said)
            return FRAME[lang].format(cites=cites, said=body, sum=total), sorted(set(cited))
    return None


def _discounted(question: str, shown: str, sources: list[dict]):
    """The asker's discount (年满65周岁的老人…打八折, "Students … get 40% off Monthly and Annual Passes") off the one
    full price of the same document that the discount and the question are both about."""
    if not (groups(question) or asker_age(question) is not None) or count(question):
        return None  # two students: a count and a discount together are left to the model, and checked
    subject = _about(question)
    for s in sources:
        for clause in clauses_of(s["text"]):
            given = factors(clause)
            if len(given) != 1 or mentions_money(clause) or not applies(clause, question):
                continue
            scope = _scope(clause, given[0][1])
            if not scope or _written_for_group(question, s["title"], sources, subject):
                return None
            prices = _priced(s["title"], sources, scope, subject, question)
            if len({p[0] for p in prices}) != 1:
                return None  # no price, or several the question cannot tell apart: the model writes, and is checked
            value, as_written, read, n = prices[0]
            factor = given[0][0]
            result = written(float(value) * factor, as_written)
            return [read, clause], f"{as_written} × {factor:g} = {result}", [n, s["n"]]
    return None


def _about(question: str) -> set[str]:
    """What the question is about, with the unit of a rate it names ("a month of rides": the Monthly Pass row)."""
    return subject_words(question) | {w for _, p in RATES for m in p.finditer(question) for w in words_of(m.group())}


def _scope(clause: str, phrase: str) -> set[str]:
    """What a discount is off: its clause's words less its groups', its age bound's and its factor's."""
    rest = clause.replace(phrase, " ")
    for _, pattern in GROUPS:
        rest = pattern.sub(" ", rest)
    rest = FULL_AGE.sub(" ", rest)
    return {w for w in words_of(rest) if len(w) > 1 and not w.isdigit()}


def _written_for_group(question: str, title: str, sources: list[dict], subject: set[str]) -> bool:
    """Whether the document writes a price for the asker's own group about the question ("Student monthly
    membership: £42 per month"): then that price answers, not a sum."""
    asked = groups(question)
    for s in sources:
        if s.get("title") != title:
            continue
        for clause in clauses_of(s["text"]):
            if money(clause) and asked & groups(clause) and shares(subject, clause) and not factors(clause):
                return True
    return False


def _priced(title: str, sources: list[dict], scope: set[str], subject: set[str], question: str) -> list[tuple]:
    """(value, as written, as read, source) of the full prices of the document that both the discount's scope and
    the question are about: a table's cell in the question's column or the one column no other group's, else a
    sentence's one price."""
    out: list[tuple] = []
    chosen: list[tuple] = []  # a row's alternative the question names (滚筒): more its than a row it shares a word with
    heading = _headings(sources, title)
    for header, row, n in rows(sources, title):
        label = row[0]
        # A discount off a kind of price (人工费) holds for a table the heading says is of it (维修价格（人工费）).
        of = heading.get(tuple(row)) or heading.get(tuple(header), "")
        if not (shares(scope, f"{label} {of}") and shares(subject, " ".join(row[:-1]))):
            continue
        paired = [pick(question, row, c) for c in row[1:] if money(c) and len(SPLIT.split(c)) > 1]
        if paired:  # 更换电机（滚筒 / 波轮） | 180元 / 140元: the alternative the question names, else none
            if len(paired) == 1 and paired[0] and money(paired[0][1]):
                value, as_written = money(paired[0][1])[0]
                chosen.append((value, as_written, f"{label} | {paired[0][0]}：{paired[0][1]}", n))
            continue
        priced = [(h, c) for h, c in zip(header[1:], row[1:]) if money(c)]
        named = [(h, c) for h, c in priced if shares(subject, h)]
        plain = [(h, c) for h, c in priced if not OTHER_GROUP.search(h)]
        for h, c in named or (plain if len({money(c)[0][0] for _, c in plain}) == 1 else []):
            value, as_written = money(c)[0]
            out.append((value, as_written, labelled_row([header[0], h], [label, c]), n))
            break
    if chosen or out:
        return chosen or out
    for s in sources:
        if s.get("title") != title:
            continue
        for clause in clauses_of(s["text"]):
            found = money(clause)
            if len(found) == 1 and not factors(clause) and not DEPOSIT.search(clause) and \
                    shares(scope, clause) and shares(subject, clause) and not groups(clause):
                out.append((*found[0], clause, s["n"]))
    return out


def _headings(sources: list[dict], title: str) -> dict[tuple, str]:
    """The heading above each table row of the document's passages, by the row's cells (a passage that starts inside
    the table has none: its header row's, from the passage before, is the table's)."""
    out: dict[tuple, str] = {}
    for s in sources:
        if s.get("title") != title:
            continue
        heading = ""
        for line in s.get("text", "").split("\n"):
            if line.lstrip().startswith("#"):
                heading = line.strip("# ")
            elif line.strip().startswith("|"):
                out[tuple(row_cells(line))] = heading or out.get(tuple(row_cells(line)), "")
    return out


def _counted(question: str, shown: str, sources: list[dict]):
    """A count the question states times the one unit price of the clause most about it (两个人 × 每位68元)."""
    stated = count(question)
    if stated is None or ONE.search(question):
        return None
    n, unit = stated
    if any(factors(c) and applies(c, question) for s in sources for c in clauses_of(s["text"])):
        return None  # a discount the askers get too: not the full price times the count
    found = candidates(question, shown, person=False, kind="money")
    per = [c for c in found.answer if unit_of(f"{c.before} {c.text}") == unit and money(c.text)]
    if len({money(c.text)[0][0] for c in per}) != 1:
        return None
    c = per[0]
    value, as_written = money(c.text)[0]
    return [_read(c, shown)], f"{n} × {as_written} = {written(float(value) * n, as_written)}", [c.n]


def _with_deposit(question: str, shown: str, sources: list[dict]):
    """A fee plus its deposit, where the question asks both together (一共, in total) and one sentence gives each."""
    if not (TOTAL.search(question) and DEPOSIT.search(question)):
        return None
    found = candidates(question, shown, person=False, kind="money")
    leads = [c for c in found.answer if money(c.text)]
    for lead in leads:
        same = [c for c in clauses(shown) if (c.n, c.sentence) == (lead.n, lead.sentence) and money(c.text)]
        deposit = {money(c.text)[0] for c in same if DEPOSIT.search(f"{c.before} {c.text}")}
        fee = {money(c.text)[0] for c in same if not DEPOSIT.search(f"{c.before} {c.text}")}
        if len(deposit) == 1 and len(fee) == 1:
            (f, fw), (d, dw) = fee.pop(), deposit.pop()
            said = [_read(c, shown) for c in same]
            return said, f"{fw} + {dw} = {written(float(f) + float(d), fw)}", [lead.n]
    return None


# A percentage's floor: "最低 50元", "minimum £20", "at least $15".
MINIMUM = re.compile(r"(?:最低|至少|不少于|不低于|minimum(?: of)?|at least)\s*(" + PRICE.pattern + ")", re.I)
UNDER = {"zh": "{sum}，低于最低{floor}，按{floor}", "en": "{sum}, under the minimum of {floor}, so {floor}"}


def _percent_of(question: str, shown: str, sources: list[dict]):
    """A percentage the one clause about the question states of an amount the question states (配件大概200块 ×
    须先付配件价的 30% 作为定金), its minimum applied where the result falls under it."""
    amounts = money(question)
    if len({v for v, _ in amounts}) != 1:
        return None
    subject = _about(question) - words_of(amounts[0][1])
    lead = [(c, s["n"]) for s in sources for line in s["text"].split("\n") for c in sentences(line)
            if len(PERCENT.findall(c)) == 1 and not factors(c) and shares(subject, c)
            and not money(MINIMUM.sub(" ", c))]
    if len({c for c, _ in lead}) != 1:
        return None
    clause, n = lead[0]
    clause = clause.strip(" -*•")
    floor = MINIMUM.search(clause)
    like = floor.group(1).strip() if floor else amounts[0][1]
    pct = PERCENT.search(clause).group(1)  # type: ignore[union-attr]
    amount = written(float(amounts[0][0]), like)
    result = float(amounts[0][0]) * float(pct) / 100
    total = f"{amount} × {pct}% = {written(result, like)}"
    if floor and result < float(money(floor.group(1))[0][0]):
        total = UNDER[language(question)].format(sum=total, floor=floor.group(1).strip())
    return [clause], total, [n]


def _read(clause, shown: str) -> str:
    from .wording import as_read

    return as_read(clause, shown, "money")
