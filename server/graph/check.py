"""The check of a graph-grounded reply: every entity name it states (Chinese or English) must be backed by the
facts about the question, with no rival the reply cannot be told apart from."""
from __future__ import annotations

import re

from ..key_tokens import names as latin_names
from .answer import Found
from .ground import named
from .names import normalize

# Last characters that make a Chinese word a name of a hospital thing (a department, a disease): a reply's
# 胃科 or 胃病 that the graph does not hold is a name the facts do not back.
NAME_TAILS = "科炎病症"
WORD_END = set("的是在就看去挂请和与及或、，。；：！？了吗呢吧 \n[（(")  # what may follow the end of a name
NAME_CHAR = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
MAX_NAME = 8  # characters looked back from a name's last character
GENERIC = {"疾病", "什么病", "这种病", "此病", "该病", "毛病", "生病", "看病", "发病", "患病", "病症", "炎症", "并发症",
           "发炎", "重症", "急症", "轻症", "专科", "学科",
           "哪个科", "什么科", "这个科", "科"}


def unknown_chinese(reply: str, known: set[str]) -> list[str]:
    """Chinese names in the reply (words ending in 科, 炎, 病, 症) that no known name or word backs."""
    out = []
    for m in re.finditer(f"[{NAME_TAILS}]", reply):
        end = m.end()
        if end < len(reply) and reply[end] not in WORD_END:
            continue
        start = end - 1  # back over CJK, letters and digits (2型糖尿病, 头颅CT)
        while start > 0 and end - start < MAX_NAME and NAME_CHAR.match(reply[start - 1]) \
                and reply[start - 1] not in WORD_END:
            start -= 1
        word = reply[start:end]
        if len(word) < 2:
            continue
        tails = [normalize(word[i:]) for i in range(len(word) - 1)]
        if any(t in known or t in GENERIC for t in tails) or any(k.endswith(tails[0]) for k in known if tails):
            continue
        out.append(word)
    return out


def _quote(f: dict, n: int) -> dict:
    return {"n": n, "kind": "fact", "head": f["head"]["name"], "relation": f["relation"], "tail": f["tail"]["name"]}


def check(store, reply: str, question: str, sources: list[dict], found: Found | None) -> dict:
    """`done.grounding` for the graph's part of a reply: {supported: true} or {supported: false, quote}."""
    facts = [s for s in sources if s.get("kind") == "fact"]
    text = re.sub(r"\[\d+\]", " ", reply)
    asked = set(named(store, question))
    shown = {e for f in facts for e in (f["head"]["id"], f["tail"]["id"])}
    passages = "\n".join(s.get("text", "") for s in sources if s.get("kind") == "passage")
    mentioned = [e for e in named(store, text) if e not in asked]
    known = {normalize(n) for e in shown | asked for n in [store.ents[e]["name"], *store.names_of(e)]}
    known |= {normalize(f["relation"]) for f in facts} | {normalize(question)}
    known |= {normalize(store.ents[e]["name"]) for e in mentioned}
    q_key = normalize(question)
    strange = [w for w in unknown_chinese(text, known) if normalize(w) not in q_key and w not in passages]
    low = " ".join([question, passages, *(n for e in shown | asked | set(mentioned)
                                          for n in [store.ents[e]["name"], *store.names_of(e)])]).lower()
    strange += [w for w in latin_names(text) if w.lower() not in low and w.lower().rstrip("s") not in low]
    unbacked = [e for e in mentioned if e not in shown and store.ents[e]["name"] not in passages]
    if found is None:
        # The facts single out no answer: any fact's entity the reply states is one choice among rivals.
        rivals = [e for e in mentioned if e in shown]
        if not (strange or unbacked or rivals):
            return {"supported": True}
        return _flag(facts, sources, None)
    answers, via = set(found.answers), set(found.via)
    kinds = {store.ents[e]["type"] for e in answers | via if store.ents[e]["type"]}
    rivals = [e for e in mentioned if e not in answers and e not in via and
              (e in found.others or store.ents[e]["type"] in kinds)]
    named_answers = [e for e in mentioned if e in answers]
    # Some answers and not the others (one of two departments, one of two drugs), or none of them: the
    # reply cannot be told apart from what it left out, and the quote shows what the facts say.
    partial = set(named_answers) != answers
    if not (strange or unbacked or rivals or partial or found.unplaced or found.unexplained
            or found.lacking):
        return {"supported": True}
    missing = [a for a in found.answers if a not in named_answers]
    return _flag(facts, sources, found, missing[0] if missing else found.answers[0])


def _flag(facts: list[dict], sources: list[dict], found: Found | None, answer: str | None = None) -> dict:
    """Not supported, quoting what the knowledge says: the fact holding the answer the reply left out or missed."""
    if found is not None:
        holding = [f for f in found.facts if answer in (f["head"]["id"], f["tail"]["id"])] or found.facts
        for f in holding:
            n = next((s["n"] for s in facts if s.get("id") == f["id"]), None)
            if n is not None:
                return {"supported": False, "quote": _quote(f, n)}
    if facts:
        return {"supported": False, "quote": _quote(facts[0], facts[0]["n"])}
    return {"supported": False}
