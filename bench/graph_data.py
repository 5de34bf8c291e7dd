"""A made-up hospital knowledge graph for bench/graph_eval.py: diseases, symptoms, departments, drugs, checks.

The facts are invented for the benchmark (not medical advice). Each disease has its own pair of symptoms, so
"symptom A and symptom B: which department?" has one answer two hops away. `python -m bench.graph_data` writes
bench/data/graph/hospital.csv (the import format) and questions.jsonl.
"""
from __future__ import annotations

import csv
import json
import os

# zh name, English name, department, (symptom, symptom), drug, check
DISEASES = [
    ("胃炎", "Gastritis", "消化内科", ("胃痛", "恶心"), "奥美拉唑", "胃镜"),
    ("反流性食管炎", "Reflux Esophagitis", "消化内科", ("反酸", "烧心"), "雷贝拉唑", "食管测压"),
    ("胆囊炎", "Cholecystitis", "肝胆外科", ("右上腹痛", "厌油"), "熊去氧胆酸", "腹部B超"),
    ("阑尾炎", "Appendicitis", "普外科", ("转移性右下腹痛", "低热"), "头孢曲松", "血常规"),
    ("偏头痛", "Migraine", "神经内科", ("单侧头痛", "畏光"), "佐米曲普坦", "头颅CT"),
    ("脑梗死", "Cerebral Infarction", "神经内科", ("口角歪斜", "肢体无力"), "阿司匹林", "头颅MRI"),
    ("高血压", "Hypertension", "心血管内科", ("头晕", "后颈痛"), "氨氯地平", "动态血压监测"),
    ("冠心病", "Coronary Heart Disease", "心血管内科", ("胸闷", "活动后胸痛"), "硝酸甘油", "冠脉造影"),
    ("心律失常", "Arrhythmia", "心血管内科", ("心悸", "脉搏不齐"), "胺碘酮", "心电图"),
    ("2型糖尿病", "Type 2 Diabetes", "内分泌科", ("多饮", "多尿"), "二甲双胍", "糖化血红蛋白"),
    ("1型糖尿病", "Type 1 Diabetes", "内分泌科", ("消瘦", "酮症"), "胰岛素", "C肽测定"),
    ("甲状腺功能亢进症", "Hyperthyroidism", "内分泌科", ("怕热多汗", "手抖"), "甲巯咪唑", "甲状腺功能"),
    ("甲状腺功能减退症", "Hypothyroidism", "内分泌科", ("怕冷", "浮肿"), "左甲状腺素", "TSH测定"),
    ("痛风", "Gout", "风湿免疫科", ("趾关节红肿", "夜间关节痛"), "秋水仙碱", "血尿酸"),
    ("类风湿关节炎", "Rheumatoid Arthritis", "风湿免疫科", ("晨僵", "对称性关节肿"), "甲氨蝶呤", "类风湿因子"),
    ("系统性红斑狼疮", "Lupus", "风湿免疫科", ("蝶形红斑", "光过敏"), "羟氯喹", "抗核抗体"),
    ("急性支气管炎", "Acute Bronchitis", "呼吸内科", ("咳嗽", "咳痰"), "氨溴索", "胸片"),
    ("慢性支气管炎", "Chronic Bronchitis", "呼吸内科", ("长期咳嗽", "冬季加重"), "沙美特罗", "肺功能"),
    ("肺炎", "Pneumonia", "呼吸内科", ("高热", "铁锈色痰"), "阿莫西林", "胸部CT"),
    ("支气管哮喘", "Asthma", "呼吸内科", ("喘息", "夜间憋醒"), "布地奈德", "支气管激发试验"),
    ("肺结核", "Tuberculosis", "感染科", ("午后低热", "盗汗"), "异烟肼", "结核菌素试验"),
    ("病毒性肝炎", "Viral Hepatitis", "感染科", ("乏力", "黄疸"), "恩替卡韦", "肝功能"),
    ("带状疱疹", "Shingles", "皮肤科", ("带状水疱", "神经痛"), "阿昔洛韦", "疱液检查"),
    ("湿疹", "Eczema", "皮肤科", ("瘙痒", "皮肤渗出"), "糠酸莫米松", "过敏原检测"),
    ("荨麻疹", "Urticaria", "皮肤科", ("风团", "皮肤划痕阳性"), "氯雷他定", "血清IgE"),
    ("尿路感染", "Urinary Tract Infection", "泌尿外科", ("尿频", "尿痛"), "左氧氟沙星", "尿常规"),
    ("肾结石", "Kidney Stone", "泌尿外科", ("腰部绞痛", "血尿"), "坦索罗辛", "泌尿系B超"),
    ("前列腺增生", "Benign Prostatic Hyperplasia", "泌尿外科", ("夜尿增多", "排尿费力"), "非那雄胺", "前列腺特异抗原"),
    ("慢性肾炎", "Chronic Nephritis", "肾内科", ("泡沫尿", "眼睑浮肿"), "缬沙坦", "尿蛋白定量"),
    ("缺铁性贫血", "Iron Deficiency Anemia", "血液科", ("面色苍白", "活动后气短"), "硫酸亚铁", "血清铁蛋白"),
    ("白血病", "Leukemia", "血液科", ("反复感染", "皮肤瘀斑"), "伊马替尼", "骨髓穿刺"),
    ("白内障", "Cataract", "眼科", ("视物模糊", "眩光"), "吡诺克辛", "裂隙灯检查"),
    ("青光眼", "Glaucoma", "眼科", ("眼胀痛", "虹视"), "噻吗洛尔", "眼压测量"),
    ("结膜炎", "Conjunctivitis", "眼科", ("眼红", "分泌物增多"), "妥布霉素滴眼液", "结膜刮片"),
    ("中耳炎", "Otitis Media", "耳鼻喉科", ("耳痛", "耳闷"), "氧氟沙星滴耳液", "耳镜检查"),
    ("过敏性鼻炎", "Allergic Rhinitis", "耳鼻喉科", ("打喷嚏", "清水样鼻涕"), "氟替卡松鼻喷雾", "鼻内镜"),
    ("扁桃体炎", "Tonsillitis", "耳鼻喉科", ("咽痛", "吞咽困难"), "青霉素", "咽拭子培养"),
    ("抑郁症", "Depression", "精神心理科", ("情绪低落", "兴趣减退"), "舍曲林", "抑郁量表"),
    ("焦虑症", "Anxiety Disorder", "精神心理科", ("坐立不安", "过度担心"), "帕罗西汀", "焦虑量表"),
    ("骨质疏松", "Osteoporosis", "骨科", ("身高变矮", "驼背"), "阿仑膦酸钠", "骨密度"),
    ("腰椎间盘突出", "Lumbar Disc Herniation", "骨科", ("腰痛", "下肢放射痛"), "塞来昔布", "腰椎MRI"),
    ("颈椎病", "Cervical Spondylosis", "骨科", ("颈肩痛", "手指麻木"), "甲钴胺", "颈椎X线"),
    ("龋齿", "Dental Caries", "口腔科", ("牙痛", "遇冷酸痛"), "氟化物", "口腔X线"),
    ("乳腺增生", "Mammary Hyperplasia", "乳腺外科", ("乳房胀痛", "乳房结节"), "乳癖消", "乳腺B超"),
]
# Declared other names (alias rows), and spellings that should align by themselves (normalization).
ALIASES = [("甲状腺功能亢进症", "甲亢"), ("甲状腺功能减退症", "甲减"), ("脑梗死", "脑梗塞"),
           ("冠心病", "冠状动脉粥样硬化性心脏病"),
           ("2型糖尿病", "二型糖尿病"), ("高血压", "高血压病"), ("肾结石", "Nephrolithiasis")]
DEPARTMENTS_EN = {"消化内科": "Gastroenterology", "神经内科": "Neurology", "心血管内科": "Cardiology",
                  "内分泌科": "Endocrinology", "呼吸内科": "Respiratory Medicine", "皮肤科": "Dermatology",
                  "眼科": "Ophthalmology", "骨科": "Orthopedics"}


def facts() -> list[dict]:
    """The graph as import rows: the English name of a disease is an alias of the Chinese one."""
    rows = []
    for zh, en, dept, symptoms, drug, check in DISEASES:
        rows.append({"head": zh, "relation": "别名", "tail": en})
        rows.append({"head": zh, "relation": "就诊科室", "tail": dept, "head_type": "疾病", "tail_type": "科室"})
        for s in symptoms:
            rows.append({"head": zh, "relation": "症状", "tail": s, "head_type": "疾病", "tail_type": "症状"})
        rows.append({"head": zh, "relation": "常用药品", "tail": drug, "head_type": "疾病", "tail_type": "药品"})
        rows.append({"head": zh, "relation": "检查项目", "tail": check, "head_type": "疾病", "tail_type": "检查"})
    rows += [{"head": a, "relation": "alias", "tail": b} for a, b in ALIASES]
    rows += [{"head": zh, "relation": "alias", "tail": en} for zh, en in DEPARTMENTS_EN.items()]
    return rows


def questions() -> list[dict]:
    """{question, answer, hops}: one hop from a disease (zh and en), two hops from a pair of its symptoms."""
    out = []
    for i, (zh, en, dept, (s1, s2), drug, check) in enumerate(DISEASES):
        if i % 3 == 0:
            out.append({"question": f"{s1}、{s2}，应该挂什么科？", "answer": dept, "hops": 2})
        elif i % 3 == 1:
            out.append({"question": f"{zh}常用什么药？" if i % 2 else f"What drug is used for {en}?", "answer": drug,
                        "hops": 1})
        else:
            out.append({"question": f"{zh}要做什么检查？" if i % 2 else f"Which check is done for {en.lower()}?",
                        "answer": check, "hops": 1})
    return out


# Labelled name pairs: True = the same thing (should merge or be proposed), False = must never merge.
PAIRS = [
    ("Type 2 Diabetes", "type-2 diabetes", True), ("ＧＯＵＴ", "gout", True), ("高血压病", "高血压", True),
    ("甲亢", "甲状腺功能亢进症", True), ("脑梗塞", "脑梗死", True), ("心肌梗死", "心肌梗塞", True),
    ("胃食管反流病", "胃食道反流病", True), ("Allergic rhinitis", "allergic  rhinitis", True),
    ("慢性阻塞性肺疾病", "慢性阻塞性肺病", True), ("阿莫西林", "阿莫西林 ", True),
    ("幽门螺杆菌感染", "幽门螺旋杆菌感染", True),
    ("Kidney Stone", "kidney stones", True),
    ("高血压", "高血压脑病", False), ("原发性高血压", "继发性高血压", False), ("1型糖尿病", "2型糖尿病", False),
    ("急性胃炎", "慢性胃炎", False), ("急性支气管炎", "慢性支气管炎", False),
    ("甲状腺功能亢进症", "甲状腺功能减退症", False),
    ("Primary hypertension", "Secondary hypertension", False), ("Type 1 diabetes", "Type 2 diabetes", False),
    ("高血压", "高血压危象", False), ("良性肿瘤", "恶性肿瘤", False), ("左肾结石", "右肾结石", False),
    ("Acute bronchitis", "Chronic bronchitis", False), ("胃炎", "胃癌", False), ("肝炎", "肝硬化", False),
]


def write(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "hospital.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["head", "relation", "tail", "head_type", "tail_type"], lineterminator="\n")
        w.writeheader()
        w.writerows(facts())
    with open(os.path.join(folder, "questions.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in questions())


if __name__ == "__main__":
    write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "graph"))
