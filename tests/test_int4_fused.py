"""decode.py's pass over int4 layers runs a layer's q/k/v and its MLP's gate/up as one kernel call each
(int4_fused.py): the same logits, bit for bit, and the same greedy tokens as the layers one by one."""
from __future__ import annotations

import torch

from server.backends.local import cpu_dtype, int4
from server.backends.local.decode import Decoder


def tiny_gemma_int4():
    """A random Gemma 3 whose q, k and v are 64 rows each (the kernel's blocks): every projection can stack."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    cfg = Gemma3TextConfig(vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=4, head_dim=16, sliding_window=6,
                           layer_types=["sliding_attention", "full_attention"], max_position_embeddings=128,
                           query_pre_attn_scalar=16, attn_implementation="sdpa")
    model = Gemma3ForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3 if p.dim() > 1 else 0.1)
        model.model.embed_tokens.weight.normal_(0, 0.02)
    return cpu_dtype.apply(model.eval(), "int4")


def run(decoder: Decoder, ids: list[int], n: int) -> tuple[list[torch.Tensor], list[int]]:
    logits, tokens = [decoder.prefill(0, [ids])], []
    for pos in range(len(ids), len(ids) + n):
        tokens.append(int(logits[-1].argmax()))
        logits.append(decoder.step([tokens[-1]], [pos]))
    return logits, tokens


def test_stacked_projections_give_the_same_logits_and_tokens():
    model = tiny_gemma_int4()
    assert isinstance(model.model.layers[0].self_attn.q_proj, int4.Int4Linear)
    fused = Decoder(model, 128)
    assert all(f is not None for f in fused.qkv + fused.gate_up)
    assert fused.qkv[0][1] == [64, 64, 64] and fused.gate_up[0][1] == [128, 128]
    alone = Decoder(model, 128)  # the layers' own modules, their weights now views of the stacked codes
    alone.qkv, alone.gate_up = [None] * 2, [None] * 2
    for ids in ([5, 17, 300, 41], [9, 8, 7, 6, 5, 4, 3, 2, 1, 99]):
        with torch.inference_mode():
            got, got_tokens = run(fused, ids, 12)
            want, want_tokens = run(alone, ids, 12)
        assert got_tokens == want_tokens and len(set(want_tokens)) > 2
        assert all(torch.equal(a, b) for a, b in zip(got, want))


def test_layers_that_cannot_stack_run_one_by_one():
    from server.backends.local.int4_fused import fuse

    linear = torch.nn.Linear(64, 64, bias=False)
    assert fuse([int4.Int4Linear(linear), linear]) is None  # a float layer beside a 4-bit one
    assert fuse([int4.Int4Linear(linear), int4.Int4Linear(torch.nn.Linear(64, 32, bias=False))]) is None  # 32 rows
    assert fuse([int4.Int4Linear(torch.nn.Linear(64, 64, bias=True))] * 2) is None  # a bias
