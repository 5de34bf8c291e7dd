"""What a question asks of a thing beside the kind of answer it names, where the facts hold nothing of it: the
floor of an operation (翼状胬肉做手术是在哪个楼层 asks no clinic's floor), the price of a drug, a check's fasting."""
from __future__ import annotations

import re
import unicodedata

from .asks import KINDS, blanked
from .ground import named
from .names import CJK, normalize

ALL = frozenset(KINDS)
BUT_DEPARTMENT = ALL - {"department"}
# (words of an aspect, the kinds of answer it turns into another question). What treats a disease's operation
# or injection, stay or complication is the disease's department, so those leave a department question as it is;
# where they are done, what is taken or checked for them and how they show are not the disease's own facts. A
# place to pay or collect is asked only with a place (体检报告显示… is the reason for a visit, not what it asks).
PROCEDURES = (("手术", "开刀", "封闭", "打针", "输液", "注射", "理疗", "针灸", "推拿", "透析", "化疗", "放疗", "换药",
               "拆线", "疫苗", "接种", "surgery", "operation", "operated", "injection", "physiotherapy",
               "physical therapy", "dialysis", "chemotherapy", "radiotherapy", "vaccine", "vaccination"),
              BUT_DEPARTMENT)
ASPECTS = (
    PROCEDURES,
    (("住院", "病房", "hospital stay", "admitted", "ward"), BUT_DEPARTMENT),
    (("并发症", "complication", "complications"), BUT_DEPARTMENT),
    (("多少钱", "费用", "价格", "价钱", "收费", "贵不贵", "挂号费", "报销", "医保", "cost", "costs", "price", "fee",
      "expensive", "insurance"), ALL),
    (("副作用", "不良反应", "side effect", "side effects"), ALL),
    (("用量", "剂量", "吃几次", "用几次", "服几次", "滴几次", "涂几次", "吃几片", "吃几粒", "吃多少", "用多少",
      "怎么吃", "怎么用", "怎么服用", "dose", "dosage", "how often", "how many times"), ALL),
    (("多久", "多长时间", "疗程", "how long"), ALL),
    (("空腹", "禁食", "注意事项", "注意什么", "fasting", "fast before", "prepare"), ALL),
    (("预防", "prevent", "prevention"), ALL),
    (("根治", "治愈", "能治好", "cure", "curable"), ALL),
    (("电话", "phone", "几点", "上班时间", "开门", "opening hours", "what time"), ALL),
    (("缴费", "交费", "交钱", "付款", "取药", "拿药", "报告", "出结果", "pay", "pick up"),
     frozenset({"place"})),
)
CLAUSE = re.compile(r"[，,。；;！!？?\n]+")
# A place asked for a doing of something no name holds (翼状胬肉做激光在几楼, 打封闭针在哪) is that doing's place, not
# the department's: the verbs of a procedure, and the words that may stand between one and its object (做一次胃镜).
DOING = {"做", "打", "做个", "打个", "照", "拍"}
BETWEEN = {"个", "一个", "一下", "一次", "次", "过", "完", "了"}
NO_OBJECT = ("什么", "哪些", "哪个", "检查", "化验", "治疗", "这个", "那个")


def _says(clause: str, word: str) -> bool:
    """Whether a clause says an aspect's word: a Chinese word anywhere, an English one as whole words."""
    if CJK.search(word):
        return word in normalize(clause)
    spaced = " " + re.sub(r"[^a-z0-9]+", " ", unicodedata.normalize("NFKC", clause).casefold()) + " "
    return f" {word} " in spaced


def _done(store, scope: str, start: list[str], cues: list[str]) -> str | None:
    """The object of a procedure's verb (做激光) that is no name of the question's entities nor a cue word."""
    import jieba

    names = " ".join(normalize(n) for e in start for n in [store.ents[e]["name"], *store.names_of(e)])
    tokens = [t for t in jieba.lcut(scope) if t.strip()]
    for i, t in enumerate(tokens[:-1]):
        if t in DOING:
            thing = next((normalize(o) for o in tokens[i + 1:] if o not in BETWEEN), "")
            if len(thing) >= 2 and CJK.search(thing) and thing not in names and not any(c in thing for c in cues) \
                    and not any(thing in c for c in NO_OBJECT):
                return thing
    return None


def unheld(store, question: str, kind: str, start: list[str], facts: list[dict]) -> str | None:
    """The aspect the clause asking for `kind` asks that no fact's relation or entity name holds, else None."""
    # A clause that names nothing (在几楼做) asks of a procedure the clauses before it say (翼状胬肉要做手术), and of
    # nothing else they ask (做纯音测听之前要注意什么，在哪做 asks where the check is done).
    held = " ".join(normalize(n) for f in facts for n in (f["relation"], f["head"]["name"], f["tail"]["name"]))
    cues = [normalize(c) for c in KINDS[kind][0]]
    clauses = CLAUSE.split(question)
    for i, clause in enumerate(clauses):
        if not any(c in blanked(store, clause, start) for c in cues):
            continue
        bare = blanked(store, clause, start).replace(" ", "") == normalize(clause)
        before = "，".join(clauses[:i + 1])
        for scope, aspects in [(clause, ASPECTS)] + ([(before, (PROCEDURES,))] if bare else []):
            rest = blanked(store, scope, start)
            if kind == "place" and (thing := _done(store, scope, start, cues)):
                return thing
            for words, kinds in aspects:
                for word in words:
                    if kind in kinds and _says(scope, word) and normalize(word) in rest and \
                            normalize(word) not in held:
                        return word
    return None


# How a disease's name ends (颈椎病, 胃癌, 腮腺炎, 焦虑症, 甲状腺结节, 干燥综合征; "tonsillitis"); 疹 is left out (红疹,
# 起疹子 are what a patient sees). A name runs back from its end to a character that no name holds (得了, 我有, 的),
# and an end followed by one of AFTER is no end (病人, 病毒性, 症状). Words so made that name no disease: NO_DISEASE,
# and an organ's one character before 病 (胃病, 肝病: a kind of trouble, not a name).
DISEASE_ENDS = ("综合征", "综合症", "结节", "结石", "增生", "囊肿", "息肉", "劳损", "病", "癌", "瘤", "炎", "症")
STOPS = set("的了得有是患在和与或及我你他她它们吗呢吧啊呀个种这那哪什么怎要会能想请问该去挂看吃用做查说就都也还又被把给"
            "从对跟让")
AFTER = set("人房因史程情毒历假号友床理变菌状灶例种区")
NO_DISEASE = ("毛病", "生病", "看病", "发病", "疾病", "病症", "炎症", "发炎", "并发症", "后遗症", "重症", "急症",
              "轻症", "对症", "癌症")
EN_DISEASE = re.compile(r"\b[a-z]+itis\b|\bsyndrome\b|\bcancer\b|\btumou?r\b")


def lacking(store, text: str) -> list[str]:
    """Names of diseases a text says that the graph does not hold (颈椎病, where it lacks it)."""
    # looked for once the graph's names are taken out: 慢性胃炎 holds 胃炎, 甲状腺功能亢进症 is 甲亢's alias
    ids = named(store, text)
    key = blanked(store, text, ids)
    out = []
    for end in (m.end() for m in re.finditer("|".join(DISEASE_ENDS), key)):
        if end < len(key) and key[end] in AFTER:
            continue
        start = end - 1
        while start > 0 and CJK.match(key[start - 1]) and key[start - 1] not in STOPS:
            start -= 1
        word = key[start:end]
        if len(word) >= 2 and not (len(word) == 2 and word.endswith("病")) and not word.endswith(NO_DISEASE):
            out.append(word)
    names = " ".join(normalize(n) for e in ids for n in [store.ents[e]["name"], *store.names_of(e)])
    return out + [
        m.group() for m in EN_DISEASE.finditer(unicodedata.normalize("NFKC", text).casefold())
        if normalize(m.group()) not in names]
