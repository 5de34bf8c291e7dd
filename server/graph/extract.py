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
    system = PROMPT[lang].format(types=sep.join(types or MEDICAL_TYPES), relations=sep.join(RELATIONS[lang]), shape=SHAPE)
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
