"""Asking a chat model for the facts in a passage, and reading its answer leniently."""
from __future__ import annotations

import json
import re

from .names import CJK, clean

MEDICAL_TYPES = ["疾病", "症状", "科室", "药品", "检查", "食物"]
RELATIONS = {"zh": ["症状", "就诊科室", "常用药品", "检查项目", "并发症", "宜吃", "忌吃", "病因"],
             "en": ["symptom", "department", "drug", "check", "complication", "good food", "avoid food", "cause"]}
SHAPE = '{"entities":[{"name":"...","type":"..."}],"relations":[{"head":"...","relation":"...","tail":"..."}]}'
PROMPT = {
    "zh": ("你从一段文字中抽取知识图谱。实体类型：{types}。常用关系：{relations}（也可用文中更贴切的关系词）。"
           "只抽取文中明确写出的事实；实体名照原文写，用中文，不要翻译。只回答一个 JSON，格式：{shape}"),
    "en": ("You extract a knowledge graph from a passage. Entity types: {types}. Common relations: {relations} "
           "(or a closer word from the passage). Only facts the passage states; names exactly as written, in the "
           "passage's language, never translated. Answer with one JSON object only, of this shape: {shape}"),
}
MAX_NAME = 100
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_TRAILING = re.compile(r",\s*([}\]])")

def messages(passage: str, types: list[str] | None = None) -> list[dict]:
    """The extraction prompt for one passage, in the passage's language, so the names come back in it."""
    lang = "zh" if CJK.search(passage) else "en"
    sep = "、" if lang == "zh" else ", "
    system = PROMPT[lang].format(types=sep.join(types or MEDICAL_TYPES), relations=sep.join(RELATIONS[lang]),
                                 shape=SHAPE)
    return [{"role": "system", "content": system}, {"role": "user", "content": passage}]

def parse(text: str) -> tuple[list[dict], list[dict]]:
    """(entities, relations) from a model's answer: code fences, text around and trailing commas tolerated;
    anything unreadable gives ([], [])."""
    text = re.sub(r"<think>.*?</think>", "", text or "", flags=re.S)
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return [], []
    raw = _TRAILING.sub(r"\1", text[start:end + 1])
    try:
        data = json.loads(raw)
    except ValueError:
        return [], []
    if not isinstance(data, dict):
        return [], []
    entities = [{"name": clean(e["name"])[:MAX_NAME], "type": clean(e.get("type") or "")[:50]}
                for e in _items(data.get("entities")) if _text(e.get("name"))]
    relations = [{k: clean(r[k])[:MAX_NAME] for k in ("head", "relation", "tail")}
                 for r in _items(data.get("relations")) if all(_text(r.get(k)) for k in ("head", "relation", "tail"))]
    return entities, relations

def _items(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= 4 * MAX_NAME


# How sure a fact from an instruction model's JSON is: names that are not spans of the passage are the model's
# own words (translated, paraphrased or made up) and a relation off the list is its own word too; each costs
# enough to send the fact to review (proposals.STORE_FROM, 0.8). A span pair with a known relation scores 0.85,
# 0.95 where the tail's ending agrees with the relation. A constrained answer's names are spans by construction,
# so that is no evidence: its facts get no SPAN and go to review unless the patterns found them too (the built-in
# model's facts that would have been stored on the 48 handbook passages: 16 of 18 wrong, bench/RESULTS.md).
MODEL_BASE, SPAN, LISTED, AGREES, CLASHES = 0.35, 0.2, 0.1, 0.1, 0.3


def score(entities: list[dict], relations: list[dict], passage: str, dictionary=None,
          extractor: str = "model") -> list[dict]:
    """A model's (entities, relations) as found facts, each with its confidence, the extractor and the sentence
    that holds both names (or '')."""
    from .lexicon import RELATION, RELATION_TYPE, lexicon_type

    lang = "zh" if CJK.search(passage) else "en"
    types = {e["name"].casefold(): e.get("type") or "" for e in entities}
    low = passage.casefold()
    out = []
    span = 0.0 if extractor == "constrained" else SPAN
    for r in relations:
        if r["head"].casefold() == r["tail"].casefold():  # a name and itself: never a fact
            continue
        typ = RELATION_TYPE.get(r["relation"].casefold(), "")
        conf = MODEL_BASE + span * (r["head"].casefold() in low) + span * (r["tail"].casefold() in low)
        conf += LISTED if typ else 0
        said = lexicon_type(r["tail"]) or (dictionary.type_of(r["tail"]) if dictionary is not None else "")
        if typ and said:
            conf += AGREES if said == typ else -CLASHES if said != "疾病" else 0
        out.append({"head": r["head"], "relation": RELATION[lang][typ] if typ else r["relation"], "tail": r["tail"],
                    "head_type": types.get(r["head"].casefold(), ""),
                    "tail_type": typ or types.get(r["tail"].casefold(), ""),
                    "confidence": round(max(0.0, min(conf, 0.99)), 2), "extractor": extractor,
                    "sentence": _sentence_of(passage, r["head"], r["tail"])})
    return out


def combine(*found: list[dict]) -> list[dict]:
    """Facts of several extractors as one list: a fact two found is surer (+0.05) and names both."""
    out: dict[tuple, dict] = {}
    for facts in found:
        for f in facts:
            key = (f["head"].casefold(), f["relation"].casefold(), f["tail"].casefold())
            if key in out:
                first = out[key]
                if f["extractor"] not in first["extractor"].split("+"):
                    first["extractor"] += "+" + f["extractor"]
                    first["confidence"] = round(min(0.99, max(first["confidence"], f["confidence"]) + 0.05), 2)
                first["head_type"] = first["head_type"] or f["head_type"]
                first["sentence"] = first["sentence"] or f["sentence"]
            else:
                out[key] = dict(f)
    return list(out.values())


def _sentence_of(passage: str, head: str, tail: str) -> str:
    for s in re.split(r"(?<=[。！？；!?;])|(?<=\.)\s+|\n+", passage):
        if tail.casefold() in s.casefold():
            return s.strip()[:300]
    return ""
