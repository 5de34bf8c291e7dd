"""Prompt lookup on a lone greedy row (lookup.py, Decoder.verify, RowBatch._checked): the drafts checked in one pass
give each position the logits a plain step gives, bit for bit, so the reply is the plain path's token for token,
with its penalty, guard, end token, length and Stop; sampled rows and batches of several rows take plain steps."""
from __future__ import annotations

import pytest
import torch

from server.backends.local.decode import Decoder
from server.backends.local.jobs import Ended, Observed
from server.backends.local.lookup import DRAFT, Drafts
from server.backends.local.rows import RowBatch
from server.backends.local.sampling import argmax, row_kwargs, shape_logits
from server.backends.local.two_stage import head_of
from tests.test_decode_rows import GREEDY, drain, generate, job, tiny_gemma

# The tiny random model soon repeats itself after these, so lookup finds drafts that are right and wrong.
PROMPTS = [[7 + 13 * (i % 5) for i in range(20)], [5 + (31 * i) % 97 for i in range(30)]]


def _batch(model, eos_ids=(), speculate=True) -> RowBatch:
    b = RowBatch(model, eos_ids=list(eos_ids), size=4, row_tokens=256)
    b.speculate = speculate
    return b


def _run(b: RowBatch, ids: list[int], n: int, sampling=GREEDY, guard=None):
    j = job(n)
    j.guard = guard
    b.add(j, ids, n, sampling)
    drain(b, [j])
    return j


@pytest.mark.parametrize("dtype", ["fp32", "int8-head", "bf16", "int4"])
def test_a_verify_pass_gives_each_position_the_logits_of_its_own_step(dtype):
    model = tiny_gemma(dtype)
    prompt = PROMPTS[1]  # 30 tokens: past the sliding window of 6, so each position's window mask is its own
    stepped, verified = Decoder(model, 256), Decoder(model, 256)
    with torch.inference_mode():
        tokens = [int(stepped.prefill(0, [prompt]).argmax())]
        verified.prefill(0, [prompt])
        want = []
        for i in range(4):
            want.append(stepped.step([tokens[-1]], [len(prompt) + i])[0].clone())
            tokens.append(int(want[-1].argmax()))
        got = verified.verify(tokens[:4], len(prompt))
        for i in range(4):
            assert torch.equal(got[i], want[i]), (dtype, i)
        # the cache holds the same keys, so the step after the pass is the plain path's too
        for a, b in zip(stepped.k + stepped.v, verified.k + verified.v):
            assert torch.equal(a[0, :, :len(prompt) + 4], b[0, :, :len(prompt) + 4])


@pytest.mark.parametrize("dtype", ["int4", "fp32"])
def test_a_lone_greedy_row_gives_generates_tokens_with_drafts_kept_and_refused(dtype):
    model = tiny_gemma(dtype)
    for prompt in PROMPTS:
        b = _batch(model)
        j = _run(b, prompt, 40)
        assert j.pending == generate(model, prompt, 40)
        assert 0 < b.kept < b.guessed  # drafts were checked, some kept and some refused
    assert _batch(model, speculate=False).guessed == 0


def test_int4_speculates_by_itself_and_float_layers_do_not():
    assert RowBatch(tiny_gemma("int4"), [], 4, 256).speculate
    assert not RowBatch(tiny_gemma("fp32"), [], 4, 256).speculate


def test_the_end_token_the_length_and_a_penalty_hold_as_on_plain_steps():
    model = tiny_gemma("int4")
    prompt = PROMPTS[0]
    free = generate(model, prompt, 40)
    off = _run(_batch(model, eos_ids=[free[20]], speculate=False), prompt, 40)
    b = _batch(model, eos_ids=[free[20]])
    on = _run(b, prompt, 40)
    assert on.pending == off.pending == free[:free.index(free[20]) + 1]
    assert [e.reason for e in on.out.queue if isinstance(e, Ended)] == ["stop"]
    assert len(_run(_batch(model), prompt, 13).pending) == 13  # drafts never run past max_new
    penalty = row_kwargs(False, None, None, None, repetition_penalty=1.1)  # mild: the reply still repeats a little
    b = _batch(model)
    assert _run(b, prompt, 30, penalty).pending == _run(_batch(model, speculate=False), prompt, 30, penalty).pending
    assert 0 < b.kept < b.guessed


class EightsAfterEven(Observed):
    """A guard whose mask depends on every token it observed, in order: after an even token only multiples of 8."""

    def apply(self, scores) -> None:
        if self.tokens and self.tokens[-1] % 2 == 0:
            keep = scores[::8].clone()
            scores.fill_(float("-inf"))
            scores[::8] = keep


def test_a_guard_sees_the_same_tokens_and_masks_the_same_as_on_plain_steps():
    model = tiny_gemma("int4")
    off, on = EightsAfterEven(), EightsAfterEven()
    b = _batch(model)
    want = _run(_batch(model, speculate=False), PROMPTS[1], 40, guard=off).pending
    assert _run(b, PROMPTS[1], 40, guard=on).pending == want != generate(model, PROMPTS[1], 40)
    assert on.tokens == off.tokens
    assert b.kept


class NoTop(EightsAfterEven):
    """The 64 best tokens masked: what the two-stage head made exact is gone, and it must make the best of the rest
    exact after the mask."""

    def apply(self, scores) -> None:
        scores[scores.topk(64).indices] = float("-inf")


def test_each_position_reaches_the_draw_with_a_plain_steps_logits_after_its_masks():
    model = tiny_gemma("int4")
    head = head_of(model)
    assert head is not None
    prompt = PROMPTS[1]
    stepped, verified = Decoder(model, 256), Decoder(model, 256)
    plain, checked = NoTop(), NoTop()
    with torch.inference_mode():
        tokens = [int(stepped.prefill(0, [prompt]).argmax())]
        verified.prefill(0, [prompt])
        want = []
        for i in range(3):
            logits = stepped.step([tokens[-1]], [len(prompt) + i])
            shape_logits(logits, head, [], [(0, plain, tokens[-1])])
            want.append(logits[0].clone())
            tokens.append(int(argmax(logits)))
        got = verified.verify(tokens[:3], len(prompt))
        for i in range(3):
            head.focus(i)  # the pass's position i, as its own step's call: refine() makes its masked best exact
            shape_logits(got[i:i + 1], head, [], [(0, checked, tokens[i])])
            assert torch.equal(got[i], want[i]), i


def test_sampled_rows_and_several_rows_take_plain_steps():
    model = tiny_gemma("int4")
    b = _batch(model)
    _run(b, PROMPTS[0], 20, row_kwargs(True, 1.0, 0, 1.0))
    assert b.guessed == 0
    jobs = [job(20), job(20)]
    for j, ids in zip(jobs, PROMPTS):
        b.add(j, ids, 20, GREEDY)
    drain(b, jobs)
    assert b.guessed == 0
    assert [j.pending for j in jobs] == [generate(model, ids, 20) for ids in PROMPTS]


def test_a_stopped_row_leaves_with_a_prefix_of_its_reply():
    model = tiny_gemma("int4")
    b = _batch(model)
    j = job(40)
    b.add(j, PROMPTS[0], 40, GREEDY)
    drain(b, [j], stop_at=(j, 10))
    assert not b.busy
    assert 10 <= len(j.pending) <= 10 + DRAFT and j.pending == generate(model, PROMPTS[0], 40)[:len(j.pending)]


def test_drafts_are_what_followed_the_latest_3_gram_else_2_gram():
    d = Drafts()
    assert d.guess([1, 2, 3, 4, 5, 1, 2, 3], 2) == [4, 5]
    assert d.guess([1, 2, 3, 4, 5, 1, 2, 3, 9, 2, 3], 2) == [9, 2]  # no earlier "9 2 3": the latest "2 3"
    assert d.guess([1, 2, 3, 4, 5, 1, 2, 3, 9, 2, 3, 7], 2) == []
    assert d.guess([1, 2, 3, 4, 5, 1, 2, 3, 9, 2, 3, 7, 8], 0) == []
