"""A decoder layer's projections, MLP and norms as decode.py's pass calls them.

On int4 a layer's q/k/v and its MLP's gate/up run as one kernel call each (int4_fused.py); q and k are normed and
rotated as one tensor where that gives the model's own values bit for bit (exact_fusions.joint_qk). Layers whose
rows are not computed independently run apart where a row must get its values alone (Projections._lin).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .int4 import Int4Linear, Int4x2Linear
from .two_stage import TwoStageHead

# Layers whose rows are computed independently, bit for bit whatever their number: torch's 4-bit kernel gives each row
# its own chain of fused multiply-adds over the inputs in order (int4mm_kernel.cpp, blocks of 4 rows; checked on every
# layer shape of the built-in model for 1-5 rows). verify() and prefills of short prompts run any other layer apart.
ROW_EXACT: tuple[type, ...] = (Int4Linear, Int4x2Linear)
# Below this many rows torch's fp32 matmul (MKL) may sum in another order: on 2,048 x 640 and 640 x 2,048 layers every M
# from 1 to 15 differed in the last bits from the same rows inside a larger M in "Round 8", M 1 to 3 on torch 2.13
# (2026-12-08). A group holding a prompt this short (after its start) runs the layers that are not ROW_EXACT prompt by
# prompt (Decoder.prefill); a group of longer ones runs them over all its rows.
SMALL_MATMUL = 16


class Projections:
    """The parts of Decoder that call the model's linear layers and norms."""

    qkv: list
    gate_up: list
    joint: list
    norm: dict
    head_dim: int
    kv_heads: int
    split: bool  # in verify(): layers that are not ROW_EXACT run one position at a time
    apart: list[int] | None  # in a prefill of short prompts: each row's own tokens, over which those layers run
    real: torch.Tensor | None  # in a padded prefill on the 4-bit kernel's path: (rows, tokens), True at a prompt's own

    def _lin(self, module, x: torch.Tensor) -> torch.Tensor:
        """module(x); a layer that is not ROW_EXACT (fp32 MKL, int8, LoRA) runs where its rows get their values alone:
        in verify() one position at a time, in a prefill of short prompts (`apart`) each prompt over its own tokens
        (a pad's output is zero: no prompt's position reads it)."""
        own = self.apart
        if isinstance(module, ROW_EXACT + (TwoStageHead,)):
            return self._exact(module, x)
        if not (self.split or own):
            return module(x)
        if not own:
            return torch.cat([module(x[:, j:j + 1]) for j in range(x.shape[1])], 1)
        ys = [module(x[r:r + 1, :n]) for r, n in enumerate(own)]
        out = ys[0].new_zeros(*x.shape[:2], ys[0].shape[-1])
        for r, (y, n) in enumerate(zip(ys, own)):
            out[r, :n] = y[0]
        return out

    def _exact(self, module, x: torch.Tensor) -> torch.Tensor:
        """A row-exact layer's module(x); in a padded prefill on the 4-bit kernel's path (`real`) over the prompts' own
        tokens alone, as (tokens, 1, K): the kernel's path, and each row's values, whatever the rows; pads get zeros."""
        real = self.real
        if real is None:
            return module(x)
        y = module(x[real].unsqueeze(1))
        out = y.new_zeros(*x.shape[:-1], y.shape[-1])
        out[real] = y[:, 0]
        return out

    def _qkv(self, i: int, attn, h: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The layer's q, k and v projections of h: one 4-bit kernel call where they stack (int4_fused.py)."""
        fused = self.qkv[i]
        if fused is None:
            return self._lin(attn.q_proj, h), self._lin(attn.k_proj, h), self._lin(attn.v_proj, h)
        return self._exact(fused[0], h).split(fused[1], -1)

    def _joint(self, i: int, attn, h: torch.Tensor, turn) -> tuple[torch.Tensor, ...]:
        """q, k, v (rows, heads, tokens, dim) with q and k normed and rotated as one tensor: 2 norms and 2 rotary
        calls of ~9 ops each become one of each (the same values, bit for bit: exact_fusions.joint_qk checks)."""
        b, n = h.shape[:2]
        fused = self.qkv[i]
        if fused is None:
            qk, v = torch.cat([self._lin(attn.q_proj, h), self._lin(attn.k_proj, h)], -1), self._lin(attn.v_proj, h)
        else:
            qk, v = self._exact(fused[0], h).split([fused[1][0] + fused[1][1], fused[1][2]], -1)
        qk = qk.view(b, n, -1, self.head_dim)
        joint = self.joint[i]
        assert joint is not None
        weight, eps = joint
        if weight is not None:
            qk = F.rms_norm(qk, (self.head_dim,), None, eps) * weight
        cos, sin = turn
        qk = qk * cos + qk.roll(self.head_dim // 2, -1) * sin  # rotate_half(x) * sin, its minus signs in sin
        qk = qk.transpose(1, 2)
        heads = qk.shape[1] - self.kv_heads
        return qk[:, :heads], qk[:, heads:], v.view(b, n, -1, self.head_dim).transpose(1, 2)

    def _mlp(self, i: int, mlp, h: torch.Tensor) -> torch.Tensor:
        """The layer's MLP, its gate and up projections in one 4-bit kernel call where they stack."""
        fused = self.gate_up[i]
        if fused is None:
            return self._lin(mlp, h)
        gate, up = self._exact(fused[0], h).split(fused[1], -1)
        return self._lin(mlp.down_proj, mlp.act_fn(gate) * up)

    def _norm(self, module, x: torch.Tensor) -> torch.Tensor:
        """The module's RMSNorm in one fused op where that gives its very result (fp32), else the module itself."""
        fused = self.norm.get(id(module))
        if fused is None or x.dtype != torch.float32:
            return module(x)
        return F.rms_norm(x, fused[0].shape, fused[0], fused[1])
