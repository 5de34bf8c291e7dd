"""The local model under constrained decoding (#32): whatever a random model picks, its answer parses as the
extraction JSON, its names are spans of the passage and its relations come from the list; a build with extractor
"constrained" on a live server ends done with facts in the passage's words."""
from __future__ import annotations

import json

import pytest

from server.backends.local.number_guard import guard_processor
from server.backends.local.span_guard import MAX_FACTS, MAX_NAME, SpanGuard, walk
from server.graph import constrained, extract
from tests.kb_files import upload
from tests.live import LiveServer, http_json
from tests.graph_api import get, wait_job
from tests.test_graph_offline import ADMIN
from tests.tinymodel import build as build_tiny

PASSAGES = [
    ("Hypertension often has no symptoms, but some patients have headaches and dizziness. Patients are seen in the "
     "cardiology department."),
    'Gout is treated with "allopurinol".\nAvoid beer and red meat; drink water.',
    "A cold: rest, tea and warm soup. See the general clinic if the fever lasts.",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny(str(tmp_path_factory.mktemp("tiny")), max_positions=2048)  # the extraction prompt is long


@pytest.fixture(scope="module")
def loaded(tiny):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny), AutoModelForCausalLM.from_pretrained(tiny).eval()


def answer(loaded, passage: str, seed: int) -> str:
    """A random model's answer held by the guard, sampled (so each seed takes a different path)."""
    import torch
    from transformers import LogitsProcessorList

    tokenizer, model = loaded
    spans = constrained.spans(passage)
    guard = SpanGuard(spans["passage"], spans["relations"], tokenizer, [tokenizer.eos_token_id])
    ids = tokenizer(passage + "\n", return_tensors="pt").input_ids
    torch.manual_seed(seed)
    with torch.inference_mode():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=1024, do_sample=True,
                             temperature=1.5,
                             logits_processor=LogitsProcessorList([guard_processor(guard, ids.shape[1])]),
                             pad_token_id=tokenizer.eos_token_id)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)


def test_a_random_model_writes_only_valid_json_of_spans_and_listed_relations(loaded):
    facts = 0
    for passage in PASSAGES:
        for seed in range(2):
            text = answer(loaded, passage, seed)
            data = json.loads(text)  # whole answer, nothing around it
            assert list(data) == ["relations"] and len(data["relations"]) <= MAX_FACTS, text
            for r in data["relations"]:
                assert r["head"] in passage and r["tail"] in passage, (r, passage)
                assert 0 < len(r["head"]) <= MAX_NAME and 0 < len(r["tail"]) <= MAX_NAME, r
                assert r["relation"] in extract.RELATIONS["en"], r
            facts += len(data["relations"])
            assert extract.parse(text)[1] == [{k: extract.clean(v) for k, v in r.items()} for r in data["relations"]]
    assert facts > 0  # the shape is not just ever {"relations":[]}


def test_a_passage_the_vocabulary_cannot_spell_gets_no_facts_rather_than_broken_json(loaded):
    assert json.loads(answer(loaded, "痛风的常用药品为别嘌醇。", 0)) == {"relations": []}  # the tiny BPE is ASCII


def test_a_partial_answer_is_walked_to_what_may_follow():
    rel = ["symptom", "drug"]
    assert walk('{"rel', rel) == ("lit", ['ations":['])
    assert walk('{"relations":[', rel) == ("lit", ['{"head":"', "]}"])
    assert walk('{"relations":[{"head":"Gou', rel) == ("name", "Gou", '","relation":"')
    assert walk('{"relations":[{"head":"Gout","relation":"dr', rel) == ("relation", "dr")
    assert walk('{"relations":[{"head":"Gout","relation":"drug","tail":"beer"}', rel) == ("lit", [',{"head":"', "]}"])
    assert walk('{"relations":[]}', rel) == ("end",)


@pytest.fixture(scope="module")
def server(tiny, tmp_path_factory):
    s = LiveServer("--backend", "local", "--model", tiny, "--data-dir", str(tmp_path_factory.mktemp("data")),
                   "--admin-token", "adm1n", "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                   "--embed-model", "none", async_mode="eventlet").start(timeout=180)
    yield s
    s.stop()


def test_a_constrained_build_ends_done_with_facts_in_the_passages_words(server):
    text = "\n\n".join(PASSAGES)
    status, body = upload(server.url, "handbook.txt", text.encode(), token="adm1n")
    assert status == 200, body
    doc = body["document"]["id"]
    status, body = http_json(server.url + "/api/graph/build", {"documents": [doc], "extractor": "constrained"},
                             headers=ADMIN)
    assert status == 200 and body["job"]["extractor"] == "constrained", body
    job = wait_job(server.url, body["job"]["id"])
    assert job["status"] == "done" and job["done"] == job["total"] > 0 and not job.get("error"), job
    found = get(server.url, "/api/graph/proposals?limit=1000", headers=ADMIN)["proposals"]
    for e in get(server.url, "/api/graph/entities?limit=500")["entities"]:
        found += [{"head": f["head"]["name"], "tail": f["tail"]["name"], "extractor": f.get("extractor", "")}
                  for f in get(server.url, f"/api/graph/entities/{e['id']}")["facts"]]
    # A random greedy model may write only a name and itself (never a fact): the unit test above shows facts come.
    assert all(f["head"].casefold() in text.casefold() and f["tail"].casefold() in text.casefold()
                         for f in found), found
    assert all(f["extractor"].startswith("constrained") for f in found), found


def test_constrained_with_the_patterns_and_a_wrong_name_are_told_apart(server):
    status, body = upload(server.url, "second.txt", PASSAGES[0].encode(), token="adm1n")  # its own: runs alone too
    assert status == 200, body
    status, body = http_json(server.url + "/api/graph/build",
                             {"documents": [body["document"]["id"]], "extractor": "rules+constrained"}, headers=ADMIN)
    assert status == 200 and body["job"]["extractor"] == "rules+constrained", body
    assert wait_job(server.url, body["job"]["id"])["status"] == "done"
    status, body = http_json(server.url + "/api/graph/build", {"extractor": "spans"}, headers=ADMIN)
    assert status == 400 and body["error"]["code"] == "bad_request" and "constrained" in body["error"]["message"], body


def test_constrained_facts_go_to_review_since_their_spans_were_forced():
    from server.graph.proposals import STORE_FROM

    passage = PASSAGES[0]
    rels = [{"head": "Hypertension", "relation": "symptom", "tail": "headaches"},
            {"head": "Patients", "relation": "symptom", "tail": "Patients"}]
    assert [f["confidence"] >= STORE_FROM for f in extract.score([], rels, passage)] == [True]  # an instruction model's
    found = extract.score([], rels, passage, extractor="constrained")
    assert len(found) == 1 and found[0]["confidence"] < STORE_FROM and found[0]["extractor"] == "constrained"
