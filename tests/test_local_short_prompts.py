"""Short prompts (under SMALL_MATMUL tokens after their start) joining at once on int4 are one prefill, and each gets
what its prefill alone gives, bit for bit, with a float layer among the 4-bit ones (as a GGUF's Q6_K layers stay)."""
from __future__ import annotations

import torch

from server.backends.local import int4
from server.backends.local.decode import Decoder
from server.backends.local.rows import PAD_ROOM, RowBatch, _Row, prompt_groups
from tests.test_decode_rows import GREEDY, drain, generate, job, tiny_gemma
from tests.test_prefill_together import PREAMBLE, decode

# Own lengths 1 to 7 after the preamble, two of them alike: torch's fp32 matmul sums 1 to 3 rows in another order
# than the same rows inside a larger batch, which a float layer run over the whole group shows.
TAILS = [[3000 + 7 * i for i in range(n)] for n in (7, 5, 3, 3, 2, 1)]


def int4_with_a_float_layer():
    """The tiny Gemma on int4, one MLP's down projection left in fp32."""
    model = tiny_gemma("int4")
    mlp = model.model.layers[1].mlp
    torch.manual_seed(1)
    mlp.down_proj = torch.nn.Linear(mlp.down_proj.in_features, mlp.down_proj.out_features, bias=False)
    with torch.no_grad():
        mlp.down_proj.weight.normal_(0, 0.3)
    return model


def test_short_prompts_together_get_their_own_logits_cache_and_tokens():
    model = int4_with_a_float_layer()
    prompts = [PREAMBLE + t for t in TAILS]
    together, alone = Decoder(model, 256, PREAMBLE), Decoder(model, 256, PREAMBLE)
    with torch.inference_mode():
        got = together.prefill(0, prompts)
        wants = [alone.prefill(r, [p]) for r, p in enumerate(prompts)]
        for r, p in enumerate(prompts):
            assert torch.equal(got[r], wants[r][0]), r
            for a, b in zip(together.k + together.v, alone.k + alone.v):
                assert torch.equal(a[r, :, :len(p)], b[r, :, :len(p)]), r
        lens = [len(p) for p in prompts]
        tokens = decode(together, got, lens, 10)
        assert tokens == decode(alone, torch.cat(wants), lens, 10)
    assert tokens == [generate(model, p, 10) for p in prompts]


def test_a_padded_prefill_gives_the_4bit_layers_its_prompts_own_tokens_alone(monkeypatch):
    """The kernel's cost is its rows': 6 prompts padded to 7 tokens are 42 rows, their own tokens 21."""
    d = Decoder(tiny_gemma("int4"), 256, PREAMBLE)
    with torch.inference_mode():
        d.keep(0)
        rows = []
        forward = int4.Int4Linear.forward
        monkeypatch.setattr(int4.Int4Linear, "forward", lambda m, x: rows.append(x[..., 0].numel()) or forward(m, x))
        d.prefill(0, [PREAMBLE + t for t in TAILS])
    assert max(rows) == sum(len(t) for t in TAILS) == 21


def test_short_prompts_are_one_group_on_int4_only():
    rows = [_Row(job(4), PREAMBLE + t, 4, 0, {}) for t in TAILS]
    rows += [_Row(job(4), PREAMBLE + [1] * n, 4, 0, {}) for n in (20, 20 + PAD_ROOM + 1)]
    start = Decoder(tiny_gemma("int4"), 256, PREAMBLE).start
    assert [[len(r.ids) - 40 for r in g] for g in prompt_groups(rows, start, short=True)] == [
        [20 + PAD_ROOM + 1], [20, 7, 5, 3, 3, 2, 1]]
    assert [len(g) for g in prompt_groups(rows, start)] == [1] * 8
    assert RowBatch(tiny_gemma("int4"), [], 8, 256).short_together
    assert not RowBatch(tiny_gemma("fp32"), [], 8, 256).short_together


def test_rows_with_short_prompts_joining_at_once_are_one_prefill_and_each_gets_its_tokens():
    model = int4_with_a_float_layer()
    b = RowBatch(model, eos_ids=[], size=8, row_tokens=256, preamble=PREAMBLE)
    calls = []
    prefill = b.decoder.prefill
    b.decoder.prefill = lambda slot, prompts: calls.append(len(prompts)) or prefill(slot, prompts)  # type: ignore
    jobs = [job(12) for _ in TAILS]
    for j, t in zip(jobs, TAILS):
        b.add(j, PREAMBLE + t, 12, GREEDY)
    drain(b, jobs)
    assert calls == [len(TAILS)]
    assert [j.pending for j in jobs] == [generate(model, PREAMBLE + t, 12) for t in TAILS]
