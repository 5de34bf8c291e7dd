"""A `graph: true` chat's plan: a reply composed from the facts (base models), or the facts as context for a
model whose reply is then checked, or None where the library answers instead."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from .answer import compose, lookup
from .check import check
from .ground import ground


@dataclass
class GraphPlan:
    instruction: str  # appended to the system prompt ("" for a composed reply)
    sources: list  # done.sources
    reply: str | None  # the composed reply, or None when a model writes it
    answer: dict | None  # done.answer: {from: "facts", facts: [n...]} for a composed reply
    check: Callable[[str], dict]  # reply text -> the graph's part of done.grounding


def plan(graph, knowledge, question: str, base_model: bool) -> GraphPlan | None:
    """How to answer a question with the graph on; None sends a base model's unanswered question to the library."""
    found = lookup(graph, question)
    store = graph.store()
    if found is not None and base_model:
        reply, cited = compose(store, found, question)
        sources = [_source(n, f) for n, f in enumerate(cited, 1)]
        answer = {"from": "facts", "facts": [s["n"] for s in sources]}
        return GraphPlan("", sources, reply, answer, partial(_checked, store, question, sources, found))
    if found is None and base_model:
        return None
    first = None
    if found is not None:  # the facts holding the answers first, their links after
        first = sorted(found.facts, key=lambda f: not {f["head"]["id"], f["tail"]["id"]} & set(found.answers))
    instruction, sources = ground(graph, knowledge, question, first)
    return GraphPlan(instruction, sources, None, None, partial(_checked, store, question, sources, found))


def _source(n: int, f: dict) -> dict:
    return {"n": n, "kind": "fact", "id": f["id"], "head": f["head"], "relation": f["relation"], "tail": f["tail"],
            "sources": f["sources"]}


def _checked(store, question, sources, found, text: str) -> dict:
    return check(store, text, question, sources, found)
