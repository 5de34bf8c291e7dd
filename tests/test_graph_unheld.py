"""A question about something the graph holds no fact of (an operation's floor, a drug's price or side effects, a
check's fasting) gets no reply from the facts, where a nearby fact (the clinic's floor) would answer another
question; an instruction model that states that fact is flagged. What the graph does hold is still answered."""
from __future__ import annotations

import pytest

from server.graph.grounded import plan
from server.graph.ladybug import LadybugEngine
from server.graph.service import Graph
from tests.test_graph_everyday import answer

HOSPITAL = """head,relation,tail,head_type,tail_type
白内障,就诊科室,眼科,疾病,科室
白内障,症状,视物模糊,疾病,症状
白内障,常用药品,吡诺克辛滴眼液,疾病,药品
白内障,检查项目,裂隙灯检查,疾病,检查
眼科,位置,门诊楼5层A区,科室,位置
裂隙灯检查,检查地点,眼科,检查,科室
白内障,alias,Cataract,,
青光眼,就诊科室,眼科,疾病,科室
青光眼,并发症,失明,疾病,疾病
青光眼,检查项目,眼压测量,疾病,检查
眼压测量,检查地点,视光中心,检查,科室
干燥综合征,症状,口干,疾病,症状
干燥综合征,症状,眼干,疾病,症状
干燥综合征,症状,关节痛,疾病,症状
干燥综合征,就诊科室,风湿免疫科,疾病,科室
干燥综合征,常用药品,羟氯喹,疾病,药品
高血压,症状,头晕,疾病,症状
高血压,就诊科室,心内科,疾病,科室
""".encode()


@pytest.fixture(scope="module")
def graph():
    g = Graph(lambda: LadybugEngine(None))
    g.import_file("hospital.csv", HOSPITAL)
    yield g
    g.close()


@pytest.mark.parametrize("unheld, held, reply", [
    # the operation's floor is not the eye clinic's; the department that operates is
    ("白内障做手术是在哪个楼层？", "白内障做手术挂什么科？", "白内障的就诊科室是眼科 [1]。"),
    ("Where is cataract surgery done?", "Where is the cataract clinic?",
     "The department of Cataract: 眼科 [1]. The location of 眼科: 门诊楼5层A区 [2]."),
    # a clause that names nothing asks of the procedure before it, and not of what else the question asks
    ("白内障要做手术，在几楼做？", "做裂隙灯检查之前要注意什么，在哪做？",
     "裂隙灯检查的检查地点是眼科 [1]。眼科的位置是门诊楼5层A区 [2]。"),
    ("白内障做激光在几楼？", "做一次裂隙灯检查在几楼？",
     "裂隙灯检查的检查地点是眼科 [1]。眼科的位置是门诊楼5层A区 [2]。"),
    ("白内障住院在几楼？", "白内障在几楼看？", "白内障的就诊科室是眼科 [1]。眼科的位置是门诊楼5层A区 [2]。"),
    # what the question asks besides, in a clause of its own, leaves the asked kind's answer
    ("白内障用的药多少钱？", "白内障用什么药？贵不贵？", "白内障的常用药品是吡诺克辛滴眼液 [1]。"),
    ("白内障用的药有什么副作用？", "白内障用什么药？", "白内障的常用药品是吡诺克辛滴眼液 [1]。"),
    ("What are the side effects of the drug for cataract?", "What drug is used for cataract?",
     "The drug of Cataract: 吡诺克辛滴眼液 [1]."),
    ("白内障的药一天用几次？", "白内障用什么药？", "白内障的常用药品是吡诺克辛滴眼液 [1]。"),
    ("白内障要做的检查需要空腹吗？", "白内障要做什么检查？", "白内障的检查项目是裂隙灯检查 [1]。"),
    ("做完裂隙灯检查去哪里拿报告？", "裂隙灯检查在哪里做？",
     "裂隙灯检查的检查地点是眼科 [1]。眼科的位置是门诊楼5层A区 [2]。"),
    # a graph that holds the aspect answers it (青光眼's 并发症)
    ("白内障的并发症有哪些症状？", "青光眼有什么并发症？", "青光眼的并发症是失明 [1]。"),
])
def test_what_the_graph_holds_nothing_of_gets_no_reply_from_the_facts(graph, unheld, held, reply):
    assert plan(graph, None, unheld, base_model=True) is None, unheld
    assert answer(graph, held)[::2] == (reply, {"supported": True})


def test_a_place_asked_beside_a_check_is_the_checks(graph):
    # where 眼压测量 is done, not where 青光眼's clinic is
    reply, _, check = answer(graph, "青光眼要做眼压测量，在哪里做？")
    assert reply == "眼压测量的检查地点是视光中心 [1]。" and check == {"supported": True}, reply
    assert "门诊楼5层A区" in answer(graph, "青光眼在几楼看？")[0]


def test_an_instruction_model_that_gives_the_clinics_floor_for_the_operations_is_flagged(graph):
    p = plan(graph, None, "白内障做手术是在哪个楼层？", base_model=False)
    assert p is not None and p.check("眼科的位置是门诊楼5层A区 [1]。")["supported"] is False



@pytest.mark.parametrize("question", ["干眼症用什么药？", "痛风性关节炎挂什么科？"])
def test_a_disease_the_graph_lacks_is_not_read_as_the_symptoms_its_characters_spell(graph, question):
    # 干眼症's characters hold 眼干's, 痛风性关节炎's 关节痛's: 干燥综合征's drug would answer another disease
    assert plan(graph, None, question, base_model=True) is None, question


def test_a_reply_from_the_symptoms_beside_a_disease_the_graph_lacks_is_flagged(graph):
    reply, _, check = answer(graph, "颈椎病引起的头晕，挂什么科？")
    assert "心内科" in reply and check["supported"] is False, (reply, check)
    # the graph's own names, and a kind of trouble (胃病), are no disease it lacks
    reply, _, check = answer(graph, "我有胃病，最近老是口干、眼干，吃什么药？")
    assert "羟氯喹" in reply and check == {"supported": True}, (reply, check)
    assert answer(graph, "干燥综合征挂什么科？")[::2] == ("干燥综合征的就诊科室是风湿免疫科 [1]。", {"supported": True})
