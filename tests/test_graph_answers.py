"""Graph answers through a live server: a base model's reply composed from the facts (one and two hops), and
the check of an instruction model's reply (rival candidates, a Chinese name the graph does not hold)."""
from __future__ import annotations

import pytest

from tests.kb_files import upload
from tests.live import chat, stub_and_local_base

ADMIN = "adm1n"
HOSPITAL = """head,relation,tail,head_type,tail_type
胃炎,就诊科室,消化内科,疾病,科室
胃炎,症状,胃痛,疾病,症状
胃炎,症状,恶心,疾病,症状
胃炎,常用药品,奥美拉唑,疾病,药品
胃炎,并发症,胃出血,疾病,疾病
胃溃疡,就诊科室,消化内科,疾病,科室
胃溃疡,症状,胃痛,疾病,症状
胃溃疡,症状,黑便,疾病,症状
冠心病,就诊科室,心内科,疾病,科室
冠心病,症状,胸闷,疾病,症状
冠心病,症状,胸痛,疾病,症状
哮喘,就诊科室,呼吸科,疾病,科室
哮喘,症状,胸闷,疾病,症状
消化内科,位置,门诊楼2楼,科室,位置
手足口病,就诊科室,儿科,疾病,科室
手足口病,症状,发热,疾病,症状
手足口病,症状,手足皮疹,疾病,症状
水痘,症状,发热,疾病,症状
水痘,就诊科室,皮肤科,疾病,科室
胃炎,alias,Gastritis,,
胃炎,检查项目,胃镜,疾病,检查
胃镜,检查地点,内镜中心,检查,科室
冠心病,常用药品,阿司匹林,疾病,药品
哮喘,常用药品,沙丁胺醇,疾病,药品
消化内科,alias,Gastroenterology,,
""".encode()


@pytest.fixture(scope="module")
def server(stub, tmp_path_factory):
    """The stub upstream as the default backend (an instruction model), a tiny base model as "local"."""
    s = stub_and_local_base(stub, str(tmp_path_factory.mktemp("graph-answers")), ADMIN)
    status, body = upload(s.url, "hospital.csv", HOSPITAL, token=ADMIN, path="/api/graph/import")
    assert status == 200 and body["import"]["facts"] == 23, body
    yield s
    s.stop()


def ask(server, message, **fields):
    return chat(server, message, graph=True, **fields)


def facts(body):
    return [(s["head"]["name"], s["relation"], s["tail"]["name"]) for s in body["sources"]]


def test_a_base_model_states_one_hop_facts_cited(server, make_client):
    client = make_client(server.url)
    done = client.wait_done(client.chat("胃炎挂什么科？", backend="local", graph=True))
    assert done["text"] == "胃炎的就诊科室是消化内科 [1]。", done
    assert done["answer"] == {"from": "facts", "facts": [1]}
    assert facts(done) == [("胃炎", "就诊科室", "消化内科")] and done["grounding"] == {"supported": True}
    # the history keeps where the reply came from, as it keeps its sources (a reload shows the same)
    kept = client.call("history")["history"][-1]
    assert kept["answer"] == done["answer"] and kept["grounding"] == done["grounding"], kept
    body = ask(server, "What drug is used for gastritis?", backend="local")  # English: English names where known
    assert body["text"] == "The drug of Gastritis: 奥美拉唑 [1]." and body["answer"]["facts"] == [1]
    body = ask(server, "胃炎有什么并发症？", backend="local")  # a relation of the graph's own, named
    assert body["text"] == "胃炎的并发症是胃出血 [1]。" and body["answer"]["facts"] == [1]


def test_a_base_model_states_both_links_of_two_hops(server):
    body = ask(server, "胃痛、恶心应该挂什么科？", backend="local")
    # 胃炎 has both symptoms, 胃溃疡 only one: the disease of the two, then its department, each link cited.
    assert body["text"] == "胃炎的症状是胃痛 [1]、恶心 [2]。胃炎的就诊科室是消化内科 [3]。"
    assert facts(body) == [("胃炎", "症状", "胃痛"), ("胃炎", "症状", "恶心"), ("胃炎", "就诊科室", "消化内科")]
    assert body["answer"] == {"from": "facts", "facts": [1, 2, 3]} and body["grounding"]["supported"] is True
    body = ask(server, "胃炎在几楼看？", backend="local")  # disease -> department -> place
    assert body["text"] == "胃炎的就诊科室是消化内科 [1]。消化内科的位置是门诊楼2楼 [2]。"
    body = ask(server, "胃痛、恶心要查什么？", backend="local")  # 查什么 asks for a check
    assert body["text"].endswith("胃炎的检查项目是胃镜 [3]。"), body["text"]
    # 胸闷 leads to two diseases with different drugs: both, and the reply says it cannot choose
    body = ask(server, "胸闷吃什么药？", backend="local")
    assert body["text"].startswith("有几种可能：") and "阿司匹林" in body["text"] and "沙丁胺醇" in body["text"]


def test_a_symptom_named_by_its_last_word_singles_out_the_disease(server):
    # 发热 alone leads to 手足口病 (儿科) and 水痘 (皮肤科); 皮疹 is how a parent says the graph's 手足皮疹
    body = ask(server, "孩子发热，手上起了皮疹，挂什么科？", backend="local")
    assert "儿科" in body["text"] and "皮肤科" not in body["text"], body["text"]
    assert ("手足口病", "症状", "手足皮疹") in facts(body) and body["grounding"] == {"supported": True}
    assert ask(server, "发热挂什么科？", backend="local")["text"].startswith("有几种可能：")


def test_a_department_is_found_by_its_type_whatever_the_relation_is_called(server):
    # 内镜中心 is a 科室 reached by 检查地点: the check's own department, not 胃炎's 消化内科 two links away
    body = ask(server, "做胃镜要去哪个科室？", backend="local")
    assert "内镜中心" in body["text"] and "消化内科" not in body["text"], body
    assert ("胃镜", "检查地点", "内镜中心") in facts(body) and body["grounding"] == {"supported": True}


def test_a_place_asked_in_everyday_words_is_the_checks_place(server):
    # 哪个地方 asks a place as 在哪 does: a check's place is where it is done (its 检查地点), not "not found"
    body = ask(server, "要做胃镜的话得去哪个地方做？", backend="local")
    assert "内镜中心" in body["text"] and body["grounding"] == {"supported": True}, body


def test_symptoms_said_in_everyday_words_find_the_graphs_names(server):
    # 胃疼 is the graph's 胃痛 and 大便发黑 its 黑便: together they single out 胃溃疡 (胃炎 has 胃痛 alone)
    body = ask(server, "胃疼，大便发黑，挂什么科？", backend="local")
    assert ("胃溃疡", "症状", "黑便") in facts(body) and "消化内科" in body["text"], body
    assert body["grounding"] == {"supported": True}
    # a symptom the question names outweighs one found by meaning: 恶心 (胃炎) over 发烧 -> 发热 (two others)
    body = ask(server, "恶心，还有点发烧，挂什么科？", backend="local")
    assert body["text"] == "胃炎的症状是恶心 [1]。胃炎的就诊科室是消化内科 [2]。", body["text"]
    body = ask(server, "孩子最近老是哭闹，挂什么科？", backend="local")  # words near no symptom: nothing is guessed
    assert "answer" not in body and body["sources"] == [], body


def test_a_question_the_facts_do_not_answer_is_not_guessed(server):
    body = ask(server, "胃炎要住院几天？", backend="local")  # named, but no relation asked; the library is empty
    assert "answer" not in body and body["sources"] == [] and ("没有" in body["text"] or "找到" in body["text"])


def test_an_instruction_model_gets_the_answering_facts_first_and_is_checked(server, stub):
    body = ask(server, "胃痛、恶心应该挂什么科？", model="say:消化内科 [1]。")
    assert "answer" not in body and facts(body)[0] == ("胃炎", "就诊科室", "消化内科")
    assert "[1] (fact) 胃炎 -就诊科室-> 消化内科" in stub.requests[-1]["messages"][0]["content"]
    assert body["grounding"] == {"supported": True}


def test_one_of_two_candidates_the_reply_cannot_tell_apart_is_flagged(server):
    # 胸闷 is a symptom of 冠心病 (心内科) and of 哮喘 (呼吸科): naming one department is a guess.
    body = ask(server, "胸闷应该挂什么科？", model="say:心内科 [1]。")
    quote = body["grounding"]["quote"]
    assert body["grounding"]["supported"] is False
    assert (quote["kind"], quote["head"], quote["relation"], quote["tail"]) == ("fact", "哮喘", "就诊科室", "呼吸科")
    assert facts(body)[quote["n"] - 1] == ("哮喘", "就诊科室", "呼吸科")
    both = ask(server, "胸闷应该挂什么科？", model="say:可能是心内科 [1] 或呼吸科 [2]。")
    assert both["grounding"] == {"supported": True}
    # the base model's reply composed from both says in its first words that it cannot choose
    composed = ask(server, "胸闷应该挂什么科？", backend="local")
    assert composed["text"].startswith("有几种可能：") and "心内科" in composed["text"] and "呼吸科" in composed["text"]
    assert composed["answer"]["from"] == "facts" and composed["grounding"] == {"supported": True}
    one = ask(server, "胃炎挂什么科？", backend="local")  # one answer: no such words
    assert not one["text"].startswith("有几种可能"), one


def test_two_candidates_with_a_word_near_one_of_their_symptoms_are_flagged(server):
    # 心脏不舒服 is near 冠心病's 胸痛 but not near enough to be read as it: it may single out 冠心病, so listing both
    # departments is flagged, quoting a fact; 胸闷 alone is a true tie and is not
    body = ask(server, "胸闷，心脏不舒服，挂什么科？", backend="local")
    assert body["text"].startswith("有几种可能：") and "心内科" in body["text"] and "呼吸科" in body["text"], body
    assert body["grounding"]["supported"] is False and body["grounding"]["quote"]["kind"] == "fact", body
    plain = ask(server, "我家孩子最近胸闷，挂什么科？", backend="local")  # words near no symptom
    assert plain["text"].startswith("有几种可能：") and plain["grounding"] == {"supported": True}, plain
    # 心口疼 is read (心口 -> 胸, 疼 -> 痛: the graph's 胸痛), and with 胸闷 it singles out 冠心病
    read = ask(server, "胸闷，心口疼，挂什么科？", backend="local")
    assert read["text"] == "冠心病的症状是胸闷 [1]、胸痛 [2]。冠心病的就诊科室是心内科 [3]。", read["text"]
    assert read["grounding"] == {"supported": True}


def test_a_chinese_name_absent_from_the_knowledge_is_flagged(server):
    body = ask(server, "胃炎挂什么科？", model="say:请挂胃科 [1]。")
    assert body["grounding"]["supported"] is False
    assert body["grounding"]["quote"] == {"n": 1, "kind": "fact", "head": "胃炎", "relation": "就诊科室",
                                          "tail": "消化内科"}
    assert ask(server, "胃炎挂什么科？", model="say:请挂消化内科 [1]。")["grounding"] == {"supported": True}
    # a drug the graph does not hold
    wrong = ask(server, "胃炎吃什么药？", model="say:胃炎常用雷贝拉唑 [1]，挂消化内科。")
    assert wrong["grounding"]["supported"] is False
