"""Chat grounding: the entities a question names, their 1- and 2-hop facts ranked, beside the library's passages."""
from __future__ import annotations

import re
import unicodedata

from .names import CJK, normalize

GROUNDED = ("Answer the user's question using only the numbered facts (from the knowledge graph) and passages "
            "(from the knowledge base) below. Cite each one you use as [n], for example [1]. A question may need two "
            "facts joined through a shared entity. If they do not contain the answer, say so. Reply in the language "
            "of the question.")
MAX_FACTS = 8  # facts in a prompt: on bench/graph_eval.py the answer is among the best 8 (bench/RESULTS.md)
MAX_NAME = 30  # characters of the longest name looked for in a question
# Cosine from which a question's word names an entity: e5 puts 胃痛/腹痛 at 0.941 and 头痛/发热 at 0.901, and
# spellings of one name at 0.96-0.998 (bench/graph_data.py's pairs), so only a near-identical wording counts.
NEAR = 0.97
NEAR_MAX_ENTITIES = 3000  # above this the question is matched by names and aliases alone
_ASCII_WORD = re.compile(r"[a-z0-9]")


def keyed(text: str) -> tuple[str, list[int], str]:
    """(normalized text, where each of its characters was in the folded text, the folded text)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    chars, where = [], []
    for i, ch in enumerate(folded):
        if normalize(ch):
            chars.append(ch)
            where.append(i)
    return "".join(chars), where, folded


def named(store, question: str) -> list[str]:
    """Entities the question names (canonical ids), by names and aliases, the longest match first."""
    key, where, folded = keyed(question)
    taken = [False] * len(key)
    found = []
    for size in range(min(len(key), MAX_NAME), 1, -1):
        for i in range(len(key) - size + 1):
            sub = key[i:i + size]
            eid = store.by_key.get(sub)
            if eid is None or any(taken[i:i + size]):
                continue
            if not CJK.search(sub):
                a, b = where[i], where[i + size - 1]
                if size < 3 or (a > 0 and _ASCII_WORD.match(folded[a - 1])) or \
                        (b + 1 < len(folded) and _ASCII_WORD.match(folded[b + 1])):
                    continue  # "ear" inside "heart" is not the ear
            taken[i:i + size] = [True] * size
            eid = store.canonical(eid)
            if eid not in found:
                found.append(eid)
    return found


def name_vectors(graph, store):
    """(entity ids, their names' unit vectors or None): embedded once per change of the graph, for near() and
    said_otherwise()."""
    cached = getattr(graph, "name_vectors", None)
    if cached is None or cached[0] != store.version:
        ids = [i for i, e in store.ents.items() if not e["merged_into"]]
        cached = graph.name_vectors = (store.version, ids, graph.embed([store.ents[i]["name"] for i in ids]))
    return cached[1], cached[2]


def near(graph, store, question: str) -> list[str]:
    """Entities a question names in other words: its words embedded against the entity names."""
    if graph.embed is None or not 0 < len(store.ents) <= NEAR_MAX_ENTITIES:
        return []
    import jieba

    words = [w.strip() for w in jieba.lcut(question) if len(w.strip()) >= 2 and normalize(w)]
    if not words:
        return []
    ids, names = name_vectors(graph, store)
    asked = graph.embed(words)
    if names is None or asked is None:
        return []
    best = (asked @ names.T).max(axis=0)
    return [ids[j] for j in best.argsort()[::-1][:3] if best[j] >= NEAR]


# A word of the question names a symptom in other words (拉肚子 -> 腹泻) when its nearest symptom name is at least
# SAID_FLOOR and leads the next by SAID_LEAD. e5 on 17 colloquial words against 25 symptom names (2026-12-07):
# the nearest was right for 16; the one wrong (拉稀 -> 尿频 0.868) is under the floor; the right ones led by
# 0.010-0.060 (拉肚子 0.950 over 腹痛 0.923), and a lead of 0.02 keeps 13 of 16 with no wrong one.
SAID_FLOOR = 0.92
SAID_LEAD = 0.02
# jieba cuts 大便发黑 into 大便 / 发黑 and 拉黑便 into 拉 / 黑 / 便: runs of up to 3 of its words are tried whole.
SAID_TOKENS = 3
MAX_SAID = 6


def _unheld_words(store, question: str, start: list[str]) -> list[str]:
    """The question's words and runs of words that no name it holds, and no cue of an asked kind, covers."""
    from .asks import KINDS
    import jieba

    held = [normalize(n) for e in start for n in [store.ents[e]["name"], *store.names_of(e)]]  # 蛀牙 is 龋齿's
    cues = [c for cue_words, _, _ in KINDS.values() for c in cue_words]
    tokens = [normalize(t) for t in jieba.lcut(question)]  # punctuation normalizes to "": a phrase ends there
    phrases = {"".join(tokens[i:i + n]) for n in range(1, SAID_TOKENS + 1) for i in range(len(tokens) - n + 1)
               if all(tokens[i:i + n])}
    return [w for w in sorted(phrases) if 2 <= len(w) <= MAX_SAID and CJK.search(w)
            and not any(w in h or h in w for h in held) and not any(c in w or w in c for c in cues)]


def _symptom_scores(graph, store, words: list[str], among=None):
    """(symptom ids, [words x symptoms] cosines) of the graph's symptoms (or those of `among`), or None."""
    from .asks import KINDS

    every, vectors = name_vectors(graph, store)
    rows = [j for j, i in enumerate(every) if store.ents[i]["type"] in KINDS["symptom"][2]
            and (among is None or i in among)]
    if vectors is None or not rows or not words:
        return None
    asked = graph.embed(words)
    return None if asked is None else ([every[j] for j in rows], asked @ vectors[rows].T)


def said_otherwise(graph, store, question: str, start: list[str]) -> list[str]:
    """Symptoms a question names in everyday words (肚子疼 -> 腹痛), for the words no name or cue already holds."""
    if graph.embed is None or not 0 < len(store.ents) <= NEAR_MAX_ENTITIES:
        return []
    scored = _symptom_scores(graph, store, _unheld_words(store, question, start))
    if scored is None or len(scored[0]) < 2:
        return []
    ids, sims = scored
    found: list[str] = []
    for row in sims:
        second, first = row.argsort()[-2:]
        eid = store.canonical(ids[first])
        if row[first] >= SAID_FLOOR and row[first] - row[second] >= SAID_LEAD and eid not in start + found:
            found.append(eid)
    return found


# A word of the question is likely one of the candidates' own symptoms, unplaced, from this cosine up. e5 (the
# library's query vectors, as the server embeds names) on bench's heldout4 two-hop questions whose symptoms led to
# two diseases: 带血 -> 血尿 0.910, 地疼 -> 神经痛 0.932, 火辣辣地疼 -> 皮肤灼痛 0.911 (said_otherwise's floor and lead
# over every symptom failed them); their other words reached 0.850-0.888 (腰疼得 -> 下肢麻木 0.884).
UNPLACED_FLOOR = 0.90


def unplaced(graph, store, question: str, start: list[str], symptoms: set[str]) -> bool:
    """Whether a word of the question no name holds is near one of these symptoms: what the question says may
    tell candidates apart that the lookup could not (腰疼 + 小便里还带血 between 肾结石 and 腰椎间盘突出)."""
    if graph.embed is None or not symptoms or not 0 < len(store.ents) <= NEAR_MAX_ENTITIES:
        return False
    scored = _symptom_scores(graph, store, _unheld_words(store, question, start), symptoms)
    return scored is not None and bool((scored[1] >= UNPLACED_FLOOR).any())


def rank(store, question: str, start: list[str], facts: list[dict]) -> list[dict]:
    """Facts best first: near the named entities, through entities several of them share, and whose words
    the question uses (挂什么科 -> 就诊科室)."""
    key = normalize(question)
    qchars, qwords = set(key), set(re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", question).casefold()))
    support: dict[str, int] = {}
    for f in facts:
        if f["hop"] == 1:
            for end, other in ((f["head"]["id"], f["tail"]["id"]), (f["tail"]["id"], f["head"]["id"])):
                if other in start:
                    support[end] = support.get(end, 0) + 1

    def score(f):
        ends = (f["head"]["id"], f["tail"]["id"])
        rel = normalize(f["relation"])
        words = set(re.findall(r"[a-z0-9]+", f["relation"].casefold()))
        overlap = len(set(c for c in rel if CJK.match(c)) & qchars) + len(words & qwords)
        # What the question asks for (its words in the relation) outweighs nearness: 挂什么科 wants the
        # department two hops away more than the symptom fact one hop away.
        return ((3 if f["hop"] == 1 else 1) + sum(e in start for e in ends)
                + 1.5 * max(support.get(e, 0) for e in ends) + 4 * min(overlap, 2))
    return sorted(facts, key=score, reverse=True)


def facts_for(graph, question: str, limit: int = MAX_FACTS) -> list[dict]:
    """The best facts for a question, [] when it names nothing in the graph."""
    store = graph.store()
    start = named(store, question) or near(graph, store, question)
    if not start:
        return []
    return rank(store, question, start, graph.facts_around(start, 2))[:limit]


def ground(graph, knowledge, question: str, first: list[dict] | None = None) -> tuple[str, list[dict]]:
    """(instruction, sources) for a `graph: true` chat: numbered facts (`first` ahead: those a lookup found to
    answer the question), then the library's passages."""
    first = first or []
    taken = {f["id"] for f in first}
    facts = first + [f for f in facts_for(graph, question) if f["id"] not in taken][:max(MAX_FACTS - len(first), 0)]
    passages = knowledge.search(question, knowledge.passages) if knowledge is not None else []
    sources = [{"n": n, "kind": "fact", "id": f["id"], "head": f["head"], "relation": f["relation"],
                "tail": f["tail"], "sources": f["sources"]} for n, f in enumerate(facts, 1)]
    sources += [{"n": n, "kind": "passage", **p} for n, p in enumerate(passages, len(sources) + 1)]
    if not sources:
        return "", []
    lines = []
    for s in sources:
        if s["kind"] == "fact":
            lines.append(f"[{s['n']}] (fact) {s['head']['name']} -{s['relation']}-> {s['tail']['name']}")
        else:
            lines.append(f"[{s['n']}] ({s['title']})\n{s['text']}")
    return GROUNDED + "\n\n" + "\n\n".join(lines), sources
