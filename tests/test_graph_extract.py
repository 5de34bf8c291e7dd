"""Offline extraction: the patterns in Chinese and English, how sure each fact is, a model's JSON through the same
rules, and proposals (accept, drop, reopen) and rejected merge pairs on both engines."""
from __future__ import annotations

import pytest

from server.errors import ChatError
from server.graph import extract, rules
from server.graph.ladybug import LadybugEngine
from server.graph.lexicon import Dictionary, lexicon_type
from server.graph.proposals import STORE_FROM
from server.graph.service import Graph

SOURCE = {"document": "d1", "title": "clinic.md", "passage": "d1-0"}


def triples(facts, sure_only=True):
    return sorted((f["head"], f["relation"], f["tail"]) for f in facts
                  if f["confidence"] >= STORE_FROM or not sure_only)


def test_chinese_patterns():
    text = ("胆囊炎的典型症状有右上腹痛、发热和黄疸。患者应到肝胆外科就诊，常用药品为熊去氧胆酸胶囊。"
            "需要做腹部B超检查和肝功能检查。"
            "门诊每天早上八点开诊，食堂在住院部一楼。")
    assert triples(rules.extract(text)) == sorted([
        ("胆囊炎", "症状", "右上腹痛"), ("胆囊炎", "症状", "发热"), ("胆囊炎", "症状", "黄疸"),
        ("胆囊炎", "就诊科室", "肝胆外科"), ("胆囊炎", "常用药品", "熊去氧胆酸胶囊"),
        ("胆囊炎", "检查项目", "腹部B超检查"), ("胆囊炎", "检查项目", "肝功能检查")])
    found = rules.extract("鼻窦炎患者常出现鼻塞，可伴有头痛。就诊科室为耳鼻喉科。")
    assert triples(found) == sorted([("鼻窦炎", "症状", "鼻塞"), ("鼻窦炎", "症状", "头痛"),
                                     ("鼻窦炎", "就诊科室", "耳鼻喉科")])
    assert {f["extractor"] for f in found} == {"rules"}
    assert found[0]["sentence"] == "鼻窦炎患者常出现鼻塞，可伴有头痛。" and found[0]["head_type"] == "疾病"
    # Named but not described, opening hours, a canteen: nothing.
    assert rules.extract("本院设有白内障和青光眼专科门诊，周一至周五上午八点开放；职工食堂供应午餐。") == []


def test_english_patterns():
    text = ("Sinusitis: its symptoms are a blocked nose, facial pain and headache. Patients are seen in the ENT "
            "department. It is treated with amoxicillin capsules and a saline spray. A nasal endoscopy is needed.")
    assert triples(rules.extract(text)) == sorted([
        ("Sinusitis", "symptom", "blocked nose"), ("Sinusitis", "symptom", "facial pain"),
        ("Sinusitis", "symptom", "headache"), ("Sinusitis", "department", "ENT"),
        ("Sinusitis", "drug", "amoxicillin capsules"), ("Sinusitis", "drug", "saline spray"),
        ("Sinusitis", "check", "nasal endoscopy")])
    assert rules.extract("The canteen opens at 7 am. Our clinic also sees measles and mumps.") == []


def test_weak_patterns_and_wrong_types_are_proposed_not_stored():
    weak = rules.extract("Anaemia often goes unnoticed, but patients have tiredness and pale skin.")
    assert weak and all(f["confidence"] < STORE_FROM for f in weak)
    # "常用药物为" naming a department: the lexicon says 科 is no drug.
    odd = rules.extract("胃溃疡的常用药物为消化内科。")
    assert odd and odd[0]["confidence"] < STORE_FROM
    # A drug with no dosage form is a guess until the graph knows it as a drug.
    plain = rules.extract("痛风的常用药品为别嘌醇。")
    assert plain[0]["confidence"] < STORE_FROM
    known = rules.extract("痛风的常用药品为别嘌醇。", Dictionary([("别嘌醇", "药品"), ("痛风", "疾病")]))
    assert known[0]["confidence"] >= STORE_FROM


def test_lexicon_and_dictionary():
    assert [lexicon_type(n) for n in ("阿莫西林胶囊", "胃镜检查", "消化内科", "急性胃炎", "头痛")] == \
        ["药品", "检查", "科室", "疾病", ""]
    assert [lexicon_type(n) for n in ("metformin tablets", "MRI scan", "cardiology", "omeprazole", "cough")] == \
        ["药品", "检查", "科室", "药品", ""]
    d = Dictionary([("胃炎", "疾病"), ("Gastritis", "疾病"), ("消化内科", "科室")])
    assert d.mentions("慢性胃炎到消化内科") == [(2, "胃炎"), (5, "消化内科")]
    assert d.type_of("GASTRITIS") == "疾病" and not d.known("肝炎")
    # A sentence opening on a disease the graph knows makes it the subject.
    assert triples(rules.extract("胃炎一般到消化内科就诊。", d)) == [("胃炎", "就诊科室", "消化内科")]


def test_model_json_goes_through_the_same_rules():
    passage = "Gastritis symptoms are stomach pain and bloating. It is treated with omeprazole capsules."
    ents, rels = extract.parse('{"entities": [], "relations": ['
                               '{"head": "Gastritis", "relation": "symptom", "tail": "stomach pain"},'
                               '{"head": "Gastritis", "relation": "treated with", "tail": "omeprazole capsules"},'
                               '{"head": "胃炎", "relation": "symptom", "tail": "bloating"},'
                               '{"head": "Gastritis", "relation": "likes", "tail": "bloating"},'
                               '{"head": "Gastritis", "relation": "drug", "tail": "gastroenterology"}]}')
    scored = {(f["head"], f["relation"], f["tail"]): f for f in extract.score(ents, rels, passage)}
    assert scored[("Gastritis", "symptom", "stomach pain")]["confidence"] >= STORE_FROM
    assert scored[("Gastritis", "drug", "omeprazole capsules")]["confidence"] >= STORE_FROM  # relation named ours
    assert scored[("胃炎", "symptom", "bloating")]["confidence"] < STORE_FROM  # a name not in the passage
    assert scored[("Gastritis", "likes", "bloating")]["confidence"] < STORE_FROM  # a relation off the list
    assert scored[("Gastritis", "drug", "gastroenterology")]["confidence"] < STORE_FROM  # a department as a drug
    both = extract.combine(rules.extract(passage), list(scored.values()))
    pain = next(f for f in both if f["tail"] == "stomach pain")
    assert pain["extractor"] == "rules+model" \
        and pain["confidence"] > scored[("Gastritis", "symptom", "stomach pain")]["confidence"]


@pytest.fixture(params=["ladybug", "arcadedb"])
def graph(request, tmp_path):
    """A graph on an engine, with reopen(): the same stored graph opened afresh (as after a restart)."""
    opened = []
    if request.param == "ladybug":
        folder = str(tmp_path / "graph")
        engine = lambda: LadybugEngine(folder)  # noqa: E731
    else:
        from server.graph.neo4j_engine import Neo4jEngine

        server = request.getfixturevalue("arcadedb")
        Neo4jEngine(server.url, "root", server.PASSWORD).run("MATCH (n) DETACH DELETE n")
        engine = lambda: Neo4jEngine(server.url, "root", server.PASSWORD)  # noqa: E731

    def reopen():
        for g in opened:
            g.close()
        opened[:] = [Graph(engine)]
        opened[0].reopen = reopen
        return opened[0]
    yield reopen()
    for g in opened:
        g.close()


def test_proposals_accept_drop_and_reopen(graph):
    text = "Anaemia often goes unnoticed, but patients have tiredness and pale skin. Anaemia is treated with iron."
    found = rules.extract(text)
    stored, proposed = graph.add_found(found, SOURCE)
    assert stored == 0 and proposed == 3
    graph = graph.reopen()  # proposals live with the graph
    listed = graph.proposals()
    assert sorted(p["tail"] for p in listed) == ["iron", "pale skin", "tiredness"]
    first = listed[0]
    assert first["sources"] == [{**SOURCE, "sentence": first["sources"][0]["sentence"]}] \
        and first["sources"][0]["sentence"]
    assert 0 < first["confidence"] < STORE_FROM and first["extractor"] == "rules"
    assert graph.entities("Anaemia") == []  # nothing proposed is in the graph
    iron = next(p for p in listed if p["tail"] == "iron")
    fact = graph.accept_proposal(iron["id"])
    assert (fact["head"]["name"], fact["relation"], fact["tail"]["name"]) == ("Anaemia", "drug", "iron")
    assert fact["extractor"] == "rules+review" and fact["sources"] == [SOURCE]
    skin = next(p for p in listed if p["tail"] == "pale skin")
    graph.drop_proposal(skin["id"])
    assert [p["tail"] for p in graph.proposals()] == ["tiredness"]
    with pytest.raises(ChatError):
        graph.drop_proposal(skin["id"])
    # The same passage built again proposes neither the dropped one nor the accepted one.
    assert graph.add_found(rules.extract(text), {**SOURCE, "passage": "d1-1"}) == (0, 1)
    assert [p["tail"] for p in graph.proposals()] == ["tiredness"]
    assert len(graph.proposals()[0]["sources"]) == 2
    # A deleted document leaves the proposals it found.
    graph.forget_document("d1")
    assert graph.proposals() == []


def test_sure_facts_are_stored_with_confidence(graph):
    stored, proposed = graph.add_found(rules.extract("偏头痛的症状有头痛和呕吐。应到神经内科就诊。"), SOURCE)
    assert (stored, proposed) == (3, 0)
    eid = graph.entities("偏头痛")[0]["id"]
    facts = graph.neighbourhood(eid)["facts"]
    assert {f["extractor"] for f in facts} == {"rules"} and all(f["confidence"] >= STORE_FROM for f in facts)
    assert facts[0]["sources"] == [SOURCE]


def test_a_rejected_pair_is_never_proposed_again(graph):
    graph.import_file("m.csv", "head,relation,tail,head_type,tail_type\n"
                      "高血压,症状,头晕,疾病,症状\n高血压病,就诊科室,心内科,疾病,科室\n".encode())
    pair = graph.candidates()[0]
    assert {pair["a"]["name"], pair["b"]["name"]} == {"高血压", "高血压病"}
    graph.reject_candidate(pair["b"]["id"], pair["a"]["id"])
    assert graph.candidates() == []
    graph.import_file("more.csv", "head,relation,tail\n高血压,症状,头痛\n".encode())
    assert graph.candidates() == []
    graph = graph.reopen()
    assert graph.candidates() == []
    with pytest.raises(ChatError):
        graph.reject_candidate(pair["a"]["id"], "nope")
    # Merged by hand, then split again: the rejection is gone with the merge.
    mid = graph.merge(pair["a"]["id"], [pair["b"]["id"]])
    graph.undo_merge(mid)
    assert len(graph.candidates()) == 1


def test_build_jobs_and_built_passages_outlive_a_restart(graph):
    """What a build goes on from after a restart, on both engines: its unfinished jobs, the passages it read."""
    from server.graph.build import Builder

    def job(job_id, status):
        return {"id": job_id, "status": status, "documents": '["doc-a"]', "backend": "", "model": "",
                "types": '["疾病"]', "done": 1, "total": 2, "facts": 3, "error": "", "extractor": "rules",
                "at": f"2026-01-01T00:00:0{len(job_id)}Z"}

    store = graph.store()
    with store.write_lock:
        store.records.add_job(job("running", "running"))
        store.records.add_job(job("ended", "done"))
        store.records.mark_built("doc-a-0", "doc-a")
        store.records.mark_built("doc-b-0", "doc-b")
    graph = graph.reopen()
    runners = []
    builder = Builder(graph, None, None, runners.append, lambda job: None)
    builder.resume()
    assert list(builder.jobs) == ["running"] and len(runners) == 1  # the one left running is queued again
    assert builder.get("ended")["status"] == "done" and builder.get("ended")["facts"] == 3
    assert builder.cancel("running")["status"] == "cancelled"
    assert Builder(graph.reopen(), None, None, runners.append, lambda job: None).get("running")["status"] == "cancelled"
    graph = graph.reopen()
    graph.forget_document("doc-a")  # a deleted document's passages would be read again
    records = graph.store().records
    assert records.built_passages("doc-a") == set() and records.built_passages("doc-b") == {"doc-b-0"}
