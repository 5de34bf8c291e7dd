"""How the local backend prompts: a base model's plain transcript and its end, a model's own template, one fit."""
from __future__ import annotations

import os

import pytest

from server.backends.base import Registry
from server.backends.local import LocalBackend
from server.backends.local import prompt
from tests.local_backends import HELLO, PROMPTS, Streams, run, running, text_of, wait_ready
from tests.tinymodel import build

CONVERSATION = [
    {"role": "system", "content": "Passages: the river is 42 km long."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "How long is the river?"},
]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-prompt")
    return {"base": build(str(root / "base"), endless=True, base=True, max_positions=4096),
            "chat": build(str(root / "chat"), endless=True)}


@pytest.fixture(scope="module")
def base(dirs):
    yield from running(dirs["base"], "base", batch_size=4)


@pytest.fixture(scope="module")
def base_alone(dirs):
    yield from running(dirs["base"], "base-alone", batch_size=1)


@pytest.fixture(scope="module")
def chat(dirs):
    yield from running(dirs["chat"], "chat", batch_size=1)


def test_a_model_without_a_chat_template_gets_a_plain_transcript(base):
    text, ids = base.scheduler.prompter.encode(CONVERSATION)
    assert text.startswith(prompt.DESCRIPTION)
    user, assistant = prompt.USER, prompt.ASSISTANT
    assert f"{user} 水的化学式是什么？" in text  # an example exchange in Chinese
    # The system message (instructions, retrieved passages) comes after the examples, before the conversation.
    assert text.index(prompt.EXAMPLES[-1][1]) < text.index("Passages: the river is 42 km long.") \
        < text.index(f"{user} Hi")
    assert text.endswith(f"{user} Hi\n{assistant} Hello!\n\n{user} How long is the river?\n{assistant}")
    assert "<|im_start|>" not in text and "system" not in text.lower()
    assert base.tokenizer.decode(ids) == text


def test_a_model_with_a_chat_template_keeps_it(chat):
    text, _ = chat.scheduler.prompter.encode(CONVERSATION)
    assert text.startswith("<|im_start|>system\nPassages") and text.endswith("<|im_start|>assistant\n")
    assert not chat.loaded.transcript and prompt.DESCRIPTION not in text


def test_a_base_model_answers_greedy_unless_asked_to_sample(base_alone):
    import torch

    assert base_alone.scheduler.loaded.transcript  # no chat template: a base model
    greedy = text_of(run(base_alone, max_tokens=30, do_sample=False))
    assert [text_of(run(base_alone, max_tokens=30)) for _ in range(2)] == [greedy, greedy]  # what the page sends
    sampled = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        sampled.append(text_of(run(base_alone, max_tokens=30, temperature=1.0)))  # a temperature asks for sampling
    assert sampled[0] != sampled[1]

def test_a_transcript_reply_ends_where_the_model_starts_the_next_turn(base, base_alone, monkeypatch):
    free = text_of(run(base_alone, HELLO, max_tokens=60, do_sample=False))
    # Greedy, the tiny model writes the same words after any transcript; the penalty makes another reply.
    other = text_of(run(base_alone, PROMPTS[1], max_tokens=150, do_sample=False, repetition_penalty=1.3))
    # A piece of this reply, past its first word, that the other never writes stands in for "\nUser:".
    marker = next(free[i:i + 7] for i in range(4, len(free) - 7) if free[i:i + 7] not in other)
    want = free[:free.index(marker)].strip()
    assert want and len(want) < len(free) - 10
    monkeypatch.setattr(prompt, "STOPS", (marker,))
    alone = run(base_alone, HELLO, max_tokens=60, do_sample=False)  # the generate() path
    assert text_of(alone) == want
    assert alone[-1].finish_reason == "stop" and alone[-1].usage["completion_tokens"] < 55
    s = Streams(base)  # a batch row, beside another that goes on
    s.start("other", PROMPTS[1], wait_first=False, max_tokens=150, do_sample=False, repetition_penalty=1.3)
    s.start("stopped", HELLO, wait_first=False, max_tokens=60, do_sample=False)
    s.join()
    last = s.chunks["stopped"][-1]
    assert text_of(s.chunks["stopped"]) == want
    assert last.finish_reason == "stop" and last.usage["completion_tokens"] < 55
    assert s.chunks["other"][-1].usage["completion_tokens"] == 150 and text_of(s.chunks["other"]) == other
    assert s.at("stopped", "text") < s.at("other", "finish")  # together, in the batch
    # Alone again after the batch (whose manager was still stepping the stopped row): the same reply.
    assert text_of(run(base, HELLO, max_tokens=60, do_sample=False)) == want


def test_the_reply_budget_reaches_the_fit_when_max_tokens_is_unset(chat):
    turn = "The cats sleep in the sun and the dogs run in the park. " * 4
    long = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{i} {turn}"} for i in range(15)]
    assert len(chat.scheduler.prompter.encode(long)[1]) > 512
    usage = {}
    for budget in (200, 60):
        chunks = list(chat.stream(long, model="x", params={}, cancel=None, budget=budget))
        usage[budget] = chunks[-1].usage
        assert usage[budget]["completion_tokens"] == budget  # the endless model runs to the budget
        assert usage[budget]["prompt_tokens"] <= 512 - budget
    assert usage[60]["prompt_tokens"] > usage[200]["prompt_tokens"]  # a smaller budget keeps more history
    # max_tokens, when given, wins over the budget.
    assert list(chat.stream(HELLO, model="x", params={"max_tokens": 7}, cancel=None,
                            budget=200))[-1].usage["completion_tokens"] == 7


def test_a_request_is_tokenized_once(chat):
    calls = []
    real = chat.loaded.tokenizer

    class Counting:
        def __getattr__(self, name):
            if name == "apply_chat_template":
                calls.append(name)
            return getattr(real, name)

        def __call__(self, *a, **kw):
            calls.append("encode")
            return real(*a, **kw)

    chat.loaded.tokenizer = Counting()
    try:
        chunks = run(chat, CONVERSATION, max_tokens=9)
    finally:
        chat.loaded.tokenizer = real
    assert chunks[-1].usage["completion_tokens"] == 9
    assert calls == ["apply_chat_template", "encode"]


def test_the_built_in_model_is_labelled_as_a_base_demo_with_a_way_to_a_better_one(dirs):
    builtin, folder = LocalBackend(None), LocalBackend(dirs["chat"], name="mine")
    registry = Registry()
    registry.add(builtin)
    registry.add(folder)
    described = {b["name"]: b for b in registry.describe()}
    assert described["local"]["label"] == "built-in demo model (Gemma 3 270M, base)"
    assert "DEEPSEEK_API_KEY" in described["local"]["hint"] and "--model" in described["local"]["hint"]
    assert described["mine"]["label"] == "local model (chat)" and described["mine"]["hint"] == ""


@pytest.mark.slow
def test_the_built_in_model_loads_answers_and_ends_by_itself():
    """The real Gemma 3 270M (base) from the bundled GGUF, converted and cached on the first run (about 2 minutes
    on 2 cores), through the transcript, alone and in the batch; its tokenizer's pieces decode as a whole does."""
    from server.backends.local.text import Detokenizer

    b = LocalBackend(None, batch_size=2)
    assert b.default_model == "gemma-3-270m" and not b.status().model_ready
    st = wait_ready(b, timeout=600)
    assert st.model_ready, st.message
    try:
        assert os.path.isfile(os.path.join(b.cache_dir, "models", "gemma-3-270m-q4_k_m", "model.safetensors"))
        # Token by token, SentencePiece's leading spaces and byte-fallback characters come out as a whole decode
        # gives them.
        ids = b.tokenizer("Caf\u00e9 na\u00efve \U0001F600 \u4e2d\u6587 \u2014 ok\n  two  spaces",
                          add_special_tokens=False)["input_ids"]
        for incremental in (True, False):
            d = Detokenizer(b.tokenizer, incremental=incremental)
            assert "".join([d.add([i]) for i in ids] + [d.flush()]) == b.tokenizer.decode(ids, skip_special_tokens=True)
        questions = ["What is the capital of France?", "法国的首都是哪里？"]
        s = Streams(b)
        for q in questions:
            s.start(q, [{"role": "user", "content": q}], wait_first=False, max_tokens=60, do_sample=False)
        s.join(timeout=300)
        alone = run(b, [{"role": "user", "content": questions[0]}], max_tokens=60, do_sample=False)
        for chunks in [s.chunks[q] for q in questions] + [alone]:
            text = text_of(chunks)
            assert "巴黎" in text or "Paris" in text, text
            assert chunks[-1].finish_reason == "stop" and chunks[-1].usage["completion_tokens"] < 60, (text, chunks[-1])
            assert not any(t in text for t in (prompt.USER, prompt.ASSISTANT, "<start_of_turn>", "model\n"))
    finally:
        b.close()
