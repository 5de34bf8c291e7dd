"""Symptoms said as patients say them (上大号带血, "my bottom hurts") read into the graph's names, and the check of
a reply that leaves out what the question says: the plan a base model's graph chat gets, on an in-memory graph
with no embedder, so the words are read and not guessed."""
from __future__ import annotations

import pytest

from server.graph.grounded import plan
from server.graph.ladybug import LadybugEngine
from server.graph.service import Graph

CLINIC = """head,relation,tail,head_type,tail_type
痔疮,症状,便血,疾病,症状
痔疮,症状,肛门疼痛,疾病,症状
痔疮,就诊科室,肛肠科,疾病,科室
尿路感染,症状,尿痛,疾病,症状
尿路感染,症状,尿频,疾病,症状
尿路感染,就诊科室,泌尿外科,疾病,科室
肾结石,症状,血尿,疾病,症状
肾结石,症状,腰痛,疾病,症状
肾结石,就诊科室,泌尿外科,疾病,科室
肠易激综合征,症状,便秘,疾病,症状
肠易激综合征,症状,腹痛,疾病,症状
肠易激综合征,常用药品,匹维溴铵,疾病,药品
过敏性鼻炎,症状,鼻痒,疾病,症状
过敏性鼻炎,症状,打喷嚏,疾病,症状
过敏性鼻炎,就诊科室,耳鼻喉科,疾病,科室
湿疹,症状,丘疹,疾病,症状
湿疹,症状,皮肤瘙痒,疾病,症状
湿疹,就诊科室,皮肤科,疾病,科室
湿疹,常用药品,丁酸氢化可的松乳膏,疾病,药品
荨麻疹,症状,风团,疾病,症状
荨麻疹,症状,皮肤瘙痒,疾病,症状
荨麻疹,常用药品,西替利嗪,疾病,药品
手足口病,症状,发热,疾病,症状
手足口病,症状,手足皮疹,疾病,症状
手足口病,就诊科室,儿科,疾病,科室
水痘,症状,发热,疾病,症状
水痘,就诊科室,皮肤科,疾病,科室
癫痫,症状,抽搐,疾病,症状
癫痫,检查项目,脑电图,疾病,检查
""".encode()


@pytest.fixture(scope="module")
def graph():
    g = Graph(lambda: LadybugEngine(None))
    g.import_file("clinic.csv", CLINIC)
    yield g
    g.close()


def answer(graph, question: str) -> tuple[str, list[tuple[str, str, str]], dict]:
    """(the base model's composed reply, the facts it cites, its check) for a graph chat."""
    p = plan(graph, None, question, base_model=True)
    assert p is not None and p.reply is not None, f"no reply from the facts to {question}"
    cited = [(s["head"]["name"], s["relation"], s["tail"]["name"]) for s in p.sources]
    return p.reply, cited, p.check(p.reply)


def test_everyday_words_find_the_graphs_symptoms_and_their_department(graph):
    reply, cited, check = answer(graph, "上大号带血，屁股那儿还疼，该挂哪个科？")
    assert reply == "痔疮的症状是便血 [1]、肛门疼痛 [2]。痔疮的就诊科室是肛肠科 [3]。", reply
    assert check == {"supported": True}
    # 小便 stands for 尿 and not for 便: blood in the urine is 血尿 (肾结石), not 便血
    reply, cited, _ = answer(graph, "腰疼得厉害，小便里还带血，挂什么科？")
    assert ("肾结石", "症状", "血尿") in cited and ("痔疮", "症状", "便血") not in cited, cited


def test_english_everyday_words_are_read_too(graph):
    reply, cited, check = answer(graph, "There is blood in my stool and my bottom hurts, which department?")
    assert ("痔疮", "症状", "便血") in cited and ("痔疮", "症状", "肛门疼痛") in cited and "肛肠科" in reply, reply
    assert check == {"supported": True}
    # "a rash on his hands": the last word of 手足皮疹 singles out 手足口病 where 发热 alone leads to two
    reply, _, check = answer(graph, "My child has a fever and a rash on his hands, which department?")
    assert "儿科" in reply and "皮肤科" not in reply and check == {"supported": True}, reply


def test_a_site_the_question_says_outweighs_a_skin_symptom_presumed(graph):
    # 鼻子痒 is 鼻痒 (过敏性鼻炎), not 皮肤瘙痒 (湿疹, 荨麻疹), which an itch elsewhere on the body would be
    reply, cited, check = answer(graph, "鼻子痒得厉害，挂什么科？")
    assert reply == "过敏性鼻炎的症状是鼻痒 [1]。过敏性鼻炎的就诊科室是耳鼻喉科 [2]。", reply
    assert check == {"supported": True}
    assert "皮肤瘙痒" in answer(graph, "身上痒得厉害，挂什么科？")[0]


def test_a_word_read_two_ways_that_tells_candidates_apart_is_flagged(graph):
    # 疙瘩 may be 荨麻疹's 风团 or 湿疹's 丘疹: both drugs are listed and the reply is flagged, quoting a fact
    reply, _, check = answer(graph, "身上起了一块一块的疙瘩，痒得很，吃什么药？")
    assert reply.startswith("有几种可能：") and "西替利嗪" in reply and "丁酸氢化可的松乳膏" in reply, reply
    assert check["supported"] is False and check["quote"]["kind"] == "fact", check


def test_a_reply_that_leaves_out_a_symptom_the_question_says_is_flagged(graph):
    # only 肠易激综合征 has a drug in the graph, but 尿痛 is 尿路感染's: the drug answers half the question
    reply, _, check = answer(graph, "尿的时候疼，还便秘，吃什么药？")
    assert "匹维溴铵" in reply and check["supported"] is False, (reply, check)
    _, _, check = answer(graph, "肚子疼，还便秘，吃什么药？")  # both are 肠易激综合征's
    assert check == {"supported": True}


def test_words_that_only_share_characters_with_a_symptom_are_not_read(graph):
    # 抽血 is a blood draw, not 抽搐; 麻烦 asks politely, nothing is numb: no disease, so no reply from the facts
    assert plan(graph, None, "麻烦问一下，抽血化验要空腹吗？", base_model=True) is None
