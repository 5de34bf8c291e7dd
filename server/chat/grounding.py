"""A chat's evidence: the library's passages or the graph's facts put into its prompt, and its reply checked."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..backends.base import ANSWER_NUMBERS, FixedReply, Replier
from ..concurrency import off_hub
from ..errors import ChatError
from ..graph.grounded import plan as graph_plan
from ..knowledge.compose import compose
from ..knowledge.composed_check import of_composed
from ..knowledge.grounding import answer_numbers, evidence_style, for_done
from ..knowledge.service import not_found_reply
from ..shapes import Answer, Grounding, Source


@dataclass
class Evidence:
    """What grounding changed about a chat: who answers, with what prompt and params, and what checks the reply."""
    backend: Replier
    system: str | None
    params: dict
    sources: list[Source] | None
    answer: Answer | None = None  # done.answer of a reply composed from the graph's facts or the library's passages
    # reply text -> done.grounding of a graph reply's names, or of a reply composed from the library's evidence
    fact_check: Callable[[str], Grounding] | None = None


def ground_chat(knowledge, graph, cfg, message: str, system: str | None, backend: Replier, params: dict,
                with_graph: bool) -> Evidence:
    """The library's evidence (or, with_graph, the graph's facts first) for one chat; raises ChatError."""
    if knowledge is None:
        raise ChatError("unavailable", "This server has no knowledge base.")
    plan = None
    if with_graph:  # a reply from the facts, or the facts beside the library's passages, or the library alone
        plan = off_hub(graph_plan, graph, knowledge, message, bool(getattr(backend, "base_model", False)))
    composed = None
    if plan is None:
        instruction, sources = off_hub(knowledge.ground, message, evidence_style(cfg.kb_evidence, backend))
        if sources and getattr(backend, "base_model", False):  # a base model's value question: the clause itself
            composed = off_hub(compose, message, instruction, sources)
            if composed is not None:
                backend = FixedReply(composed.reply)
    else:
        instruction, sources = plan.instruction, plan.sources
        if plan.reply is not None:
            backend = FixedReply(plan.reply)
    if instruction:
        system = f"{system}\n\n{instruction}" if system else instruction
    if sources == []:  # nothing relevant in the library: say so rather than let the model guess
        backend = FixedReply(not_found_reply(message))
    elif sources and system:
        # the numbers the evidence backs; a small local model may write no other (off the hub: jieba)
        params = {**params, ANSWER_NUMBERS: off_hub(answer_numbers, message, system)}
    if composed is not None:  # the clause choice's verdict, unless the clause is about another thing than asked
        grounding = off_hub(of_composed, composed.grounding, composed.reply, message, sources, instruction)
        return Evidence(backend, system, params, sources, {"from": "passages", "passages": composed.passages},
                        lambda text: grounding)
    if plan is None:
        return Evidence(backend, system, params, sources)
    return Evidence(backend, system, params, sources, plan.answer, plan.check)


def grounding_of(req, text: str, reason: str) -> Grounding | None:
    """done.grounding: the graph's check of the names, then the library's of numbers and passages."""
    facts = None
    if req.fact_check is not None and text.strip() and reason != "error":
        facts = req.fact_check(text)
        if req.answer or not facts["supported"]:
            return facts  # a composed reply is the facts' own words
    return for_done(text, reason, req.user_message, req.sources, req.messages) or facts
