"""A loaded model's layers in 4-bit (--local-dtype int4), fed from its GGUF's own blocks where they fit the kernel.

Per GGUF tensor kind (the built-in Gemma 3 270M Q4_K_M: attn_output Q4_K, ffn_down Q4_K in 9 layers and Q6_K
in 9, attn_q/k and ffn_gate/up Q5_0, attn_v Q5_0 or Q8_0, token_embd Q8_0):
- Q4_K: the kernel's own form, codes taken as they are (int4.q4k_int4);
- Q5_0, Q8_0: two 4-bit planes of the same codes (int4.planes), the GGUF's weights again;
- anything else (Q6_K: 16-wide groups the kernel cannot take; F16, F32): the float weights stay;
- no GGUF (a model folder): every projection rounded to 4 bits per 32 inputs (int4.round_int4).
A tensor is used only if its decoded weights equal the loaded model's (transformers may permute or rename:
then the layer stays float; rounding a 5- or 6-bit tensor to 4 bits moved it by 4.5-8 %, against the 1.2 %
of int8 per row that already lost answers). The output layer is a two_stage.TwoStageHead.
"""
from __future__ import annotations

import logging
import re

import numpy as np
import torch

from . import int4
from .int8 import TiedEmbedding
from .two_stage import ExactRows, TwoStageHead

log = logging.getLogger(__name__)

# GGUF tensor names (llama.cpp's) for transformers' module names in a decoder layer.
GGUF_NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
              "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
              "ffn_down": "mlp.down_proj"}
BLOCK = {"Q8_0": 34, "Q5_0": 22}  # bytes per 32 weights; each block starts with its fp16 scale
LAYER = re.compile(r"blk\.(\d+)\.(\w+)\.weight$")


def gguf_tensors(path: str) -> dict:
    """GGUF tensors by the module suffix they feed ("layers.3.mlp.up_proj", "embed_tokens")."""
    from gguf import GGUFReader

    found = {}
    for t in GGUFReader(path).tensors:
        m = LAYER.match(t.name)
        if m and m.group(2) in GGUF_NAMES:
            found[f"layers.{m.group(1)}.{GGUF_NAMES[m.group(2)]}"] = t
        elif t.name == "token_embd.weight":
            found["embed_tokens"] = t
    return found


def symmetric_codes(t) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(codes int8 [N, K], scales [N, K/32]) of a Q8_0 or Q5_0 tensor; None for other kinds."""
    kind = t.tensor_type.name
    if kind not in BLOCK:
        return None
    from gguf.quants import dequantize

    raw = np.asarray(t.data)
    n = raw.shape[0]
    d = raw.reshape(-1, BLOCK[kind])[:, :2].copy().view(np.float16).astype(np.float32).reshape(n, -1)
    if kind == "Q8_0":
        q = raw.reshape(-1, 34)[:, 2:].copy().view(np.int8).reshape(n, -1)
    else:  # d * q with q in -16..15: dividing the dequantized weights by d gives q back exactly
        w = dequantize(raw, t.tensor_type).reshape(n, -1, int4.GROUP)
        safe = np.where(d == 0, 1, d)[..., None]
        q = np.rint(w / safe).astype(np.int8).reshape(n, -1)
    return torch.from_numpy(q), torch.from_numpy(d).half()  # d was fp16 in the file: exact


def from_tensor(linear: torch.nn.Linear, t) -> torch.nn.Module | None:
    """The layer over the GGUF tensor's own codes, if their weights are the loaded ones; None to keep it float."""
    w = linear.weight.detach().float()
    kind = t.tensor_type.name
    if kind == "Q4_K":
        codes, scales, zeros = int4.q4k_int4(np.asarray(t.data), linear.in_features)
        made: torch.nn.Module = int4.Int4Linear(linear, codes, scales, zeros)
        weights = (codes.float() - 8) * scales.repeat_interleave(int4.GROUP, 1) + zeros.repeat_interleave(
            int4.GROUP, 1)
    else:
        sym = symmetric_codes(t)
        if sym is None:
            return None
        q, d = sym[0], sym[1].float()
        made = int4.Int4x2Linear(linear, q, d)
        weights = q.float() * d.repeat_interleave(int4.GROUP, 1)
    if weights.shape != w.shape or not torch.allclose(weights, w, rtol=1e-5, atol=1e-6):
        log.info("GGUF codes of %s are not the loaded weights: the layer stays float", kind)
        return None
    return made


def exact_rows(emb_weight: torch.Tensor, t) -> ExactRows:
    """The output layer's exact rows: a Q8_0 table's own codes when they are the loaded weights, else the floats."""
    sym = symmetric_codes(t) if t is not None and t.tensor_type.name == "Q8_0" else None
    if sym is not None:
        rows = ExactRows(*sym)
        sample = torch.arange(0, emb_weight.shape[0], max(1, emb_weight.shape[0] // 512))
        if torch.equal(rows.rows(sample), emb_weight[sample].float()):
            return rows
    return ExactRows.floats(emb_weight)


def convert(model, gguf: str | None) -> dict[str, int]:
    """Swap the model's projections and output layer for 4-bit ones in place; counts of layers per kind made."""
    tensors = gguf_tensors(gguf) if gguf else {}
    head = model.get_output_embeddings()
    emb = model.get_input_embeddings()
    counts: dict[str, int] = {}
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if child is head or not int4.usable(child):
                continue
            full = next((n for n, m in model.named_modules() if m is child), "")
            t = next((t for key, t in tensors.items() if full.endswith(key)), None)
            made = from_tensor(child, t) if t is not None else (int4.Int4Linear(child) if not tensors else None)
            kind = t.tensor_type.name if t is not None else "float"
            if made is None:
                counts[f"{kind} kept float"] = counts.get(f"{kind} kept float", 0) + 1
                continue
            counts[f"{kind} as {type(made).__name__}"] = counts.get(f"{kind} as {type(made).__name__}", 0) + 1
            setattr(parent, name, made)
    if head is not None and head.bias is None:
        tied = head.weight is getattr(emb, "weight", None)
        rows = exact_rows(head.weight.detach(), tensors.get("embed_tokens") if tied else None)
        two = TwoStageHead(rows, head.in_features)
        model.set_output_embeddings(two)
        if tied and isinstance(emb, torch.nn.Embedding):
            model.set_input_embeddings(TiedEmbedding(emb, two))
        counts["output layer, two-stage"] = 1
    return counts
