"""The numbers a grounded reply may write (#25): the ones the evidence backs for the question, held token by token."""
from __future__ import annotations

import re
import threading

import pytest

from server.backends.base import ANSWER_NUMBERS
from server.backends.local.number_guard import NumberGuard
from server.knowledge.grounding import answer_numbers
from tests.local_backends import running
from tests.tinymodel import build


# (question, the evidence sentences shown, best first: those the library picked on bench/data/evidence, numbers
# the reply may write, numbers it may not)
BACKED = [
    ("专家门诊的挂号费是多少？", ["普通门诊挂号费为10元，专家门诊挂号费为50元。"], {"50"}, {"10"}),
    ("期末项目占总成绩的百分之多少？",
     ["平时作业占30%，期中考试占20%，期末项目占50%。", "期中考试安排在第九周，期末项目在第十五周提交。"],
     {"50"}, {"15", "20", "30"}),  # a percentage, not 第十五周 of the same 期末项目
    ("社区菜园每块菜地的年费是多少？", ["社区菜园位于小区南门旁边，共有40块菜地，每块菜地面积为6平方米。",
                                 "每户最多认领一块菜地，年费为200元。"], {"200"}, {"6", "40"}),  # a fee, not an area
    ("《机器学习导论》的期中考试在第几周？",
     ["期中考试安排在第九周，期末项目在第十五周提交。", "本课程共十六周，每周三下午14:00在理科楼302教室上课。"],
     {"9"}, {"15", "16", "14:00"}),
    # 晚上8点 is 20:00
    ("菜园晚上几点关门？", ["菜园每天早上6:00开门，晚上20:00关门。"], {"20:00", "20", "8"}, {"6:00"}),
    ("How much is the first prize of the hackathon?",
     ["The first prize is 2,000 euros, the second prize is 800 euros."], {"2,000", "2000"}, {"800"}),
    # Two rates in one sentence: the question's unit (per day, 一天) picks the part, in either language.
    ("How much does a kayak cost per day?", ["A kayak costs 12 dollars per hour or 45 dollars per day."],
     {"45"}, {"12"}),
    ("皮划艇租一天多少钱？", ["A kayak costs 12 dollars per hour or 45 dollars per day."], {"45"}, {"12"}),
    ("划艇每小时多少钱？", ["A rowing boat costs 15 dollars per hour or 60 dollars per day."], {"15"}, {"60"}),
]


@pytest.mark.parametrize("question, sentences, backed, not_backed", BACKED)
def test_the_numbers_a_reply_may_write_are_those_that_answer(question, sentences, backed, not_backed):
    shown = "Evidence:\n" + "\n".join(f"[{n}] (doc.md) {s}" for n, s in enumerate(sentences, 1))
    allowed = set(answer_numbers(question, shown))
    assert backed <= allowed and not (not_backed & allowed), allowed


@pytest.fixture(scope="module")
def base_model(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("guard") / "base"), endless=True, base=True, max_positions=4096)


def test_the_guard_masks_a_number_the_evidence_lacks(base_model):
    import torch
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base_model)
    ids = lambda text: tok(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    one, four, two, zero = (ids(d)[0] for d in "1420")
    guard = NumberGuard(frozenset({"42"}), tok, made=ids("It costs "))
    scores = torch.zeros(len(tok))
    scores[one] = 5.0  # the model's favourite is a number the evidence does not hold
    guard.apply(scores)
    assert scores[one] == float("-inf") and scores[four] == 0.0 and int(scores.argmax()) != one
    guard.tokens = ids("It costs 4")  # half a number: only its allowed continuation may follow
    scores = torch.zeros(len(tok))
    guard.apply(scores)
    assert int(scores.argmax()) == two and (scores == 0).sum() >= 1 and scores[ids(" dollars")[0]] == float("-inf")
    guard.tokens = ids("It costs 42")  # whole: words may follow, a longer number may not
    scores = torch.zeros(len(tok))
    guard.apply(scores)
    assert scores[zero] == float("-inf") and scores[ids(" dollars")[0]] == 0.0
    guard.tokens = ids("It costs 42 [")  # a citation is free
    scores = torch.zeros(len(tok))
    guard.apply(scores)
    assert scores[one] == 0.0
    guard.tokens = ids("It costs 42 [1")  # the citation's digits go on
    scores = torch.zeros(len(tok))
    guard.apply(scores)
    assert scores[two] == 0.0 and scores[ids("]")[0]] == 0.0
    for cited in ("[1,", "[1.", "[1:"):  # but "[1,1" states a 1 the evidence lacks (a reply in CI wrote one)
        guard.tokens = ids("It costs 42 " + cited)
        scores = torch.zeros(len(tok))
        guard.apply(scores)
        assert scores[one] == float("-inf") and scores[four] == 0.0, cited


GROUNDED = [{"role": "system", "content": "Evidence:\n[1] (fees.md) The fee is 42 dollars."},
            {"role": "user", "content": "How much is the fee?"}]
SAMPLED = {"max_tokens": 160, "do_sample": True, "temperature": 1.5}


def numbers_of(text: str) -> list[str]:
    """The numbers a reply states: a citation's whole run ([41], which the guard leaves free) is none of them."""
    return [m.group() for m in re.finditer(r"(?<![\[0-9])[0-9]+", text)]


@pytest.mark.parametrize("batch_size", [1, 2])  # generate() alone, and rows of the continuous batch
def test_a_base_model_writes_only_the_numbers_it_may(base_model, batch_size):
    backend = running(base_model, f"guard-{batch_size}", batch_size=batch_size)
    b = next(backend)
    try:
        free = "".join(c.text or "" for c in b.stream(GROUNDED, params={**SAMPLED, "seed": 1}))
        assert set(numbers_of(free)) - {"42"}, free  # unguarded, the random model writes other numbers
        replies = []

        def ask(seed):
            params = {**SAMPLED, "seed": seed, ANSWER_NUMBERS: ["42"]}
            replies.append("".join(c.text or "" for c in b.stream(GROUNDED, params=params)))

        threads = [threading.Thread(target=ask, args=(seed,)) for seed in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(replies) == 2 and all(len(r) > 200 for r in replies)
        for reply in replies:
            assert set(numbers_of(reply)) <= {"42"}, reply
    finally:
        next(backend, None)


class CharTokenizer:
    """A tokenizer of single characters and a few words, as many as a Chinese test needs (Gemma's loads in 30 s)."""

    def __init__(self, vocab: list[str]):
        self.vocab = vocab

    def __len__(self):
        return len(self.vocab)

    def convert_ids_to_tokens(self, ids):
        return [self.vocab[i] for i in ids]

    def decode(self, ids, skip_special_tokens=True):
        return "".join(self.vocab[i] for i in ids)

    def ids(self, text: str) -> list[int]:
        return [self.vocab.index(c) for c in text]


def test_after_di_a_chinese_numeral_must_be_one_the_evidence_holds():
    import torch

    tok = CharTokenizer(list("期中考试在第周。九十五一二起") + ["十五", "一起"])
    guard = NumberGuard(frozenset({"9", "15"}), tok, made=tok.ids("期中考试在第"))
    scores = torch.zeros(len(tok))
    guard.apply(scores)
    allowed = {tok.vocab[i] for i in range(len(tok)) if scores[i] == 0}
    assert {"九", "十", "十五", "周"} <= allowed and not {"二", "一", "一起"} & allowed
    guard.tokens = tok.ids("期中考试在第十")  # 十 may only become 十五 here
    scores = torch.zeros(len(tok))
    guard.apply(scores)
    assert {tok.vocab[i] for i in range(len(tok)) if scores[i] == 0} == {"五"}
    guard.tokens = tok.ids("一起在")  # elsewhere 一 is a word, not a number
    scores = torch.zeros(len(tok))
    guard.apply(scores)
    assert (scores == 0).all()


def test_a_library_answer_of_a_local_base_model_is_held_to_its_evidence(base_model, make_server):
    """End to end: the chat service hands the backed numbers to the local backend with a grounded chat."""
    from tests.kb_files import upload
    from tests.live import http_json

    s = make_server("--backend", "local", "--model", base_model, "--store", "memory", "--rate-per-minute", "0",
                    "--rate-per-minute-ip", "0", async_mode="eventlet")
    status, body = upload(s.url, "fees.md", "# Fees\n\nThe yearly fee is 42 dollars.\n".encode())
    assert status == 200, body
    question, params = "How much is the yearly fee?", {**SAMPLED, "max_tokens": 200}

    def replies(count: int, **fields):
        for _ in range(count):
            status, body = http_json(s.url + "/api/chat", {"message": question, "params": params, **fields})
            assert status == 200, body
            yield body

    for body in replies(3, knowledge=True):
        said = numbers_of(body["text"])
        if said and body["finish_reason"] == "length" and body["text"].endswith(said[-1]) and "42".startswith(said[-1]):
            said.pop()  # max_tokens cut the reply inside 42: its last token was a "4" (CI, 1 run of the suite)
        assert body["sources"] and set(said) <= {"42"} and len(body["text"]) > 200, body
    # The same evidence as a plain system prompt is not held: the model writes numbers of its own. Sampled, a
    # reply of the random model has other numbers about one time in two: up to 10 tries (3 failed 1 run in 8).
    free = replies(10, system="Evidence:\n[1] (fees.md) The yearly fee is 42 dollars.")
    assert any(set(numbers_of(body["text"])) - {"42"} for body in free), "10 free replies wrote only 42"


RIVALS = "Evidence:\n[1] (dental.md) 普通号挂号费为15元，主任医师号挂号费为60元。"


def test_a_doubtful_clause_choice_does_not_narrow_the_guard():
    """Two fees, and a question that names neither: the guard lets the model write either, never forces one."""
    tok = CharTokenizer(list("0123456789元挂号费为是，。[] "))
    doubtful = set(answer_numbers("挂号费是多少？", RIVALS))
    assert {"15", "60"} <= doubtful, doubtful
    sure = set(answer_numbers("主任医师号的挂号费是多少？", RIVALS))
    assert "60" in sure and "15" not in sure, sure  # the question names the clause: narrowed to it
    for allowed, fifteen_free in ((doubtful, True), (sure, False)):
        guard = NumberGuard(frozenset(allowed), tok, made=tok.ids("挂号费为"))
        scores = torch_zeros(len(tok))
        scores[tok.vocab.index("1")] = 5.0  # the model's favourite: the other clause's 15
        guard.apply(scores)
        assert bool(scores[tok.vocab.index("1")] == 5.0) is fifteen_free
        assert scores[tok.vocab.index("6")] == 0.0  # 60 stays open either way


def torch_zeros(n: int):
    import torch

    return torch.zeros(n)
