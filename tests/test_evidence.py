"""Evidence sentences and the honest fallback (#25): what the model is shown, and the note on a reply it can't back."""
from __future__ import annotations

import os
import time

import pytest

from server.backends.local import prompt
from server.knowledge.grounding import evidence_style
from server.knowledge.service import EVIDENCE_HEAD, INGEST_BATCH, KnowledgeBase
from server.knowledge.store import Store
from tests.kb_files import upload
from tests.live import ROOT, LiveServer, http_json
from tests.local_backends import running
from tests.tinymodel import build

DOCS = os.path.join(ROOT, "bench", "data", "evidence", "docs")
LIBRARY = ("maple-gym.md", "pet-hotel.md", "print-shop.md", "river-ferry.md", "clinic.md", "course-ml.md", "museum.md")
# (question, a phrase of the document that answers it): English, Chinese, and Chinese about an English document.
QUESTIONS = [
    ("What time does Maple Street Gym close on weekdays?", "closes at 22:30"),
    ("Who is the manager of the print shop?", "Priya Raman"),
    ("How much does a cat cost per night at Sunny Paws?", "a cat 18 dollars"),
    ("Which days does the vet visit the pet hotel?", "every Monday and Friday"),
    ("消化内科在哪里？", "消化内科在门诊楼三楼"),
    ("《机器学习导论》的期中考试在第几周？", "期中考试安排在第九周"),
    ("博物馆的讲解员叫什么名字？", "讲解员是周婷"),
    ("宠物酒店的猫每晚多少钱？", "a cat 18 dollars"),
]


def read(name: str) -> bytes:
    with open(os.path.join(DOCS, name), "rb") as f:
        return f.read()


def fill(url: str, names=LIBRARY) -> None:
    for name in names:
        status, body = upload(url, name, read(name))
        assert status == 200, body


@pytest.fixture(scope="module")
def sentences_server(stub, tmp_path_factory):
    """A server on the stub upstream told to show the model evidence sentences (a chat-template model keeps
    whole passages unless told so)."""
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--kb-evidence", "sentences",
                        "--data-dir", str(tmp_path_factory.mktemp("evidence")), "--rate-per-minute", "0",
                        "--rate-per-minute-ip", "0").start()
    fill(server.url)
    yield server
    server.stop()


def ask(url: str, question: str, reply: str) -> dict:
    status, body = http_json(url + "/api/chat", {"message": question, "knowledge": True, "model": f"say:{reply}"})
    assert status == 200 and body["ok"], body
    return body


def done_of(client, question: str, reply: str) -> dict:
    return client.wait_done(client.chat(question, model=f"say:{reply}", knowledge=True))


@pytest.mark.parametrize("question, answer", QUESTIONS)
def test_the_sentences_handed_to_the_model_hold_the_answer(sentences_server, stub, question, answer):
    body = ask(sentences_server.url, question, "OK [1].")
    system = stub.requests[-1]["messages"][0]["content"]
    evidence = system.split(EVIDENCE_HEAD + "\n", 1)[1].splitlines()
    assert 1 <= len(evidence) <= 3 and all(line.startswith("[") for line in evidence)
    assert any(answer in line for line in evidence), system
    # Sentences, not passages: the model reads less than the passages found.
    assert len("\n".join(evidence)) < sum(len(s["text"]) for s in body["sources"])
    n = int(next(line for line in evidence if answer in line)[1])
    cited = next(s for s in body["sources"] if s["n"] == n)
    assert any(answer in s for s in cited["sentences"]) and all(s in cited["text"] for s in cited["sentences"])


def test_a_number_absent_from_the_evidence_is_flagged_with_the_quote(sentences_server, make_client):
    client = make_client(sentences_server.url)
    done = done_of(client, "消化内科在哪里？", "消化内科在门诊楼四楼 [1]。")
    g = done["grounding"]
    assert g["supported"] is False and g["quote"]["title"] == "clinic.md" and "三楼" in g["quote"]["sentence"]
    assert g["quote"]["n"] in [s["n"] for s in done["sources"]]
    done = done_of(client, "消化内科在哪里？", "消化内科在门诊楼三楼 [1]。")
    assert done["grounding"] == {"supported": True}
    # 3楼 is 三楼: the same number written otherwise is not flagged.
    assert done_of(client, "消化内科在哪里？", "在3楼 [1]。")["grounding"]["supported"] is True

    done = done_of(client, "What time does Maple Street Gym close on weekdays?", "It closes at 23:00 [1].")
    assert done["grounding"]["supported"] is False and done["grounding"]["quote"]["title"] == "maple-gym.md"
    assert "22:30" in done["grounding"]["quote"]["sentence"]
    ok = done_of(client, "What time does Maple Street Gym close on weekdays?", "It closes at 22:30 [1].")
    assert ok["grounding"] == {"supported": True}
    # A name the evidence does not hold is flagged like a number (POST /api/chat carries the check too).
    wrong = ask(sentences_server.url, "Who is the manager of the print shop?", "The manager is John Smith [1].")
    assert wrong["grounding"]["supported"] is False and "Priya Raman" in wrong["grounding"]["quote"]["sentence"]
    assert ask(sentences_server.url, "Who is the manager of the print shop?",
               "Priya Raman [1].")["grounding"]["supported"]


def test_a_chat_template_model_keeps_whole_passages_and_the_check_which_outlives_a_restart(stub, make_server,
                                                                                          make_client, tmp_path):
    args = ("--backend", "openai", "--base-url", stub.url, "--data-dir", str(tmp_path))
    server = make_server(*args, async_mode="eventlet")
    fill(server.url, ["clinic.md"])
    client = make_client(server.url)
    done = done_of(client, "专家门诊的挂号费是多少？", "专家门诊挂号费为80元 [1]。")
    system = stub.requests[-1]["messages"][0]["content"]
    assert EVIDENCE_HEAD not in system and done["sources"][0]["text"] in system  # the passage, whole
    assert done["grounding"]["supported"] is False and "50元" in done["grounding"]["quote"]["sentence"]
    assert any("50元" in s for s in done["sources"][0]["sentences"])  # the sentence to highlight
    ok = done_of(client, "专家门诊的挂号费是多少？", "50元 [1]。")
    assert ok["grounding"] == {"supported": True}
    plain = client.wait_done(client.chat("Thanks!", model="say:You are welcome."))

    # The history keeps each reply's sources and check as its `done` carried them (#25): a reload shows them again,
    kept = [(done["text"], done["sources"], done["grounding"]), (ok["text"], ok["sources"], ok["grounding"])]
    def shown(history):
        return [(m["content"], m["sources"], m["grounding"]) for m in history if "sources" in m]

    assert shown(client.call("history")["history"]) == kept
    assert client.call("history")["history"][-1] == {"role": "assistant", "content": plain["text"]}
    # and so does another device, and the server started again on the same data folder (SQLite).
    ids = {"client_id": client.of("ready")[0]["client_id"], "session_id": client.session_id}
    assert shown(make_client(server.url, **ids).of("ready")[0]["history"]) == kept
    server.stop()
    again = make_server(*args, async_mode="eventlet")
    assert shown(make_client(again.url, **ids).of("ready")[0]["history"]) == kept
    other = make_client(again.url, client_id=ids["client_id"])
    assert shown(other.call("open", {"session_id": ids["session_id"]})["history"]) == kept
    assert shown(other.call("truncate", {"keep": 2})["history"]) == kept[:1]
    # The model is never sent them: a later turn's prompt has the earlier replies' text alone.
    other.wait_done(other.chat("Again?", model="say:Yes."))
    assert stub.requests[-1]["messages"][1] == {"role": "assistant", "content": done["text"]}


@pytest.mark.parametrize("question, title", [
    ("健身房的年卡多少钱？", "maple-gym.md"),
    ("宠物酒店的兽医是谁？", "pet-hotel.md"),
    ("打印店的彩色打印每页多少钱？", "print-shop.md"),
    ("健身房周末几点开门？", "maple-gym.md"),
])
def test_a_chinese_question_finds_an_english_document(sentences_server, question, title):
    status, body = http_json(sentences_server.url + "/api/kb/search", {"query": question, "k": 3})
    assert status == 200 and title in [r["title"] for r in body["results"]], (question, body["results"])


def test_a_chinese_question_with_no_answer_still_finds_nothing(sentences_server):
    for question in ("游泳池的门票多少钱？", "明天会下雨吗？", "钨的沸点是多少？"):
        status, body = http_json(sentences_server.url + "/api/kb/search", {"query": question, "k": 3})
        assert status == 200 and body["results"] == [], question


# --- the local backend's prompt --------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-evidence")
    base = build(str(root / "base"), endless=True, base=True, max_positions=4096)
    chat = build(str(root / "chat"), endless=True)
    gen_base, gen_chat = running(base, "ev-base", batch_size=1), running(chat, "ev-chat", batch_size=1)
    yield next(gen_base), next(gen_chat)
    for gen in (gen_base, gen_chat):
        next(gen, None)


@pytest.fixture(scope="module")
def library():
    """The library in this process, ranked by keywords alone (the embedder is tested through the server above)."""
    kb = KnowledgeBase(Store(None), lambda: None, 10**8, 10**4, 4)
    for name in LIBRARY:
        kb.add(name, read(name))
    yield kb
    kb.close()


@pytest.mark.parametrize("question, answer", [q for q in QUESTIONS if q[0] != "宠物酒店的猫每晚多少钱？"])
def test_a_base_model_reads_evidence_sentences_after_two_worked_examples(tiny, library, question, answer):
    base, chat = tiny
    assert evidence_style("auto", base) == "sentences" and evidence_style("auto", chat) == "passages"
    system, sources = library.ground(question, evidence_style("auto", base))
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
    text, _ = base.scheduler.prompter.encode(messages)
    evidence = text.split(f"{prompt.USER} {question}")[0].rsplit(EVIDENCE_HEAD, 1)[1]
    assert answer in evidence and len(evidence) < sum(len(s["text"]) for s in sources)
    for example, q, a in prompt.EVIDENCE_EXAMPLES:  # one English, one Chinese, before the real evidence
        assert text.index(f"{example}\n{prompt.USER} {q}\n{prompt.ASSISTANT} {a}") < text.index(system)
    assert text.endswith(f"{prompt.USER} {question}\n{prompt.ASSISTANT}")
    # A model with a chat template keeps the whole passages (unless --kb-evidence sentences).
    system, sources = library.ground(question, evidence_style("auto", chat))
    assert sources[0]["text"] in system and EVIDENCE_HEAD not in system


def test_an_ungrounded_transcript_has_no_evidence_examples(tiny):
    base, _ = tiny
    text, _ = base.scheduler.prompter.encode([{"role": "system", "content": "Be brief."},
                                              {"role": "user", "content": "Hi"}])
    assert all(q not in text for _, q, _ in prompt.EVIDENCE_EXAMPLES)


def test_an_upload_shows_how_far_its_embedding_has_got(sentences_server):
    import threading

    get = http_json
    text = "\n".join(f"Room {i} of the archive holds {i * 7} boxes of letters written between {1800 + i} "
                     f"and {1850 + i}. Its keeper checks the humidity every {i % 5 + 2} days "
                     "and writes it in a blue notebook."
                     for i in range(40)).encode()
    answer = {}
    upload_thread = threading.Thread(
        target=lambda: answer.update(body=upload(sentences_server.url, "archive.txt", text)))
    upload_thread.start()
    seen = []
    while upload_thread.is_alive():
        status, body = get(sentences_server.url + "/api/kb/progress")
        assert status == 200 and body["ok"]
        if body["progress"]:
            seen.append(body["progress"])
        time.sleep(0.05)  # as a page polls, not a tight loop taking a core from the embedding it watches
    upload_thread.join()
    status, body = answer["body"]
    assert status == 200 and body["document"]["chunks"] > INGEST_BATCH, body  # more than one step
    steps = [p for p in seen if p["phase"] == "embedding"]
    assert steps and all(p["file"] == "archive.txt" and p["total"] == body["document"]["chunks"] for p in steps)
    assert any(0 < p["done"] < p["total"] for p in steps)  # seen part-way, not only at the start or the end
    assert get(sentences_server.url + "/api/kb/progress")[1]["progress"] is None
