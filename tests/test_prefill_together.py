"""Prompts prefilled together (decode.py's padded batch, rows.py's groups) give each prompt what its prefill alone
gives, bit for bit: its logits, its KV cache, and so the same greedy tokens after, past the sliding window."""
from __future__ import annotations

import pytest
import torch

from server.backends.local import int4
from server.backends.local.decode import Decoder
from server.backends.local.rows import PAD_ROOM, RowBatch, _Row, prompt_groups
from server.backends.local.sampling import row_kwargs
from tests.test_decode_rows import drain, generate, job, tiny_gemma

# Lengths past the tiny model's sliding window of 6, from rows.SMALL_MATMUL on (a shorter prompt is prefilled alone),
# and far enough apart that sdpa over a padded prompt sums in another order (40 within 70 did).
PROMPTS = [[7 + 13 * i for i in range(18)], [(5 + 31 * i) % 4000 for i in range(40)], [40 + i for i in range(51)],
           [900 - 3 * i for i in range(70)]]


def decode(d: Decoder, first: torch.Tensor, lens: list[int], n: int) -> list[list[int]]:
    """n greedy tokens for rows 0..len(lens)-1 of d, from their prompts' last logits."""
    tokens = [[int(t)] for t in first.argmax(-1)]
    for i in range(n - 1):
        logits = d.step([t[-1] for t in tokens], [m + i for m in lens])
        for t, x in zip(tokens, logits.argmax(-1).tolist()):
            t.append(x)
    return tokens


@pytest.mark.parametrize("dtype", ["fp32", "int8-head", "bf16", "int4"])
def test_prompts_together_get_their_own_logits_cache_and_tokens(dtype):
    model = tiny_gemma(dtype)
    lens = [len(p) for p in PROMPTS]
    together, alone = Decoder(model, 256), Decoder(model, 256)
    with torch.inference_mode():
        got, wants = together.prefill(0, PROMPTS), []
        for r, ids in enumerate(PROMPTS):
            want = alone.prefill(r, [ids])
            wants.append(want)
            for a, b in zip(together.k + together.v, alone.k + alone.v):
                assert torch.equal(a[r, :, :len(ids)], b[r, :, :len(ids)]), (dtype, r)
            if dtype == "fp32":  # its float output layer over 4 rows' last positions takes MKL's small-M path, as
                assert torch.allclose(got[r], want[0], atol=1e-5, rtol=0)  # over a batch step's rows
            else:
                assert torch.equal(got[r], want[0]), (dtype, r)
        tokens = decode(together, got, lens, 16)
        apart = decode(alone, torch.cat(wants), lens, 16)
    # bf16 rows decoded together differ from generate()'s one row in their last bits (test_decode_rows allows 1e-2)
    assert tokens == apart == ([generate(model, ids, 16) for ids in PROMPTS] if dtype != "bf16" else apart)
    assert len({t for row in tokens for t in row}) > 8  # the model really says something


def test_prompts_on_both_paths_of_the_4bit_layers_are_prefilled_apart(monkeypatch):
    """A prompt on the 4-bit kernel and one on the dense path are never one prefill: each keeps its path's values."""
    monkeypatch.setattr(int4.Int4Linear, "DENSE_FROM", 30)
    monkeypatch.setattr(int4.Int4x2Linear, "DENSE_FROM", 30)
    model = tiny_gemma("int4")
    rows = [_Row(job(4), ids, 4, 0, {}) for ids in PROMPTS]
    assert [[len(r.ids) for r in g] for g in prompt_groups(rows)] == [[70, 51, 40], [18]]
    b = RowBatch(model, eos_ids=[], size=4, row_tokens=256)
    jobs = [job(12) for _ in PROMPTS]
    for j, ids in zip(jobs, PROMPTS):
        b.add(j, ids, 12, row_kwargs(False, None, None, None))
    drain(b, jobs)
    assert [j.pending for j in jobs] == [generate(model, ids, 12) for ids in PROMPTS]


def test_rows_joining_at_once_are_one_prefill_and_each_gets_its_tokens():
    model = tiny_gemma()
    b = RowBatch(model, eos_ids=[], size=4, row_tokens=256)
    calls = []
    prefill = b.decoder.prefill
    b.decoder.prefill = lambda slot, prompts: calls.append(len(prompts)) or prefill(slot, prompts)  # type: ignore
    jobs = [job(20) for _ in PROMPTS]
    for j, ids in zip(jobs, PROMPTS):
        b.add(j, ids, 20, row_kwargs(False, None, None, None))
    drain(b, jobs)
    assert calls == [4]
    assert [j.pending for j in jobs] == [generate(model, ids, 20) for ids in PROMPTS]


def test_a_much_longer_prompt_too_many_tokens_or_a_short_prompt_make_another_group(monkeypatch):
    monkeypatch.setattr("server.backends.local.rows.PREFILL_TOKENS", 3 * 40)
    rows = [_Row(job(4), [1] * n, 4, 0, {}) for n in (40, 5, 40, 40, 40 + PAD_ROOM + 1, 39, 15)]
    assert [[len(r.ids) for r in g] for g in prompt_groups(rows)] == [[40 + PAD_ROOM + 1], [40, 40, 40], [39], [15],
                                                                      [5]]


PREAMBLE = [(11 + 7 * i) % 4000 for i in range(40)]


@pytest.mark.parametrize("dtype", ["fp32", "int4"])
def test_prompts_after_a_preamble_are_prefilled_from_it_as_the_whole_prompt_would_be(dtype):
    """The preamble's keys and values are made once; prompts that start with it get, together or alone, the
    values of a prefill from there, within float rounding of prefilling them whole, and generate()'s tokens."""
    model = tiny_gemma(dtype)
    prompts = [PREAMBLE + p for p in PROMPTS] + [PROMPTS[1]]  # the last one without the preamble
    lens = [len(p) for p in prompts]
    together, alone, whole = Decoder(model, 256, PREAMBLE), Decoder(model, 256, PREAMBLE), Decoder(model, 256)
    assert [together.start(p) for p in prompts] == [40] * 4 + [0] and together.start(PREAMBLE) == 0
    fed = []
    forward = together._forward
    together._forward = lambda ids, *a, **kw: fed.append(ids.shape) or forward(ids, *a, **kw)  # type: ignore
    with torch.inference_mode():
        got = torch.cat([together.prefill(0, prompts[:4]), together.prefill(4, prompts[4:])])
        kept = together.kept
        again = together.prefill(0, prompts[:4])  # the preamble's values kept: not made again
        assert together.kept is kept and torch.equal(again, got[:4])
        assert fed == [(1, 40), (4, 70), (1, len(PROMPTS[1])), (4, 70)]
        wants = [alone.prefill(r, [p]) for r, p in enumerate(prompts)]
        wholes = [whole.prefill(r, [p]) for r, p in enumerate(prompts)]
        for r, p in enumerate(prompts):
            assert torch.equal(got[r], wants[r][0]) or dtype == "fp32"  # fp32's output layer: see above
            assert torch.allclose(got[r], wholes[r][0], atol=1e-5 if dtype == "fp32" else 1e-2, rtol=0)
            for a, b in zip(together.k + together.v, alone.k + alone.v):
                assert torch.equal(a[r, :, :len(p)], b[r, :, :len(p)]), (dtype, r)
        tokens = decode(together, got, lens, 12)
    assert tokens == [generate(model, p, 12) for p in prompts]


def test_the_preamble_is_what_every_prompt_of_a_base_model_starts_with(tmp_path):
    from server.backends.local import loader
    from server.backends.local.prompt import Prompter
    from tests.tinymodel import build

    def load(path):
        return loader.load(path, "cpu", str(tmp_path / "cache"), "tiny", lambda *a: None, "fp32")

    loaded = load(build(str(tmp_path / "base"), base=True, max_positions=4096))
    prompter = Prompter(loaded)
    preamble = prompter.preamble()
    assert len(preamble) >= 32
    for messages in ([{"role": "user", "content": "How do I cook rice?"}],
                     [{"role": "system", "content": "Evidence:\n[1] (rice.md) Rinse it, then boil it."},
                      {"role": "user", "content": "How do I cook rice?"}],
                     [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
                      {"role": "user", "content": "What is 2 plus 2?"}]):
        ids = prompter.prepare(messages, 16).ids
        assert ids[:len(preamble)] == preamble and len(ids) > len(preamble)
    chat = Prompter(load(build(str(tmp_path / "chat"))))  # a chat template shares a few tokens only
    assert chat.preamble() == []
