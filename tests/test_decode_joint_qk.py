"""decode.py norms and rotates a layer's q and k as one tensor: the same logits bit for bit as the two one by one,
in fp32 and int4, one row and several; a model whose rotary is another function keeps the separate path."""
from __future__ import annotations

import pytest
import torch

from server.backends.local.decode import Decoder
from server.backends.local.exact_fusions import joint_qk
from tests.test_decode_rows import tiny_gemma
from tests.test_int4_fused import tiny_gemma_int4


def _run(decoder: Decoder, prompts: list[list[int]], n: int) -> list[torch.Tensor]:
    """Each prompt prefilled into its own slot, then n greedy steps of all rows together; every logits tensor."""
    with torch.inference_mode():
        out = [decoder.prefill(slot, [ids]) for slot, ids in enumerate(prompts)]
        tokens = [int(lg.argmax()) for lg in out]
        positions = [len(ids) for ids in prompts]
        for _ in range(n):
            out.append(decoder.step(tokens, positions))
            tokens, positions = out[-1].argmax(-1).tolist(), [p + 1 for p in positions]
    return out


@pytest.mark.parametrize("build", [tiny_gemma, tiny_gemma_int4])
def test_joint_q_and_k_give_the_same_logits_bit_for_bit(build):
    model = build()
    joint = Decoder(model, 128)
    assert all(j is not None and j[0] is not None for j in joint.joint)  # Gemma: q and k norms stacked
    apart = Decoder(model, 128)
    apart.joint = [None] * len(apart.layers)
    prompts = [[5, 17, 300, 41], [9, 8, 7, 6, 5, 4, 3, 2, 1, 99, 1000]]  # the second past the sliding window
    got, want = _run(joint, prompts, 10), _run(apart, prompts, 10)
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    assert len({int(t) for lg in want for t in lg.argmax(-1).reshape(-1)}) > 3  # not one token over and over


def test_a_rotary_of_another_form_keeps_q_and_k_apart():
    model = tiny_gemma()
    decoder = Decoder(model, 128)
    own = decoder.rope

    def interleaved(q, k, cos, sin):  # pairs (0, 1), (2, 3), ... rotated: not rotate_half's halves
        def turn(x):
            pairs = x.unflatten(-1, (-1, 2))
            return torch.stack([-pairs[..., 1], pairs[..., 0]], -1).flatten(-2)
        return q * cos.unsqueeze(1) + turn(q) * sin.unsqueeze(1), k * cos.unsqueeze(1) + turn(k) * sin.unsqueeze(1)

    decoder.rope = interleaved
    assert joint_qk(decoder, decoder.layers[0].self_attn) is None
    decoder.rope = own
    assert joint_qk(decoder, decoder.layers[0].self_attn) is not None
