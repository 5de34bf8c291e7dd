"""decode.py's forward and the RowBatch on it give what transformers gives: the same logits, the same greedy tokens,
rows joining and leaving included, in every CPU dtype; and the faster top-k and argmax pick what torch's do."""
from __future__ import annotations

import pytest
import torch

from server.backends.local import cpu_dtype
from server.backends.local.decode import Decoder, supported
from server.backends.local.jobs import Ended, Job
from server.backends.local.rows import RowBatch
from server.backends.local.sampling import argmax, best, row_kwargs

VOCAB = 4096  # > 16 blocks of 128: argmax() and best() take their block path
WINDOW = 6  # Gemma's sliding window, small enough that rows run past it
GREEDY = row_kwargs(False, None, None, None)


def tiny_gemma(dtype: str = "fp32"):
    """A random Gemma 3 (text): sliding and full layers, grouped heads (4 query heads on 1 key head), tied embedding."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    cfg = Gemma3TextConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                           num_attention_heads=4, num_key_value_heads=1, head_dim=16, sliding_window=WINDOW,
                           layer_types=["sliding_attention", "full_attention"] * 2, max_position_embeddings=256,
                           query_pre_attn_scalar=16, attn_implementation="sdpa")
    model = Gemma3ForCausalLM(cfg)
    with torch.no_grad():  # layers strong enough that the logits are far from ties, and the reply not an echo
        for p in model.parameters():
            p.normal_(0, 0.3 if p.dim() > 1 else 0.1)
        model.model.embed_tokens.weight.normal_(0, 0.02)
    return cpu_dtype.apply(model.eval(), dtype)


def generate(model, ids: list[int], n: int) -> list[int]:
    with torch.inference_mode():
        x = torch.tensor([ids])
        out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=n, min_new_tokens=n,
                             do_sample=False, pad_token_id=0, eos_token_id=None)
    return out[0, len(ids):].tolist()


# Past the window transformers' cache keeps only the window's keys where this pass masks the older ones: the same
# sums in another order. fp32 agrees to 1e-5; int8-head rounds the output layer's input to bf16, which turns
# those last bits into ~1e-4 of a logit, and where one of them crosses a bf16 rounding step, into more: 2.6e-3 at
# one step of one prompt on an AMD EPYC (one thread), under 1.2e-3 with two; bf16 runs every layer so.
TOLERANCE = {"fp32": 1e-5, "int8-head": 5e-3, "bf16": 1e-2}
PROMPTS = [[5, 17, 300, 41], [9, 8, 7, 6, 5, 4, 3, 2, 1, 99, 1000], [2000]]


@pytest.mark.parametrize("dtype", ["fp32", "int8-head", "bf16"])
def test_the_pass_gives_transformers_logits_and_greedy_tokens(dtype):
    from transformers import DynamicCache

    model = tiny_gemma(dtype)
    assert supported(model)
    for ids in PROMPTS:
        d = Decoder(model, 256)
        with torch.inference_mode():
            cache = DynamicCache(config=model.config)
            want = model(input_ids=torch.tensor([ids]), past_key_values=cache).logits[:, -1].float()
            got = d.prefill(0, [ids])
            tokens = []
            for pos in range(len(ids), len(ids) + 20):  # past the sliding window
                assert torch.allclose(got, want, atol=TOLERANCE[dtype]), (dtype, pos)
                tokens.append(int(want.argmax()))
                want = model(input_ids=torch.tensor([[tokens[-1]]]), past_key_values=cache).logits[:, -1].float()
                got = d.step([tokens[-1]], [pos])
        assert tokens == generate(model, ids, 20)
        assert len(set(tokens)) > 3  # the model really says something


def job(n: int) -> Job:
    return Job([], {}, n, None)


def drain(batch: RowBatch, jobs: list[Job], stop_at: tuple | None = None, join_at: dict | None = None) -> None:
    """Step until every job has ended or stopped; stop_at (job, tokens) stops a job once it has that many,
    join_at {step: (job, ids, n, sampling)} adds a row at that step."""
    join_at = join_at or {}
    for step in range(500):
        for j, n in [stop_at] if stop_at else []:
            if len(j.pending) >= n:
                j.stop.set()
        if step in join_at:
            j, ids, n, sampling = join_at.pop(step)
            batch.add(j, ids, n, sampling)
        batch.step()
        if not join_at and all(j.stopped() or _ended(j) for j in jobs):
            return
    raise AssertionError("the batch never drained")


def _ended(j: Job) -> bool:
    return any(isinstance(e, Ended) for e in list(j.out.queue))


@pytest.mark.parametrize("dtype", ["fp32", "int8-head"])
def test_rows_that_join_and_leave_give_each_what_generate_gives_alone(dtype):
    model = tiny_gemma(dtype)
    alone = [generate(model, ids, 24) for ids in PROMPTS]
    b = RowBatch(model, eos_ids=[], size=4, row_tokens=256)
    a, stopped, late = job(24), job(24), job(24)
    sampled = job(24)
    b.add(a, PROMPTS[0], 24, GREEDY)
    b.add(stopped, PROMPTS[1], 24, GREEDY)
    b.add(sampled, PROMPTS[1], 24, row_kwargs(True, 1.0, 5, 0.9))  # a sampled row beside the greedy ones
    # The stopped row leaves from the middle of the batch: the rows behind it move up in the cache.
    drain(b, [a, stopped, late, sampled], stop_at=(stopped, 5), join_at={7: (late, PROMPTS[2], 24, GREEDY)})
    assert a.pending == alone[0] and late.pending == alone[2]
    assert stopped.pending == alone[1][:len(stopped.pending)] and len(stopped.pending) < 24
    ends = [e for e in a.out.queue if isinstance(e, Ended)]
    assert [(e.reason, e.tokens) for e in ends] == [("length", 24)]
    assert len(sampled.pending) == 24 and b.busy == 0 and b.decoder.rows == 0  # an idle batch holds no cache


def test_a_repetition_penalty_changes_its_row_only():
    model = tiny_gemma()
    b = RowBatch(model, eos_ids=[], size=2, row_tokens=256)
    plain, penalized = job(20), job(20)
    b.add(plain, PROMPTS[0], 20, GREEDY)
    b.add(penalized, PROMPTS[0], 20, row_kwargs(False, None, None, None, repetition_penalty=3.0))
    drain(b, [plain, penalized])
    assert plain.pending == generate(model, PROMPTS[0], 20)
    with torch.inference_mode():
        x = torch.tensor([PROMPTS[0]])
        want = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=20, do_sample=False,
                              repetition_penalty=3.0, pad_token_id=0, eos_token_id=None)[0, 4:].tolist()
    assert penalized.pending == want != plain.pending


def test_a_row_ends_at_its_end_token():
    model = tiny_gemma()
    free = generate(model, PROMPTS[0], 10)
    b = RowBatch(model, eos_ids=[free[3]], size=2, row_tokens=256)
    j = job(10)
    b.add(j, PROMPTS[0], 10, GREEDY)
    drain(b, [j])
    assert j.pending == free[:free.index(free[3]) + 1]
    assert [e.reason for e in j.out.queue if isinstance(e, Ended)] == ["stop"]


def test_block_argmax_and_top_k_pick_what_torch_picks():
    torch.manual_seed(1)
    for trial in range(60):
        scores = torch.randn(1 + trial % 8, 262144) * (1 + trial % 4)
        if trial % 3 == 0:
            scores = scores.round()  # many equal scores: the first of the maxima, as torch.argmax
        assert torch.equal(argmax(scores), scores.argmax(dim=-1))
        for k in (1, 64, 200, 1024):
            values, ids = best(scores, k)
            assert torch.equal(values, scores.topk(k, dim=-1).values)
            assert torch.equal(scores.gather(1, ids), values)
            assert all(len(set(row.tolist())) == k for row in ids)
