"""What kind of thing a name is: the type lexicon (word endings) and the graph's own names (Aho-Corasick)."""
from __future__ import annotations

import re

import ahocorasick

from .names import normalize

# The graph's type names (extract.MEDICAL_TYPES) and the relation each kind of tail stands in, per language.
DISEASE, SYMPTOM, DEPARTMENT, DRUG, CHECK = "疾病", "症状", "科室", "药品", "检查"
RELATION = {"zh": {SYMPTOM: "症状", DEPARTMENT: "就诊科室", DRUG: "常用药品", CHECK: "检查项目"},
            "en": {SYMPTOM: "symptom", DEPARTMENT: "department", DRUG: "drug", CHECK: "check"}}
# Any relation word a model may write for one of ours (lower case), to the tail type it implies.
RELATION_TYPE = {r.lower(): t for lang in RELATION.values() for t, r in lang.items()}
RELATION_TYPE.update({"symptoms": SYMPTOM, "has symptom": SYMPTOM, "表现": SYMPTOM, "科室": DEPARTMENT,
                      "departments": DEPARTMENT, "treated in": DEPARTMENT, "药品": DRUG, "常用药": DRUG,
                      "药物": DRUG, "treatment": DRUG, "treated with": DRUG, "drugs": DRUG, "检查": CHECK,
                      "checks": CHECK, "test": CHECK, "tests": CHECK, "diagnosed with": CHECK})

# Word endings that say a name's type. Chinese dosage forms and check words; English forms, drug-name stems
# and check words. Endings only: a lexicon of whole names would be a gold list in disguise.
ZH_ENDINGS = {
    DRUG: ("片", "胶囊", "糖浆", "口服液", "颗粒", "注射液", "滴眼液", "滴耳液", "乳膏", "软膏", "气雾剂",
           "喷雾剂", "丸", "散", "栓", "贴", "混悬液", "冲剂"),
    CHECK: ("检查", "化验", "检测", "造影", "扫描", "B超", "彩超", "CT", "磁共振", "心电图", "胃镜", "肠镜"),
    DEPARTMENT: ("科",),
    DISEASE: ("炎", "病", "症", "癌", "瘤", "结石", "感染", "贫血", "疱疹", "哮喘", "痛风", "湿疹", "中毒", "骨折"),
}
EN_ENDINGS = {
    DRUG: ("tablet", "tablets", "capsule", "capsules", "cream", "ointment", "inhaler", "eye drops", "ear drops",
           "drops", "syrup", "injection", "spray", "patch", "gel", "suspension"),
    CHECK: ("test", "tests", "check", "scan", "x-ray", "x-rays", "endoscopy", "mri", "ultrasound", "biopsy",
            "ecg", "swab", "panel", "count", "screening"),
    DEPARTMENT: ("department", "clinic"),
    DISEASE: ("itis", "osis", "disease", "syndrome", "infection", "diabetes", "cancer", "pneumonia", "fever"),
}
EN_DRUG_STEMS = re.compile(r"(cillin|mycin|floxacin|cycline|prazole|azole|olol|pril|sartan|statin|formin|triptan|"
                           r"vir|mab|dipine|oxetine|tidine|sone|profen|amol)$")
# English department words ("seen in the X department" names X by its field).
EN_DEPARTMENTS = ("neurology", "cardiology", "urology", "dermatology", "ophthalmology", "endocrinology",
                  "gastroenterology", "rheumatology", "respiratory", "pediatrics", "paediatrics", "orthopaedics",
                  "orthopedics", "psychiatry", "ent", "oncology", "nephrology", "hematology", "haematology",
                  "gynaecology", "gynecology", "infectious", "emergency", "surgery", "medicine")


def lexicon_type(name: str) -> str:
    """The type a name's ending says (药品, 检查, 科室, 疾病), or '' when it says nothing."""
    text = name.strip()
    low = text.lower()
    if re.search(r"[\u3400-\u9fff]", text):
        for typ, ends in ZH_ENDINGS.items():
            if text.endswith(ends):
                return typ
        return ""
    words = low.split()
    if not words:
        return ""
    for typ, ends in EN_ENDINGS.items():
        if low.endswith(ends) and (len(words) > 1 or typ != DRUG or low not in ("drops", "spray", "gel")):
            return typ
    if words[0] in EN_DEPARTMENTS or words[-1] in EN_DEPARTMENTS:
        return DEPARTMENT
    if len(words) == 1 and EN_DRUG_STEMS.search(low) and len(low) > 6:
        return DRUG
    return ""


class Dictionary:
    """The graph's own names and aliases with their types: which known entities a passage mentions."""

    def __init__(self, named: list[tuple[str, str]]):
        self.types: dict[str, str] = {}
        self.auto = ahocorasick.Automaton()
        for name, typ in named:
            key = normalize(name)
            if len(key) < 2:
                continue
            self.types.setdefault(key, typ or "")
            if typ and not self.types[key]:
                self.types[key] = typ
            self.auto.add_word(name.casefold(), (name, key))
        self.ready = len(self.auto) > 0
        if self.ready:
            self.auto.make_automaton()

    @classmethod
    def of_store(cls, store) -> "Dictionary":
        named = []
        for eid, e in store.ents.items():
            typ = store.ents[store.canonical(eid)]["type"]
            named += [(e["name"], typ)] + [(a, typ) for a in e["aliases"]]
        return cls(named)

    def type_of(self, name: str) -> str:
        """A known entity's type, '' for a name the graph does not hold (or holds untyped)."""
        return self.types.get(normalize(name), "")

    def known(self, name: str) -> bool:
        return normalize(name) in self.types

    def mentions(self, text: str) -> list[tuple[int, str]]:
        """(start, name) of every known name in text, longest first where they overlap."""
        if not self.ready:
            return []
        found = sorted(((end - len(name) + 1, name) for end, (name, _) in self.auto.iter(text.casefold())),
                       key=lambda m: (m[0], -len(m[1])))
        out, reach = [], -1
        for start, name in found:
            if start > reach:
                out.append((start, name))
                reach = start + len(name) - 1
        return out
