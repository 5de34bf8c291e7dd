"""The noun a question names for the value it wants (a deposit, a fine, a phone extension) and whether a clause
gives that value: a clause without it answers something else (a locker's monthly rent for its key's deposit)."""
from __future__ import annotations

import re

from .answer_kind import kind_of

# (what the question says, what a clause that answers it says). A price question that names a deposit or a fine is
# not answered by another price of the same thing; a phone question not by a room's floor or an address's number.
NOUNS = (
    # "Put money down" is English for paying a deposit (heldout7 asked it so; "down payment" likewise).
    # Chinese asks these by their verb as often as by their noun: 押多少钱 is a deposit, 赔多少 a compensation.
    ("deposit", re.compile(r"\bdeposits?\b|\bput (?:some |any )?(?:money|cash) down\b|\bdown payments?\b|"
                           r"\bsecurity (?:money|deposit|bond)\b|\bbond\b|押金|定金|订金|保证金|押\w{0,3}?多少|押几",
                re.I),
     re.compile(r"\bdeposits?\b|\bbond\b|押金|定金|订金|保证金", re.I)),
    ("fine", re.compile(r"\bfines?\b(?!\s+(?:with|for me|to))|\blate fees?\b|罚款|罚金|滞纳金|罚\w{0,3}?多少", re.I),
     re.compile(r"\bfines?\b|\bfined\b|\blate fees?\b|\boverdue\b|罚|滞纳金|逾期|超期", re.I)),
    ("compensation", re.compile(r"赔\w{0,3}?多少|赔偿|\bcompensat|\bpay for (?:a |the |my )?(?:lost|broken|damaged)\b",
                                re.I),
     re.compile(r"赔|\bcompensat|\bdamage|\blost\b|\bbroken\b|\breplacement\b|损坏|丢失|遗失", re.I)),
    ("refund", re.compile(r"退\w{0,3}?多少|拿回多少|\brefund|\bmoney back\b|\bget (?:\w+ ){0,2}back\b", re.I),
     re.compile(r"退|\brefund|\bmoney back\b|\breturned\b", re.I)),
    ("phone", re.compile(r"\bphone\b|\btelephone\b|\bextension\b|\bext\b|\bnumber to call\b|"
                         r"\bnumber\b[^?.]{0,20}\b(?:ring|call|dial|text)\b|电话|分机", re.I),
     re.compile(r"\bphone\b|\btel\b|\btelephone\b|\bextension\b|\bext\b|\bcall\b|\bdial\b|电话|分机|致电|拨打|热线",
                re.I)),
)
# The nouns of a money value that a price beside them does not answer (a racket's rent for its deposit).
MONEY_NOUNS = ("deposit", "fine", "compensation", "refund")
# A run one dials: three digits or more (an extension 803, a line 0571-8812 3456's parts).
DIALLED = re.compile(r"\d{3,}")
# What a price, a share or a time has around its digits, which a number to dial has not.
UNIT_AFTER = re.compile(r"\s*(?:元|块|角|%|percent|dollars?|yuan|euros?|pounds?|/|[:：.]\d)", re.I)
PRICED_BEFORE = re.compile(r"[$€¥£]\s*$")
# A phone number or an extension: such a run, or digits in groups ("0571-8812 3456", "ext. 2214").
PHONE_NUMBER = re.compile(rf"{DIALLED.pattern}|\d+[-\s]\d{{2,}}")
# A whole number to dial, for telling two lines apart (139 5710 8899 is not 139 5716 2208, though both hold 139):
# 7 digits or more, maybe in groups (021-6078 5521); a price, a date or a time has fewer, or a unit or a colon.
WHOLE_NUMBER = re.compile(r"(?<![\d.:])\d(?:[-\s]?\d){6,}(?![\d.:])")



def dialled(text: str) -> list[str]:
    """The runs of a text one might dial: DIALLED runs less a price's, a share's or a time's ("260元/课时" for a
    coach's phone line dials nothing)."""
    return [m.group() for m in DIALLED.finditer(text) if not PRICED_BEFORE.search(text[:m.start()])
            and not UNIT_AFTER.match(text[m.end():])]


def numbers_to_dial(text: str) -> list[str]:
    """The whole phone numbers a text writes, each as its digits alone ("0571-8812 3456" -> "057188123456")."""
    return [re.sub(r"\D", "", m) for m in WHOLE_NUMBER.findall(text)]


def dials(number: str, text: str) -> bool:
    """Whether a text writes this whole number (digits alone), however its digits are grouped."""
    return number in re.sub(r"(?<=\d)[-\s](?=\d)", "", text)

def asked_noun(question: str) -> str | None:
    """The value the question names by a noun (deposit, fine, phone), or None; a price question never asks for a
    phone number ("How much is phone charging?")."""
    found = next((noun for noun, asks, _ in NOUNS if asks.search(question)), None)
    return None if found == "phone" and kind_of(question) == "money" else found


def gives(noun: str, text: str) -> bool:
    """Whether a text gives the named value: names it, and for a phone holds a number to dial."""
    says = next(says for n, _, says in NOUNS if n == noun)
    return bool(says.search(text)) and (noun != "phone" or bool(PHONE_NUMBER.search(text)))


def not_the_named(reply: str, question: str, sources: list[dict]) -> list[str]:
    """A deposit, fine, compensation or refund asked: the reply's prices that no clause giving that noun holds, where
    some clause of the passages gives it ("£15 per month", a locker's rent, for its key's deposit, beside "plus a £25
    key deposit")."""
    from ..key_tokens import numbers, with_hours
    from .answer_kind import mentions
    from .clauses import clauses
    from .whole_passages import as_shown

    noun = asked_noun(question)
    if noun not in MONEY_NOUNS or not sources:
        return []
    said = {v for v, kinds in mentions(re.sub(r"\[\d+\]", " ", reply)) if "money" in kinds} - numbers(question)
    found = clauses(as_shown(sources))
    if not said or not any(gives(noun, f"{c.before} {c.text}") for c in found):
        return []
    out = []
    for value in sorted(said):
        holding = [c for c in found if value in with_hours(numbers(c.text))]
        if holding and not any(gives(noun, f"{c.before} {c.text}") for c in holding):
            out.append(f"(not the {noun} {value})")
    return out


def only_the_named(reply: str, question: str, sources: list[dict]) -> list[str]:
    """A price asked that names no deposit nor fine: the reply's prices that only clauses giving a deposit or a fine
    hold (heldout7's "$99." for a student's month of e-scooter rides: the e-scooter's refundable deposit)."""
    from ..key_tokens import numbers, with_hours
    from .answer_kind import mentions
    from .clauses import clauses
    from .whole_passages import as_shown

    if kind_of(question) != "money" or asked_noun(question) in ("deposit", "fine") or not sources:
        return []
    said = {v for v, kinds in mentions(re.sub(r"\[\d+\]", " ", reply)) if "money" in kinds} - numbers(question)
    found = clauses(as_shown(sources))
    out = []
    for value in sorted(said):
        holding = [f"{c.before} {c.text}" for c in found if value in with_hours(numbers(c.text))]
        # Not where the question writes the noun's own words (一天要罚多少钱 asks a fine by its 罚).
        named = [n for n in ("deposit", "fine") if holding and all(gives(n, text) for text in holding)
                 and not gives(n, question)]
        out += [f"(the {named[0]} {value})"] if named else []
    return out
