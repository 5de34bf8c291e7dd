"""Fine-tuning against a live server on the tiny model:
jobs run, queue, cancel, resume after a restart; the result is served."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from server.tuning.checkpoint import EVERY
from tests.live import ROOT, Client, LiveServer, http_json
from tests.tinymodel import build

ADMIN = {"Authorization": "Bearer ADM"}
USER_TOKEN = {"Authorization": "Bearer TOK"}


def facts(n: int) -> str:
    return "\n".join(json.dumps({"prompt": f"What is the code of room {i}?",
                                 "completion": f"Room {i} has code {i * 7}."})
                     for i in range(n))


def post_job(server, name: str, rows: str, headers=ADMIN, filename="facts.jsonl", **fields):
    r = requests.post(server.url + "/api/tuning/jobs", files={"file": (filename, rows.encode())},
                      data={"name": name, **{k: str(v) for k, v in fields.items()}}, headers=headers, timeout=60)
    return r.status_code, r.json()


def get_job(server, job_id: str) -> dict:
    status, body = http_json(f"{server.url}/api/tuning/jobs/{job_id}", headers=ADMIN)
    assert status == 200, body
    return body


def until_job(server, job_id: str, pred, timeout: float = 900) -> dict:
    """The job once pred(job) holds (the child process imports torch: tens of seconds on a busy machine)."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(server, job_id)
        if pred(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def long_job(server, name: str) -> str:
    """A job of thousands of steps: it runs until cancelled."""
    status, body = post_job(server, name, facts(200), epochs=100)
    assert status == 200, body
    return body["job"]["id"]


def start(model: str, data_dir: str, mode: str) -> LiveServer:
    return LiveServer("--backend", "local", "--model", model, "--token", "TOK", "--admin-token", "ADM",
                      "--data-dir", data_dir, "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                      async_mode=mode).start(timeout=180)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("tiny-tune") / "tiny"), endless=True)


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    s = start(model, str(tmp_path_factory.mktemp("tune-data")), "threading")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def eventlet_server(model, tmp_path_factory):
    s = start(model, str(tmp_path_factory.mktemp("tune-data-ev")), "eventlet")
    yield s
    s.stop()


QUESTION = "What is the code of room 3?"


def ask(server, model: str | None) -> tuple[dict, str]:
    """(done, text) of one greedy chat in a fresh conversation."""
    chat = Client(server.url, token="TOK")
    rid = chat.chat(QUESTION, backend="local", params={"max_tokens": 8, "temperature": 0},
                    **({"model": model} if model else {}))
    done = chat.wait_done(rid)
    text = chat.text_of(rid)
    chat.close()
    return done, text


def exported(server, name: str, out: str) -> str:
    """The greedy answer to QUESTION of the model that `python -m server.tuning.export` merged into `out`."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    subprocess.run([sys.executable, "-m", "server.tuning.export", name, out, "--data-dir", server.data_dir],
                   cwd=ROOT, check=True, capture_output=True)
    tok, model = AutoTokenizer.from_pretrained(out), AutoModelForCausalLM.from_pretrained(out)
    text = tok.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True, tokenize=False)
    ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    out_ids = model.generate(input_ids=ids, max_new_tokens=8, do_sample=False)
    return tok.decode(out_ids[0, ids.shape[1]:])


def admin_client(server) -> Client:
    c = Client(server.url, token="ADM", connect=False)
    c.sio.on("tuning_progress", c._recorder("tuning_progress"))
    return c.connect()


def test_a_job_trains_and_its_model_is_served_exported_then_deleted(server, tmp_path):
    watcher = admin_client(server)
    status, body = post_job(server, "rooms-v1", facts(12), epochs=10, learning_rate=0.01)
    assert status == 200 and body["job"]["status"] == "queued" and body["job"]["name"] == "rooms-v1"
    assert body["job"]["preview"][0] == {"question": "What is the code of room 0?", "answer": "Room 0 has code 0.",
                                         "turns": 2}
    job = until_job(server, body["job"]["id"], lambda j: j["status"] not in ("queued", "running"))
    assert job["status"] == "done", job
    assert job["base"] == "tiny" and job["examples"] == {"train": 12, "eval": 0}
    assert job["steps"] == 20 and job["step"] == 20 and [s for s, _ in job["loss"]] == list(range(1, 21))
    assert job["loss"][-1][1] < job["loss"][0][1] / 2  # it learned the answers
    progress = watcher.wait("tuning_progress", lambda j: j["status"] == "done")
    assert progress["loss"] == job["loss"] and progress["samples"] == job["samples"]
    # No held-out split (12 examples): the first 8 taught questions, answered before and after training.
    samples = job["samples"]
    assert [s["question"] for s in samples] == [f"What is the code of room {i}?" for i in range(8)]
    assert [s["expected"] for s in samples] == [f"Room {i} has code {i * 7}." for i in range(8)]
    assert all(s["held_out"] is False and s["before"] and s["after"] for s in samples), samples
    assert [s["before"] for s in samples] != [s["after"] for s in samples]  # the adapter was on for the after ones

    _, backends = http_json(server.url + "/api/backends", headers=USER_TOKEN)
    local = backends["backends"][0]
    assert "rooms-v1" in local["models"] and {"model": "rooms-v1", "tuned_from": "tiny"} in local["tuned"]
    _, models = http_json(server.url + "/v1/models", headers=USER_TOKEN)
    assert {"local/rooms-v1", "rooms-v1"} <= {m["id"] for m in models["data"]}

    tuned_done, tuned = ask(server, "rooms-v1")
    assert tuned_done["finish_reason"] == "length" and tuned
    assert ask(server, None)[1] != tuned  # the adapter changes the answer
    assert ask(server, "rooms-v1")[1] == tuned  # and is on again for its model, off for the base in between
    status, v1 = http_json(server.url + "/v1/chat/completions", {"model": "rooms-v1", "max_tokens": 8, "temperature": 0,
                           "messages": [{"role": "user", "content": QUESTION}]}, headers=USER_TOKEN)
    assert status == 200 and v1["choices"][0]["message"]["content"] == tuned

    merged = exported(server, "rooms-v1", str(tmp_path / "merged"))
    assert merged == tuned  # the merged folder answers as the adapter on the base did

    status, _ = post_job(server, "rooms-v1", facts(3))
    assert status == 409  # the name is taken while the model exists
    status, body = http_json(f"{server.url}/api/tuning/jobs/{job['id']}", headers=ADMIN, method="DELETE")
    assert status == 200 and body == {"ok": True}
    _, backends = http_json(server.url + "/api/backends", headers=USER_TOKEN)
    assert "rooms-v1" not in backends["backends"][0]["models"]
    assert not os.path.exists(os.path.join(server.data_dir, "tuning", "adapters", "rooms-v1"))
    assert http_json(f"{server.url}/api/tuning/jobs/{job['id']}", headers=ADMIN)[0] == 404
    watcher.wait("tuning_progress", lambda j: j == {"id": job["id"], "status": "deleted"})
    watcher.close()


def test_admin_only_reads_too(server):
    for headers, code in (({}, 401), (USER_TOKEN, 403), ({"X-Admin-Token": "wrong", **USER_TOKEN}, 403)):
        status, body = post_job(server, "nope", facts(2), headers=headers)
        assert status == code and body["ok"] is False, body
        assert http_json(server.url + "/api/tuning/jobs", headers=headers)[0] == code
        assert http_json(server.url + "/api/tuning/jobs/x", headers=headers, method="DELETE")[0] == code
    status, body = http_json(server.url + "/api/tuning/jobs", headers={"X-Admin-Token": "ADM", **USER_TOKEN})
    assert status == 200 and body["ok"] is True
    assert "nope" not in [j["name"] for j in body["jobs"]]


def test_bad_lines_are_refused_with_their_numbers_and_nothing_is_queued(server):
    rows = facts(3) + '\n{"prompt": "no answer"}\nnot json\n'
    status, body = post_job(server, "broken", rows)
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert [b["line"] for b in body["error"]["lines"]] == [4, 5] and "line 4" in body["error"]["message"]
    for name, fields, words in (("bad name!", {}, "'name'"), ("ok", {"lora_r": 0}, "'lora_r'"),
                                ("ok", {"base": "other"}, "'base'"),
                                ("ok", {"learning_rate": "fast"}, "'learning_rate'")):
        status, body = post_job(server, name, facts(3), **fields)
        assert status == 400 and words in body["error"]["message"], body
    status, body = post_job(server, "csv", "question,answer\nfine,yes\nonly one column\n", filename="faq.csv")
    assert status == 400 and body["error"]["lines"][0]["line"] == 3
    _, jobs = http_json(server.url + "/api/tuning/jobs", headers=ADMIN)
    assert not [j for j in jobs["jobs"] if j["name"] in ("broken", "csv", "ok")]


def chat_while_training(server, job: str) -> None:
    """A 60-token reply streams, in pieces, while the job trains."""
    until_job(server, job, lambda j: j["status"] == "running" and j["step"] >= 2)
    chat = Client(server.url, token="TOK")
    rid = chat.chat("Tell me about the river.", backend="local", params={"max_tokens": 60})
    done = chat.wait_done(rid, timeout=120)
    assert done["finish_reason"] == "length" and done["usage"]["completion_tokens"] == 60
    assert len(chat.of("token", rid)) >= 2  # streamed, not one lump at the end
    assert get_job(server, job)["status"] == "running"  # the reply streamed while the job trained
    chat.close()


def test_two_jobs_queue_and_cancel_and_chats_stream_while_one_trains(server):
    first = long_job(server, "long-one")
    status, body = post_job(server, "after-it", facts(4), epochs=1, eval_fraction=0.5)
    second = body["job"]["id"]
    # The threading server's chat beside a training job, on the long job this test cancels anyway (a job of its
    # own cost a training child's start: 71 s of the suite's 1,736 on the loaded 2 cores).
    chat_while_training(server, first)
    assert get_job(server, second)["status"] == "queued"  # one job at a time
    status, body = http_json(f"{server.url}/api/tuning/jobs/{first}", headers=ADMIN, method="DELETE")
    assert status == 200 and body["job"]["status"] == "cancelled"
    cancelled = get_job(server, first)
    assert cancelled["status"] == "cancelled" and cancelled["step"] < cancelled["steps"]
    done = until_job(server, second, lambda j: j["status"] not in ("queued", "running"))
    assert done["status"] == "done" and done["examples"] == {"train": 2, "eval": 2}
    # The two held-out questions, each answered by the base model and by the tuned one.
    questions = {f"What is the code of room {i}?" for i in range(4)}
    assert len(done["samples"]) == 2 and {s["question"] for s in done["samples"]} <= questions
    assert all(s["held_out"] is True and s["before"] and s["after"] for s in done["samples"]), done["samples"]
    assert get_job(server, first)["step"] == cancelled["step"]  # its child is gone: no step after the cancel
    _, backends = http_json(server.url + "/api/backends", headers=USER_TOKEN)
    assert "long-one" not in backends["backends"][0]["models"] and "after-it" in backends["backends"][0]["models"]


def test_chats_keep_streaming_while_a_job_trains_under_eventlet(eventlet_server):
    job = long_job(eventlet_server, "busy-eventlet")
    chat_while_training(eventlet_server, job)
    http_json(f"{eventlet_server.url}/api/tuning/jobs/{job}", headers=ADMIN, method="DELETE")


def test_a_job_resumes_after_a_restart_from_its_last_checkpoint(server):
    # 80 steps: the kill comes 75 before the end
    status, body = post_job(server, "interrupted", facts(40), epochs=16)
    assert status == 200, body
    job = body["job"]["id"]
    until_job(server, job, lambda j: j["status"] == "running" and j["step"] >= EVERY)  # a checkpoint is saved
    # The module's server restarted on its own folder (one server start fewer than a fresh pair: each loads the
    # model and imports torch); the training child ends with it.
    server.stop()
    server.start(timeout=180)
    done = until_job(server, job, lambda j: j["status"] not in ("queued", "running"))
    assert done["status"] == "done", done
    folder = os.path.join(server.data_dir, "tuning", "jobs", job)
    with open(os.path.join(folder, "progress.jsonl"), encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    resumed = next(e["from_step"] for e in events if "from_step" in e)
    after = [e["step"] for e in events if "step" in e]
    assert resumed >= EVERY and resumed % EVERY == 0 and after[0] == resumed + 1, (resumed, after[:3])
    assert [s for s, _ in done["loss"]] == list(range(1, done["steps"] + 1))  # the curve kept, each step once
    assert not os.path.exists(os.path.join(folder, "checkpoint.pt"))  # a done job needs none
    tuned_done, tuned = ask(server, "interrupted")
    # it learned to end a reply
    assert tuned_done["finish_reason"] in ("stop", "length") and tuned.strip(), tuned_done
