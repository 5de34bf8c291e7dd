"""What a question asks the graph for: a kind of answer (department, drug, symptom, check, place, disease) or
one of the graph's own relations, read from cue words once the names it holds are blanked out."""
from __future__ import annotations

from .names import normalize

# kind -> (cue words of a question, marker words of a relation name, entity types of an answer).
# Cues are matched on the normalized question (no spaces or punctuation, case folded) with its entity names
# removed, so 耳镜检查 asks no check and "Fever Clinic" asks no department.
KINDS = {
    "department": (("挂什么科", "挂哪个科", "看什么科", "看哪个科", "哪个科室", "什么科室", "哪个科", "什么科", "科室",
                    "挂号", "科", "department", "specialist", "whichclinic"),
                   ("科室", "科", "department", "clinic"), ("科室",)),
    "drug": (("吃什么药", "用什么药", "什么药", "药物", "药品", "用药", "药", "drug", "medicine", "medication",
              "treatedwith", "prescribe"), ("药", "drug", "medic"), ("药品", "药物")),
    "symptom": (("什么症状", "症状", "表现", "symptom", "sign"), ("症状", "表现", "symptom"), ("症状",)),
    "check": (("什么检查", "检查", "查什么", "查哪些", "要查", "查一下", "化验", "检测", "check", "test", "exam",
               "scan"),
              ("检查", "检测", "check", "test", "exam"), ("检查",)),
    "place": (("在哪里", "在哪儿", "在哪", "哪里", "哪儿", "哪个地方", "什么地方", "几楼", "几层", "楼层", "位置",
               "地点", "怎么走", "where", "floor", "location"),
              ("位置", "地点", "楼层", "地址", "location", "place", "floor", "where"), ("位置", "地点")),
    "disease": (("什么病", "哪种病", "哪个病", "什么疾病", "哪些疾病", "疾病", "disease", "condition", "illness"),
                (), ("疾病",)),
}
MIN_RELATION = 2  # a relation name shorter than this (normalized) is too short to be read in a question


def relation_kind(relation: str) -> str | None:
    """The kind a relation name gives its far end: the marker that ends last wins (检查地点 is a place, 检查项目
    a check, 就诊科室 a department), as a Chinese compound's last word is its head."""
    key = normalize(relation)
    best, end = None, -1
    for kind, (_, markers, _) in KINDS.items():
        for m in markers:
            at = key.rfind(m)
            if at >= 0 and at + len(m) > end:
                best, end = kind, at + len(m)
    return best


def blanked(store, question: str, named_ids: list[str]) -> str:
    """The normalized question with every name and alias of the named entities taken out."""
    key = normalize(question)
    names = sorted({normalize(n) for eid in named_ids for n in [store.ents[eid]["name"], *store.names_of(eid)]},
                   key=len, reverse=True)
    for n in names:
        if n:
            key = key.replace(n, " ")
    return key


def asked(store, question: str, named_ids: list[str], relations: list[str]) -> tuple[str, str] | None:
    """("kind", KIND) or ("relation", NAME) that the question asks for, or None when it names none.

    A relation of the graph named in the question wins; else the kind whose longest cue the question holds,
    leaving out kinds that the named entities already are ("Where is the cardiology department?" asks a place).
    """
    key = blanked(store, question, named_ids)
    for rel in sorted(relations, key=len, reverse=True):
        r = normalize(rel)
        if len(r) >= MIN_RELATION and r in key and relation_kind(rel) is None:
            return "relation", rel
    own = {store.ents[eid]["type"] for eid in named_ids}
    best, size = None, 0
    for kind, (cues, _, types) in KINDS.items():
        if own and own <= set(types):
            continue
        cue = max((len(c) for c in cues if c in key), default=0)
        if cue > size:
            best, size = kind, cue
    return ("kind", best) if best else None
