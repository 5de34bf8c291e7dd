"""A symptom a question says is absent (一点都不疼, "it doesn't hurt") is no symptom said, and a disease that has it
loses; everyday words for a lump, a heaviness, a change of position and a jumping eye read the graph's names."""
from __future__ import annotations

import pytest

from server.graph import everyday
from server.graph.ladybug import LadybugEngine
from server.graph.service import Graph
from tests.test_graph_everyday import answer

EYES_AND_EARS = """head,relation,tail,head_type,tail_type
麦粒肿,症状,眼睑红肿,疾病,症状
麦粒肿,症状,眼睑疼痛,疾病,症状
麦粒肿,症状,眼睑硬结,疾病,症状
麦粒肿,常用药品,红霉素眼膏,疾病,药品
睑板腺囊肿,症状,眼睑硬结,疾病,症状
睑板腺囊肿,症状,眼睑沉重感,疾病,症状
睑板腺囊肿,常用药品,妥布霉素地塞米松眼膏,疾病,药品
梅尼埃病,症状,眩晕,疾病,症状
梅尼埃病,症状,耳鸣,疾病,症状
梅尼埃病,检查项目,纯音测听,疾病,检查
良性阵发性位置性眩晕,症状,眩晕,疾病,症状
良性阵发性位置性眩晕,症状,翻身时头晕,疾病,症状
良性阵发性位置性眩晕,症状,眼球震颤,疾病,症状
良性阵发性位置性眩晕,检查项目,位置试验,疾病,检查
下肢静脉曲张,症状,皮肤色素沉着,疾病,症状
下肢静脉曲张,常用药品,地奥司明,疾病,药品
""".encode()


@pytest.fixture(scope="module")
def graph():
    g = Graph(lambda: LadybugEngine(None))
    g.import_file("eyes.csv", EYES_AND_EARS)
    yield g
    g.close()


def test_a_painless_lump_on_the_eyelid_is_not_the_painful_one(graph):
    # 眼睑硬结 is both diseases'; 一点都不疼 denies 麦粒肿's 眼睑疼痛, so 睑板腺囊肿 alone is answered
    reply, _, check = answer(graph, "眼皮上长了个硬疙瘩，一点都不疼，该用什么药？")
    assert reply == "睑板腺囊肿的症状是眼睑硬结 [1]。睑板腺囊肿的常用药品是妥布霉素地塞米松眼膏 [2]。", reply
    assert check == {"supported": True}
    # without the denial both remain, as before
    reply, _, _ = answer(graph, "眼皮上长了个硬疙瘩，该用什么药？")
    assert "红霉素眼膏" in reply and "妥布霉素地塞米松眼膏" in reply, reply


def test_a_heavy_eyelid_is_the_eyelids_heaviness_not_a_skin_symptom(graph):
    reply, _, check = answer(graph, "眼皮上长了个硬疙瘩，一点都不疼，就是眼皮有点沉，该用什么药？")
    assert reply.startswith("睑板腺囊肿的症状是眼睑硬结 [1]、眼睑沉重感 [2]") and "地奥司明" not in reply, reply
    assert check == {"supported": True}
    store = graph.store()
    skin = next(e for e in store.ents if store.ents[e]["name"] == "皮肤色素沉着")
    # a guess of it from 眼皮有点沉 names a site (皮肤) the question never says; from 腿上皮肤发黑 it may stand
    assert everyday.sited_elsewhere(store, skin, "就是眼皮有点沉")
    assert not everyday.sited_elsewhere(store, skin, "小腿上的皮肤发黑了")


def test_turning_over_and_a_jumping_eye_single_out_positional_vertigo(graph):
    reply, _, check = answer(graph, "一躺下翻个身就天旋地转，眼珠子还会跳，要做什么检查？")
    assert "位置试验" in reply and "纯音测听" not in reply and not reply.startswith("有几种可能"), reply
    assert check == {"supported": True}


def test_a_denied_symptom_every_candidate_has_flags_the_reply(graph):
    # 不头晕 denies 眩晕, which both vertigo diseases have: what is left to go on contradicts them, so flagged
    reply, _, check = answer(graph, "耳朵嗡嗡响，不头晕，要做什么检查？")
    assert "纯音测听" in reply and check["supported"] is False, (reply, check)


@pytest.mark.parametrize("clause, denied", [
    ("一点都不疼", True), ("没有发烧", True), ("也不痒", True), ("it doesn't hurt", True), ("no fever", True),
    ("停不下来", False), ("不舒服", False), ("睡不着", False), ("I cannot sleep", False)])
def test_what_a_clause_denies(clause, denied):
    assert everyday.denies(clause) is denied
