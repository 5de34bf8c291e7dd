"""LocalBackend on tiny random models: what a stream gives, how params change it, thinking and multibyte text."""
from __future__ import annotations

import pytest

from server.backends.local import LocalBackend
from tests.local_backends import HELLO, run, text_of

# ---- streaming and params ------------------------------------------------

def test_stream_yields_text_then_finish_with_usage(plain):
    import torch

    torch.manual_seed(3)
    chunks = run(plain, max_tokens=300, do_sample=True)
    *body, last = chunks
    assert len(body) >= 2 and all(c.text for c in body) and all(c.queued is None for c in body)
    assert last.finish_reason == "stop" and last.text == ""
    n_prompt = len(plain.tokenizer.apply_chat_template(HELLO, add_generation_prompt=True, tokenize=False).split())
    assert last.usage["prompt_tokens"] > n_prompt  # counted in tokens, not words
    assert 1 <= last.usage["completion_tokens"] < 300
    text = text_of(chunks)
    assert text.strip() and all(ch == "\n" or 32 <= ord(ch) < 127 for ch in text)
    assert plain.models() == ["plain"] and plain.default_model == "plain"


def test_max_tokens_is_exact_on_the_endless_model(endless):
    chunks = run(endless, max_tokens=37, do_sample=True)
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].usage["completion_tokens"] == 37
    # The tokens reached the client as text: re-encoding gives about as many (BPE may merge differently).
    assert len(endless.tokenizer(text_of(chunks), add_special_tokens=False)["input_ids"]) in range(20, 75)


def test_greedy_is_repeatable_and_sampling_is_not(endless):
    import torch

    greedy = [text_of(run(endless, max_tokens=30, do_sample=False)) for _ in range(2)]
    assert greedy[0] == greedy[1] and greedy[0]
    assert text_of(run(endless, max_tokens=30, temperature=0)) == greedy[0]  # temperature 0 means greedy
    sampled = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        sampled.append(text_of(run(endless, max_tokens=30, do_sample=True, temperature=1.0)))
    assert sampled[0] != sampled[1]
    assert greedy[0] not in sampled


@pytest.mark.parametrize("path", ["endless", "serial"])  # a batch row, and generate() alone
def test_sampling_params_reach_generate(path, request):
    import torch

    endless = request.getfixturevalue(path)
    greedy = text_of(run(endless, max_tokens=30, do_sample=False))
    torch.manual_seed(7)
    # top_k=1 and a tiny top_p leave only the best token: sampling collapses onto greedy.
    assert text_of(run(endless, max_tokens=30, do_sample=True, top_k=1, temperature=1.5)) == greedy
    torch.manual_seed(7)
    assert text_of(run(endless, max_tokens=30, do_sample=True, top_p=1e-6, top_k=0, temperature=1.5)) == greedy
    # Same seed, different temperature: different text.
    torch.manual_seed(9)
    cold = text_of(run(endless, max_tokens=30, do_sample=True, temperature=0.2))
    torch.manual_seed(9)
    hot = text_of(run(endless, max_tokens=30, do_sample=True, temperature=1.8))
    assert cold != hot


def test_repetition_penalty_changes_greedy_output(endless):
    plain = text_of(run(endless, max_tokens=60, do_sample=False))
    penalized = text_of(run(endless, max_tokens=60, do_sample=False, repetition_penalty=2.0))
    assert plain != penalized
    # The tiny model's greedy reply falls into a loop; the penalty breaks it up.
    words = lambda t: len(set(t.split())) / max(1, len(t.split()))  # noqa: E731
    assert words(penalized) > words(plain)


# ---- thinking ------------------------------------------------------------

def test_think_splitter_handles_tags_split_anywhere():
    from server.backends.local.text import ThinkSplitter

    reply = "<think>\nLet me see: 2+2.\n</think>\n\nIt is 4. <b>ok</b> <th"
    for cut in range(1, len(reply)):
        for step in (1, 2, 3, 7):
            s = ThinkSplitter()
            pieces = s.feed(reply[:cut])
            for i in range(cut, len(reply), step):
                pieces += s.feed(reply[i:i + step])
            pieces += s.flush()
            joined = {k: "".join(t for kk, t in pieces if kk == k) for k in ("reasoning", None)}
            assert joined["reasoning"] == "Let me see: 2+2.\n", (cut, step, pieces)
            assert joined[None] == "It is 4. <b>ok</b> <th", (cut, step, pieces)
            assert all(t for _, t in pieces)


def test_think_splitter_when_the_template_opened_the_block():
    from server.backends.local.text import ThinkSplitter

    s = ThinkSplitter(thinking=True)
    pieces = s.feed("hmm, ok</thi") + s.feed("nk>Answer") + s.flush()
    assert pieces == [("reasoning", "hmm, ok"), (None, "Answer")]
    s = ThinkSplitter(thinking=True)
    assert s.feed("still thinking") + s.flush() == [("reasoning", "still thinking")]


def test_template_that_opens_think_streams_reasoning(models):
    b = LocalBackend(models["think"], device="cpu")
    chunks = run(b, max_tokens=20)
    b.close()
    texts = [c for c in chunks if c.text]
    assert texts and all(c.kind == "reasoning" for c in texts)
    assert chunks[-1].usage["completion_tokens"] == 20


@pytest.mark.parametrize("incremental", [True, False], ids=["DecodeStream", "window"])
def test_detokenizer_keeps_multibyte_characters_whole(plain, incremental):
    from server.backends.local.text import Detokenizer

    text = "Caf\u00e9 na\u00efve \U0001F600 \u4e2d\u6587 ok"
    ids = plain.tokenizer(text, add_special_tokens=False)["input_ids"]
    d = Detokenizer(plain.tokenizer, incremental=incremental)
    assert (d.stream is not None) == incremental  # the tiny model's tokenizer is a fast one
    pieces = [d.add([i]) for i in ids] + [d.flush()]
    assert "".join(pieces) == text
    assert not any("\ufffd" in p for p in pieces)
