"""The knowledge graph through a live server (both async modes): import, build, align, delete, chat with facts."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.graph_api import get, wait_job
from tests.kb_files import upload
from tests.live import LiveServer, http_json
from tests.tinymodel import build as build_tiny

ADMIN = {"Authorization": "Bearer adm1n"}
MED_CSV = """head,relation,tail,head_type,tail_type
胃炎,症状,胃痛,疾病,症状
胃炎,就诊科室,消化内科,疾病,科室
反流性食管炎,症状,反酸,疾病,症状
反流性食管炎,就诊科室,消化内科,疾病,科室
偏头痛,就诊科室,神经内科,疾病,科室
,症状,咳嗽,,
Migraine,alias,偏头痛,,
""".encode()
# Passages the stub's "triples" model reads: each three-word sentence is a fact.
CLINIC = ("胆囊炎 症状 右上腹痛。胆囊炎 就诊科室 肝胆外科。胆囊炎 常用药品 熊去氧胆酸。"
          "右上腹痛常在饭后出现，油腻食物之后更明显，医生会先问清楚疼痛的时间和位置。").encode()


def imp(url, name, data, headers=ADMIN):
    return upload(url, name, data, token=headers.get("Authorization", " ").split(" ")[1] if headers else None,
                  path="/api/graph/import")


def find(url, name):
    return get(url, f"/api/graph/entities?q={urllib_quote(name)}")["entities"]


def urllib_quote(s):
    from urllib.parse import quote

    return quote(s)


def facts_of(url, eid, hops=1):
    body = get(url, f"/api/graph/entities/{eid}?hops={hops}")
    return sorted((f["head"]["name"], f["relation"], f["tail"]["name"]) for f in body["facts"]), body


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def server(request, stub, tmp_path_factory):
    data = tmp_path_factory.mktemp("graph-data")
    s = LiveServer("--backend", "openai", "--base-url", stub.url, "--data-dir", str(data), "--admin-token", "adm1n",
                   "--rate-per-minute", "0", "--rate-per-minute-ip", "0", async_mode=request.param).start()
    s.data_dir, s.mode = str(data), request.param
    yield s
    s.stop()


def test_import_read_and_admin_only_writes(server):
    url = server.url
    status, body = imp(url, "med.csv", MED_CSV, headers={})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = imp(url, "med.csv", MED_CSV)
    assert status == 200, body
    got = body["import"]
    assert got["facts"] == 5 and got["skipped"] == [{"line": 7, "reason": "'head' is empty"}]
    status, body = imp(url, "bad.csv", b"head,relation,tail\n,,\n")
    assert status == 400 and "nothing was stored" in body["error"]["message"]

    migraine = find(url, "migraine")
    assert [e["name"] for e in migraine] == ["Migraine"] and migraine[0]["aliases"] == ["偏头痛"]
    assert find(url, "偏头痛")[0]["id"] == migraine[0]["id"] and migraine[0]["facts"] == 1
    pain = find(url, "胃痛")[0]
    assert pain["type"] == "症状" and pain["facts"] == 1
    facts, body = facts_of(url, pain["id"], hops=2)
    assert facts == [("胃炎", "就诊科室", "消化内科"), ("胃炎", "症状", "胃痛")]
    assert body["facts"][0]["sources"] == [{"import": got["id"], "file": "med.csv"}]
    stats = get(url, "/api/graph/stats")
    assert stats["engine"] == "ladybug" and stats["facts"] >= 5 and stats["types"]["科室"] >= 2
    with urllib.request.urlopen(url + "/api/graph/export?format=csv", timeout=30) as r:
        text = r.read().decode()
    assert "胃炎,症状,胃痛,疾病,症状" in text and "Migraine,alias,偏头痛" in text

    fid = body["facts"][0]["id"]
    assert http_json(url + f"/api/graph/facts/{fid}", method="DELETE")[0] == 403
    assert http_json(url + f"/api/graph/facts/{fid}", method="DELETE", headers=ADMIN) == (200, {"ok": True})
    assert http_json(url + f"/api/graph/facts/{fid}", method="DELETE", headers=ADMIN)[0] == 404
    assert http_json(url + "/api/graph/entities/nope")[0] == 404


def test_candidates_merge_and_undo(server):
    url = server.url
    rows = [{"head": "高血压病", "relation": "症状", "tail": "头晕", "head_type": "疾病", "tail_type": "症状"},
            {"head": "高血压", "relation": "就诊科室", "tail": "心血管内科", "head_type": "疾病", "tail_type": "科室"},
            {"head": "高血压脑病", "relation": "症状", "tail": "剧烈头痛", "head_type": "疾病", "tail_type": "症状"}]
    status, body = imp(url, "bp.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode())
    assert status == 200, body
    pairs = {frozenset((c["a"]["name"], c["b"]["name"])): c for c in get(url, "/api/graph/candidates")["candidates"]}
    assert frozenset(("高血压", "高血压病")) in pairs and frozenset(("高血压", "高血压脑病")) not in pairs
    keep, other = find(url, "高血压")[0], find(url, "高血压病")[0]
    assert keep["name"] == "高血压" and other["name"] == "高血压病"  # proposed only: still two
    assert http_json(url + "/api/graph/merge", {"keep": keep["id"], "merge": [other["id"]]})[0] == 403
    status, body = http_json(url + "/api/graph/merge", {"keep": keep["id"], "merge": [other["id"]]}, headers=ADMIN)
    assert status == 200, body
    facts, _ = facts_of(url, keep["id"])
    assert facts == [("高血压", "就诊科室", "心血管内科"), ("高血压", "症状", "头晕")]
    assert find(url, "高血压病")[0]["id"] == keep["id"]
    assert http_json(url + f"/api/graph/merges/{body['merge']['id']}", method="DELETE", headers=ADMIN)[0] == 200
    assert facts_of(url, keep["id"])[0] == [("高血压", "就诊科室", "心血管内科")]


def test_build_progress_chat_and_document_delete(server, stub, make_client):
    url = server.url
    client = make_client(url)
    status, body = upload(url, "clinic.txt", CLINIC, token="adm1n")
    assert status == 200, body
    doc = body["document"]
    assert http_json(url + "/api/graph/build", {"documents": [doc["id"]], "model": "triples"})[0] == 403
    status, body = http_json(url + "/api/graph/build", {"documents": [doc["id"]], "model": "triples"}, headers=ADMIN)
    assert status == 200 and body["job"]["status"] == "queued", body
    job = wait_job(url, body["job"]["id"])
    assert job["status"] == "done" and job["done"] == job["total"] == doc["chunks"] and job["facts"] == 3
    seen = client.wait("graph_progress", lambda e: e["job"] == job["job"] and e["status"] == "done")
    assert seen["facts"] == 3
    assert any(e["status"] == "running" for e in client.of("graph_progress") if e["job"] == job["job"])
    prompt = [r for r in stub.requests if r.get("model") == "triples"][-1]["messages"][0]["content"]
    assert "疾病" in prompt and "JSON" in prompt  # the medical types, in Chinese for a Chinese passage

    gall = find(url, "胆囊炎")[0]
    facts, body = facts_of(url, gall["id"])
    assert ("胆囊炎", "就诊科室", "肝胆外科") in facts
    assert body["facts"][0]["sources"] == [{"document": doc["id"], "title": "clinic.txt", "passage": f"{doc['id']}-0"}]

    # The same chat over the socket and over HTTP: facts numbered beside the library's passages.
    rid = client.chat("右上腹痛应该挂什么科？", model="say:肝胆外科 [1]。", graph=True)
    done = client.wait_done(rid)
    kinds = [s["kind"] for s in done["sources"]]
    assert kinds[0] == "fact" and "passage" in kinds \
        and [s["n"] for s in done["sources"]] == list(range(1, len(kinds) + 1))
    first = done["sources"][0]
    assert (first["head"]["name"], first["relation"], first["tail"]["name"]) == ("胆囊炎", "就诊科室", "肝胆外科")
    assert first["sources"][0]["document"] == doc["id"]
    system = stub.requests[-1]["messages"][0]["content"]
    assert "[1] (fact) 胆囊炎 -就诊科室-> 肝胆外科" in system
    status, body = http_json(url + "/api/chat", {"message": "右上腹痛应该挂什么科？", "graph": True, "model": "say:ok"})
    assert status == 200 and body["sources"][0]["kind"] == "fact", body
    # A question that names nothing in the graph: the library alone.
    status, body = http_json(url + "/api/chat",
                             {"message": "饭后油腻食物之后疼痛更明显吗？", "graph": True, "model": "say:ok"})
    assert status == 200 and body["sources"] and {s["kind"] for s in body["sources"]} == {"passage"}
    # graph as the conversation's setting
    assert client.call("settings", {"graph": True})["settings"]["graph"] is True
    rid = client.chat("胆囊炎用什么药？", model="say:ok")
    assert client.wait_done(rid)["sources"][0]["kind"] == "fact"

    # Deleting the document takes the facts only it supported.
    assert http_json(url + f"/api/kb/documents/{doc['id']}", method="DELETE", headers=ADMIN)[0] == 200
    assert find(url, "胆囊炎")[0]["facts"] == 0


def test_cancel_resume_and_restart(server, stub):
    url = server.url
    text = "。".join(f"病{i} 症状 症{i}。这是第{i}段说明文字，" + "内容" * 170 for i in range(8)) + "。"
    status, body = upload(url, "long.txt", text.encode(), token="adm1n")
    assert status == 200 and body["document"]["chunks"] >= 6, body
    doc = body["document"]
    status, body = http_json(url + "/api/graph/build", {"documents": [doc["id"]], "model": "triples-slow"},
                             headers=ADMIN)
    job = body["job"]
    wait_job(url, job["id"], status=("running",))
    deadline = time.monotonic() + 60
    while get(url, f"/api/graph/jobs/{job['id']}")["done"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, body = http_json(url + f"/api/graph/jobs/{job['id']}", method="DELETE", headers=ADMIN)
    assert status == 200
    cancelled = wait_job(url, job["id"])
    assert cancelled["status"] == "cancelled" and 1 <= cancelled["done"] < cancelled["total"] == doc["chunks"]

    # A new build takes only the passages not yet built; the server stops in the middle of it.
    status, body = http_json(url + "/api/graph/build", {"model": "triples-slow"}, headers=ADMIN)
    job = body["job"]
    wait_job(url, job["id"], status=("running",))
    first = get(url, f"/api/graph/jobs/{job['id']}")
    assert first["total"] == doc["chunks"] - cancelled["done"]
    server.stop()
    server.start()
    resumed = wait_job(url, job["id"])
    assert resumed["status"] == "done" and resumed["done"] == resumed["total"] == first["total"]
    names = {e["name"] for e in get(url, "/api/graph/entities?type=&limit=500")["entities"]}
    assert {f"病{i}" for i in range(8)} <= names and "胃炎" in names  # the build's facts and the earlier import


def test_tiny_model_nonsense_is_handled(tmp_path, make_server):
    folder = build_tiny(str(tmp_path / "tiny"), max_positions=4096)  # the extraction prompt is ~700 tokens
    s = make_server("--backend", "local", "--model", folder, "--store", "memory", "--default-max-tokens", "40",
                    async_mode="eventlet", timeout=180)
    status, body = upload(s.url, "clinic.txt", CLINIC)
    assert status == 200, body
    status, body = http_json(s.url + "/api/graph/build", {"extractor": "model"})  # a local model's own JSON
    assert status == 200 and body["job"]["extractor"] == "model", body
    job = wait_job(s.url, body["job"]["id"], timeout=300)
    assert job["status"] == "done" and job["done"] == job["total"] >= 1 and job["facts"] == 0, job


def test_neo4j_engine_behind_the_server(arcadedb, make_server, stub):
    from server.graph.neo4j_engine import Neo4jEngine

    Neo4jEngine(arcadedb.url, "root", arcadedb.PASSWORD).run("MATCH (n) DETACH DELETE n")
    s = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--graph-url", arcadedb.url,
                    env=arcadedb.env, async_mode="eventlet")
    status, body = imp(s.url, "med.csv", MED_CSV, headers={"Authorization": "Bearer x"})
    assert status == 200 and body["import"]["facts"] == 5, body
    stats = get(s.url, "/api/graph/stats")
    assert stats["engine"] == "neo4j" and stats["facts"] == 5
    pain = find(s.url, "胃痛")[0]
    assert ("胃炎", "就诊科室", "消化内科") in facts_of(s.url, pain["id"], hops=2)[0]
    status, body = http_json(s.url + "/api/chat", {"message": "胃痛挂什么科？", "graph": True, "model": "say:ok"})
    assert status == 200 and body["sources"][0]["relation"] == "就诊科室", body
    bad = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--graph-url", arcadedb.url,
                      env={"CHAT_GRAPH_USER": "root", "CHAT_GRAPH_PASSWORD": "wrong"})
    status, body = http_json(bad.url + "/api/graph/stats")
    assert status == 503 and "--graph-url" in body["error"]["message"] and "wrong" not in body["error"]["message"]


def test_embedded_graph_is_refused_with_several_processes(make_server, stub):
    # --redis with no reachable Redis would not start; the refusal is the graph's own sentence at start.
    from server.config import Config
    from server.graph import build_graph

    graph = build_graph(Config(redis_url="redis://127.0.0.1:1/0", store="memory"))
    with pytest.raises(Exception) as e:
        graph.entities()
    assert "--graph-url" in str(e.value)


def test_a_large_import_does_not_stall_a_streaming_chat(stub, make_server, make_client):
    import threading

    s = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--rate-per-minute", "0",
                    async_mode="eventlet")
    rows = "head,relation,tail\n" + "".join(f"病{i},症状,症{i * 7 % 60000}\n" for i in range(60000))
    client = make_client(s.url)
    rid = client.chat("stream while importing", model="slow-1200")  # a minute of tokens, stopped below
    client.wait("token", lambda t: t["request_id"] == rid)
    result, seen, importing = {}, [], threading.Event()

    def watch():  # when the number of tokens received grew, while the import ran
        count = 0
        while importing.is_set():
            now = len(client.of("token", rid))
            if now != count:
                count = now
                seen.append(time.monotonic())
            time.sleep(0.02)

    importing.set()
    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    result["r"] = imp(s.url, "big.csv", rows.encode(), headers={"Authorization": "Bearer x"})
    took = time.monotonic() - started
    importing.clear()
    watcher.join()
    assert result["r"][0] == 200 and result["r"][1]["import"]["facts"] == 60000
    assert took > 0.5 and len(client.of("done", rid)) == 0, "the import must overlap the reply to show anything"
    gaps = [b - a for a, b in zip([started] + seen, seen + [started + took])]
    assert max(gaps) < 1.5, (took, gaps)  # the stub sends a token every 50 ms
    assert client.call("stop", {"request_id": rid})["ok"]
    assert client.wait_done(rid)["finish_reason"] == "cancelled"
