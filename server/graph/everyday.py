"""Symptoms a question says in everyday words, read clause by clause (上大号带血 -> 便血, 屁股那儿还疼 -> 肛门疼痛):
each everyday word becomes the clinical characters it stands for (everyday_words), and a symptom of the graph is
read where one clause holds every character of its name."""
from __future__ import annotations

import re
import unicodedata

from .asks import KINDS
from .everyday_words import EN, ZH, parse
from .names import CJK, normalize

ZH_WORDS, EN_WORDS = parse(ZH), parse(EN)
LONGEST = max(len(w) for w in ZH_WORDS)
# 、 parts clauses too: 肚子疼、拉肚子 are two symptoms. English "and" does not: "my eyes are red and itchy" is
# 眼痒, where "itchy" alone would be any itch (瘙痒).
CLAUSE = re.compile(r"[，,、。；;：:！!？?\n]+")
# Where a skin symptom is goes without saying: 腰上…火辣辣地疼 is the graph's 皮肤灼痛.
UNSAID = set("皮肤")
MIN_SAID = 2  # characters of a name, at least, a clause must hold once UNSAID ones are left out


def clinical(clause: str) -> set[str]:
    """The clinical characters a clause says: its everyday words (the longest first) as the characters they stand
    for, every other Chinese character as written, and English words through their own table."""
    key = "".join(ch for ch in normalize(clause) if CJK.match(ch))
    out: set[str] = set()
    i = 0
    while i < len(key):
        for size in range(min(LONGEST, len(key) - i), 0, -1):
            word = key[i:i + size]
            if word in ZH_WORDS:
                out |= set(ZH_WORDS[word])
                i += size
                break
        else:
            out.add(key[i])
            i += 1
    spaced = " " + re.sub(r"[^a-z0-9']+", " ", unicodedata.normalize("NFKC", clause).casefold()) + " "
    for phrase, chars in EN_WORDS.items():
        if f" {phrase} " in spaced:
            out |= set(chars)
    return out


def _symptoms(store) -> dict[str, list[str]]:
    """Symptom id -> the keys of its Chinese names and aliases."""
    out: dict[str, list[str]] = {}
    for eid, e in store.ents.items():
        if e["merged_into"] or e["type"] not in KINDS["symptom"][2]:
            continue
        for name in [e["name"], *store.names_of(eid)]:
            key = normalize(name)
            if CJK.search(key) and len(key) >= MIN_SAID:
                out.setdefault(store.canonical(eid), []).append(key)
    return out


def _heads(store, symptoms: dict[str, list[str]]) -> dict[str, set[str]]:
    """Symptom id -> the last words (2 characters or more) that end its name and no other symptom's, and are no
    name of the graph themselves: 皮疹 of 手足皮疹 ("a rash on his hands"), as answer.by_head_noun reads them."""
    ends: dict[str, set[str]] = {}
    for eid, keys in symptoms.items():
        for key in keys:
            for size in range(MIN_SAID, len(key)):
                ends.setdefault(key[-size:], set()).add(eid)
    out: dict[str, set[str]] = {}
    for word, ids in ends.items():
        if len(ids) == 1 and word not in store.by_key:
            out.setdefault(next(iter(ids)), set()).add(word)
    return out


def _covered(said: set[str], symptoms: dict[str, list[str]], heads: dict[str, set[str]]) -> dict[str, set[str]]:
    """Symptom id -> the characters of it a clause says, by the better of two readings: every character of a
    name; every one but a skin symptom's site (a site the clause says outweighs one presumed: 鼻子痒 is 鼻痒, not
    皮肤瘙痒); and besides, a name's own last word where it says more ("a fever and a rash on his hands"; heads
    is {} for a Chinese clause, whose written words by_head_noun reads: its characters from 睡不着 -> 入睡困难
    would give 吞咽困难's 困难)."""
    whole: dict[str, set[str]] = {}
    presumed: dict[str, set[str]] = {}
    headed: dict[str, set[str]] = {}
    for eid, keys in symptoms.items():
        for chars in map(set, keys):
            if chars <= said:
                whole[eid] = max(whole.get(eid, set()), chars, key=len)
            elif len(chars - UNSAID) >= MIN_SAID and chars - UNSAID <= said:
                presumed[eid] = chars - UNSAID
        for word in heads.get(eid, ()):
            if set(word) <= said:
                headed[eid] = max(headed.get(eid, set()), set(word), key=len)
    covered = whole or presumed
    said_already = set().union(*covered.values())
    return {**covered, **{e: c for e, c in headed.items() if e not in covered and not c <= said_already}}


def _blanked(store, clause: str, start: list[str]) -> str:
    """A clause without the names it holds of the question's entities and without the cue words of a kind."""
    key = normalize(clause)
    names = {normalize(n) for e in start for n in [store.ents[e]["name"], *store.names_of(e)]}
    cues = {normalize(c) for words, _, _ in KINDS.values() for c in words}
    for word in sorted(names | cues, key=len, reverse=True):
        if word:
            key = key.replace(word, " ")
    return key if CJK.search(clause) else clause


def read(store, question: str, start: list[str]) -> tuple[list[str], str, list[set[str]]]:
    """(symptoms the question says in everyday words, the question without the clauses they were read in, the
    symptoms of each clause read more than one way).

    A clause that holds more than one name's characters keeps the names that cover the most of what it says (关节
    又肿又疼: 关节肿痛 over 关节痛); names covering as much are all kept (疙瘩: 风团 and 丘疹), as readings that
    may tell candidates apart."""
    symptoms = _symptoms(store)
    heads = _heads(store, symptoms)
    found: list[str] = []
    rest: list[str] = []
    several: list[set[str]] = []
    for clause in CLAUSE.split(question):
        if not clause or not clause.strip():
            continue
        said = clinical(_blanked(store, clause, start))
        covered = _covered(said, symptoms, {} if CJK.search(clause) else heads)
        kept = [e for e, c in covered.items() if not any(c < other for other in covered.values())]
        new = [e for e in kept if e not in start and e not in found]
        found += new
        if len(kept) > 1:
            several.append(set(kept))
        if not kept:
            rest.append(clause)
    return found, "，".join(rest), several
