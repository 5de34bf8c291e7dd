"""Entity names: the normalized key two spellings share, and the parts that make two names different things."""
from __future__ import annotations

import re
import unicodedata

# Punctuation and spaces carry no meaning in a name:
# "Type 2 Diabetes", "type-2 diabetes" and "ＴＹＰＥ２ ＤＩＡＢＥＴＥＳ"
# are one key. Letters, digits and CJK stay; so do + and # (C++, C#).
_DROP = re.compile(r"[^\w+#]|_", re.UNICODE)
_WORDS = re.compile(r"[^\w+#]+|_", re.UNICODE)
CJK = re.compile(r"[\u3400-\u9fff]")


def normalize(name: str) -> str:
    """The key of a name: NFKC (full-width -> half-width), case folded, no spaces or punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", name).casefold())


def spaced(text: str) -> str:
    """NFKC, case folded, every run of spaces and punctuation one space, padded: for whole-word matching."""
    return " " + _WORDS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip() + " "


def clean(name) -> str:
    """A name as shown: NFKC-trimmed, inner runs of spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", str(name)).split())


# Words that make two otherwise equal names two different things (bench/data/graph: alignment pairs).
QUALIFIERS = [
    ("原发性", "继发性", "原发", "继发"),
    ("急性", "慢性", "亚急性"),
    ("1型", "2型", "i型", "ii型", "一型", "二型", "3型", "妊娠"),
    ("primary", "secondary"),
    ("type1", "type2", "typei", "typeii"),
    ("acute", "chronic", "subacute"),
    ("左", "右", "left", "right"),
    ("小儿", "儿童", "成人", "老年", "pediatric", "adult"),
    ("良性", "恶性", "benign", "malignant"),
    ("亢进", "减退", "甲亢", "甲减", "hyper", "hypo"),
]
# A longer name that adds only one of these is a synonym's spelling, not a narrower thing: 高血压病 = 高血压.
GENERIC_TAILS = ("病", "症", "疾病", "disease", "syndrome", "disorder", "s", "es")  # and English plurals


def qualifiers(key: str) -> set[str]:
    """Which qualifier words a normalized name holds (the longest one of a group where several overlap)."""
    found: set[str] = set()
    for group in QUALIFIERS:
        for word in sorted(group, key=len, reverse=True):
            if word in key and not any(word in f for f in found):
                found.add(word)
    return found


def never_same(a: str, b: str) -> str | None:
    """Why two normalized names can never be one entity, or None when they might be."""
    if qualifiers(a) != qualifiers(b):
        return "different qualifier"
    short, long_ = sorted((a, b), key=len)
    if short and short != long_ and short in long_:
        extra = long_.replace(short, "", 1)
        if extra not in GENERIC_TAILS:
            return "a longer head word"
    return None
