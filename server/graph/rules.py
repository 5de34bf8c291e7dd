"""The offline extractor: relation patterns in Chinese and English over a passage's sentences, no model.

A sentence that opens on a disease ("X的症状有", "X患者", "X: its symptoms", "X causes") makes X the subject of
the sentences after it; a relation pattern ("症状有A、B和C", "到Y就诊", "treated with Z") names the tails. How
sure a fact is comes from how explicit its pattern is and whether the tail's type agrees (lexicon.py): below
the store's threshold a fact is a proposal for a person, never silent truth.
"""
from __future__ import annotations

import re

from .lexicon import CHECK, DEPARTMENT, DISEASE, DRUG, RELATION, SYMPTOM, Dictionary, lexicon_type
from .names import CJK

EXTRACTOR = "rules"
SENTENCES = re.compile(r"(?<=[。！？；!?;])|(?<=\.)\s+|\n+")
ZH_NAME = r"[^，。；、：:\s]{2,15}?"
ZH_LIST = r"([^，。；！？]+)"
ZH_ITEMS = re.compile(r"、|以及|及|和|与|或")
ZH_SUBJECT = re.compile(rf"^(?:{ZH_NAME}[，,])?({ZH_NAME})"
                        r"(?:的(?:典型|常见|主要)?症状|的常用|患者|(?:常|主要)?表现为|多见于|常出现)")
# (pattern, tail type, how sure a match is): the explicit phrasings first.
ZH_PATTERNS = [
    (re.compile(r"症状(?:是|有|包括|为)" + ZH_LIST), SYMPTOM, 0.9),
    (re.compile(r"(?:表现为|常出现|可伴有|伴有)" + ZH_LIST), SYMPTOM, 0.85),
    (re.compile(r"就诊科室(?:为|是)" + ZH_LIST), DEPARTMENT, 0.9),
    (re.compile(r"(?:到|去|挂)([^，。；到去挂]{1,10}?科)(?:门诊)?(?:就诊|看病|挂号|治疗)"), DEPARTMENT, 0.9),
    (re.compile(r"常用(?:药品|药物|药)(?:为|是|有|包括)" + ZH_LIST), DRUG, 0.85),
    (re.compile(r"(?:需要|需)(?:做|进行)" + ZH_LIST), CHECK, 0.85),
]
EN_NAME = r"[A-Z][\w'\- ]{1,40}?"
EN_SUBJECT = re.compile(rf"^({EN_NAME})(?::|\s+symptoms\b|\s+causes\b|\s+often\b|\s+is an?\b|(?:\s+is)?\s+usually\b)")
EN_LIST = r"([^.;:]+)"
EN_PATTERNS = [
    (re.compile(r"\bsymptoms (?:are|include)\s+" + EN_LIST, re.I), SYMPTOM, 0.9),
    (re.compile(r"^[A-Z][\w'\- ]{1,40}? causes\s+" + EN_LIST), SYMPTOM, 0.85),
    (re.compile(r"\bpatients (?:have|get|feel)\s+" + EN_LIST, re.I), SYMPTOM, 0.6),
    (re.compile(r"\bseen in the ([\w\- ]{2,40}?) department", re.I), DEPARTMENT, 0.9),
    (re.compile(r"\bdepartment of ([A-Z][\w ]{2,40})"), DEPARTMENT, 0.9),
    (re.compile(r"\btreated with\s+" + EN_LIST, re.I), DRUG, 0.85),
    (re.compile(r"\b(?:an?|the)\s+([\w\- ]{2,40}?)\s+(?:is|are)\s+(?:needed|required)", re.I), CHECK, 0.85),
    (re.compile(r"\bdiagnosed (?:with|by)\s+" + EN_LIST, re.I), CHECK, 0.85),
    (re.compile(r"\bneeds? (?:an?\s+)?([\w\- ]{2,40}?(?:test|check|scan|x-ray))\b", re.I), CHECK, 0.85),
]
EN_ITEMS = re.compile(r",\s*and\s+|,\s*or\s+|,\s*|\s+and\s+|\s+or\s+")
EN_CLAUSE_END = re.compile(r"\s+(?:and|but)\s+(?:is|are|was|seen|patients|it|should|need|needs)\b.*$", re.I)
EN_ARTICLE = re.compile(r"^(?:an?|the|some)\s+", re.I)
EN_VERB = re.compile(r"\b(?:is|are|was|were|be|seen|should|can|may|will|has|have)\b", re.I)
PRONOUNS = {"it", "its", "this", "that", "they", "patients", "the", "a", "an", "our", "some", "most", "free", "患者",
            "本院", "医院", "确诊", "门诊"}
CARRIED = 0.05  # a subject from an earlier sentence is a little less sure than one in the same sentence
KNOWN_BONUS, CLASH = 0.05, 0.3


def extract(passage: str, dictionary: Dictionary | None = None) -> list[dict]:
    """Facts in one passage: {head, relation, tail, head_type, tail_type, confidence, extractor, sentence}."""
    subject, out, seen = "", [], set()
    for sentence in (s.strip() for s in SENTENCES.split(passage)):
        if not sentence:
            continue
        zh = bool(CJK.search(sentence))  # per sentence: a handbook may switch language between paragraphs
        lang = "zh" if zh else "en"
        here = _subject(sentence, zh, dictionary)
        if here:
            subject = here
        if not subject:
            continue
        for pattern, typ, sure in (ZH_PATTERNS if zh else EN_PATTERNS):
            for m in pattern.finditer(sentence):
                for tail in _items(m.group(1), zh):
                    conf = _confidence(sure, typ, tail, subject, dictionary) - (0 if here else CARRIED)
                    key = (subject.casefold(), typ, tail.casefold())
                    if conf <= 0 or key in seen or tail.casefold() == subject.casefold():
                        continue
                    seen.add(key)
                    out.append({"head": subject, "relation": RELATION[lang][typ], "tail": tail,
                                "head_type": DISEASE, "tail_type": typ, "confidence": round(min(conf, 0.99), 2),
                                "extractor": EXTRACTOR, "sentence": sentence[:300]})
    return out


def _subject(sentence: str, zh: bool, dictionary: Dictionary | None) -> str:
    """The disease a sentence opens on, or ''."""
    m = (ZH_SUBJECT if zh else EN_SUBJECT).match(sentence)
    name = m.group(1).strip() if m else ""
    if name.casefold() in PRONOUNS or (name and name.split()[0].casefold() in PRONOUNS):
        name = ""
    if not name and dictionary is not None:  # a known disease the sentence starts with
        for start, known in dictionary.mentions(sentence[:20]):
            if start == 0 and dictionary.type_of(known) == DISEASE:
                return sentence[:len(known)]
    return name


def _items(text: str, zh: bool) -> list[str]:
    """The names of a list ("A、B和C", "A, B and C"), cleaned; none that reads as a clause."""
    if zh:
        parts = ZH_ITEMS.split(text)
        return [p.strip() for p in parts if 1 <= len(p.strip()) <= 12]
    text = EN_CLAUSE_END.sub("", text)
    out = []
    for p in EN_ITEMS.split(text):
        p = EN_ARTICLE.sub("", p.strip())
        if p and len(p.split()) <= 5 and not EN_VERB.search(p):
            out.append(p)
    return out


def _confidence(sure: float, typ: str, tail: str, subject: str, dictionary: Dictionary | None) -> float:
    """A pattern's certainty, raised where the lexicon or the graph agrees on the tail's type, cut where either
    says it is something else."""
    said = lexicon_type(tail)
    known = dictionary.type_of(tail) if dictionary is not None else ""
    conf = sure
    if typ in (DRUG, CHECK, DEPARTMENT):  # these have endings: a tail without one is a guess
        conf += 0.05 if said == typ or known == typ else -0.2 if not said and not known else 0
    other = said if said != DISEASE or typ != SYMPTOM else ""  # a symptom may well read like a disease (疱疹)
    if (other and other != typ) or (known and known != typ):
        conf -= CLASH
    if dictionary is not None and dictionary.type_of(subject) == DISEASE:
        conf += KNOWN_BONUS
    return conf
