"""Symptoms a question says in everyday words, read clause by clause (上大号带血 -> 便血, 屁股那儿还疼 -> 肛门疼痛):
each everyday word becomes the clinical characters it stands for (everyday_words), and a symptom of the graph is
read where one clause holds every character of its name."""
from __future__ import annotations

import re
import unicodedata

from .asks import KINDS
from .everyday_words import EN, ZH, ZH_SITES, parse
from .names import CJK, normalize
from .unheld import lacking

ZH_WORDS, EN_WORDS = parse(ZH), parse(EN)
# The characters of the body's sites (眼睑, 皮肤, 下肢): a symptom at one the question never says is no guess of it.
# Less the characters that name no site alone (上腹's 上, 会阴's 会, 面色's 色, 耳道's 道).
SITES = set("".join(parse(ZH_SITES).values())) - set("上下会后大子部门道色角")
LONGEST = max(len(w) for w in ZH_WORDS)
# 、 parts clauses too: 肚子疼、拉肚子 are two symptoms. English "and" does not: "my eyes are red and itchy" is
# 眼痒, where "itchy" alone would be any itch (瘙痒).
CLAUSE = re.compile(r"[，,、。；;：:！!？?\n]+")
# Where a skin symptom is goes without saying: 腰上…火辣辣地疼 is the graph's 皮肤灼痛.
UNSAID = set("皮肤")
# A negation and the words that may stand between it and what it denies (没有发烧, 一点都不疼, 也不痒).
NEGATIONS = set("不没无未")
FILLERS = set("有也都并还太怎么从来")
EN_NEGATIONS = "no|not|never|without|doesn't|don't|didn't|isn't|aren't|hasn't|haven't"
MIN_SAID = 2  # characters of a name, at least, a clause must hold once UNSAID ones are left out


def _words(key: str) -> list[tuple[str, str | None]]:
    """A Chinese key cut into (word, the clinical characters it stands for), the longest everyday word first; a
    character no word holds stands as itself, with None."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(key):
        for size in range(min(LONGEST, len(key) - i), 0, -1):
            word = key[i:i + size]
            if word in ZH_WORDS:
                out.append((word, ZH_WORDS[word]))
                i += size
                break
        else:
            out.append((key[i], None))
            i += 1
    return out


def _spaced(clause: str) -> str:
    return " " + re.sub(r"[^a-z0-9']+", " ", unicodedata.normalize("NFKC", clause).casefold()) + " "


def clinical(clause: str) -> set[str]:
    """The clinical characters a clause says: its everyday words (the longest first) as the characters they stand
    for, every other Chinese character as written, and English words through their own table."""
    key = "".join(ch for ch in normalize(clause) if CJK.match(ch))
    out: set[str] = set()
    for word, chars in _words(key):
        out |= set(chars if chars is not None else word)
    spaced = _spaced(clause)
    for phrase, chars in EN_WORDS.items():
        if f" {phrase} " in spaced:
            out |= set(chars)
    return out


def denies(clause: str) -> bool:
    """Whether a clause says a symptom is absent: a negation before an everyday word (一点都不疼, 没有发烧, 不头晕, "it
    doesn't hurt", "no fever"); 停不下来 and 不舒服 deny nothing, and 睡不着 is a word of its own."""
    words = _words("".join(ch for ch in normalize(clause) if CJK.match(ch)))
    for i, (word, chars) in enumerate(words):
        if chars is None and word in NEGATIONS:
            after = [w for w, c in words[i + 1:] if not (c is None and w in FILLERS)]
            if any(w in ZH_WORDS for w in after[:2]):  # 不疼, 不头晕
                return True
    spaced = _spaced(clause)
    return any(re.search(rf" (?:{EN_NEGATIONS}) (?:\S+ ){{0,2}}{re.escape(phrase)} ", spaced)
               for phrase in EN_WORDS)


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


def heads(store) -> dict[str, set[str]]:
    """Symptom id -> the last words (2+ characters) of its names that end no other symptom's nor name anything."""
    # 皮疹 of 手足皮疹: "a rash on his hands" (here), 手脚上起了皮疹 (answer.by_head_noun)
    ends: dict[str, set[str]] = {}
    for eid, keys in _symptoms(store).items():
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


def _denied(store, clauses: list[str], start: list[str], symptoms: dict[str, list[str]]) -> list[str]:
    """Symptoms a question says are absent: a name whose characters its denying clause and the rest of the question
    hold, one at least from the denial itself (眼皮上长了个硬疙瘩，一点都不疼 denies 眼睑疼痛, not 眼睑硬结)."""
    denying = [c for c in clauses if denies(c)]
    if not denying:
        return []
    said = {c: clinical(_blanked(store, c, start)) for c in clauses}
    out: list[str] = []
    for clause in denying:
        elsewhere = set().union(*(v for c, v in said.items() if c not in denying))
        own = said[clause] - elsewhere
        out += [e for e, keys in symptoms.items() if e not in out and
                any(set(k) & own and set(k) <= own | elsewhere for k in keys)]
    return out


def read(store, question: str, start: list[str]) -> tuple[list[str], str, list[set[str]], list[str]]:
    """(symptoms the question says in everyday words, the question without the clauses they were read in or that
    deny, the symptoms of each clause read more than one way, the symptoms it says are absent).

    A clause that holds more than one name's characters keeps the names that cover the most of what it says (关节
    又肿又疼: 关节肿痛 over 关节痛); names covering as much are all kept (疙瘩: 风团 and 丘疹), as readings that
    may tell candidates apart. A clause that denies (一点都不疼) is no symptom said nor one to guess."""
    symptoms = _symptoms(store)
    ends = heads(store)
    found: list[str] = []
    rest: list[str] = []
    several: list[set[str]] = []
    clauses = [c for c in CLAUSE.split(question) if c and c.strip()]
    for clause in clauses:
        if denies(clause) or lacking(store, clause):  # 颈椎病 is not 后颈痛: a disease the graph lacks says no symptom
            continue
        said = clinical(_blanked(store, clause, start))
        covered = _covered(said, symptoms, {} if CJK.search(clause) else ends)
        kept = [e for e, c in covered.items() if not any(c < other for other in covered.values())]
        new = [e for e in kept if e not in start and e not in found]
        found += new
        if len(kept) > 1:
            several.append(set(kept))
        if not kept:
            rest.append(clause)
    denied = [e for e in _denied(store, clauses, start, symptoms) if e not in found and e not in start]
    return found, "，".join(rest), several, denied


def sited_elsewhere(store, eid: str, question: str) -> bool:
    """Whether a symptom's name holds a site the question never says, in its words or the clinical ones they
    stand for (眼皮有点沉 guessed as 皮肤色素沉着: 皮肤 where the question says 眼皮, which is 眼睑)."""
    said = clinical(question) | set(normalize(question))
    return bool(set(normalize(store.ents[eid]["name"])) & SITES - said)
