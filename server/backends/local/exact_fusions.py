"""Where decode.py's pass may run a model's norms and rotaries fused: only where that gives the model's own
values bit for bit, checked on a sample when the pass is built."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def rms_norm_of(module) -> tuple[torch.Tensor, float] | None:
    """(weight, eps) for F.rms_norm to stand for an RMSNorm module, if it gives the module's output bit for bit
    (Gemma's 1 + w included; 108 norms a token were ~40 % of the time beside the matmuls, at ~8 ops each)."""
    w = getattr(module, "weight", None)
    eps = getattr(module, "eps", getattr(module, "variance_epsilon", None))
    if not isinstance(w, torch.Tensor) or w.dtype != torch.float32 or w.dim() != 1 or eps is None:
        return None
    for weight in (w.detach(), 1.0 + w.detach()):
        x = torch.randn(3, 2, w.shape[0], generator=torch.Generator().manual_seed(0)) * 8
        with torch.inference_mode():
            if torch.equal(module(x), F.rms_norm(x, w.shape, weight, float(eps))):
                return weight.clone(), float(eps)
    return None


def joint_qk(decoder, attn) -> tuple[torch.Tensor | None, float] | None:
    """(the q and k norms' weights stacked per head [heads + kv heads, dim] or None where there are no such norms,
    their eps) where one norm and one rotary over q and k side by side give the model's q and k bit for bit
    (checked on a sample, the model's own rotary function against q * cos + roll(q) * signed sin); else None."""
    d, kv = decoder.head_dim, decoder.kv_heads
    heads = kv * decoder.groups
    weight, eps = None, 0.0
    if hasattr(attn, "q_norm"):
        qn, kn = decoder.norm.get(id(attn.q_norm)), decoder.norm.get(id(attn.k_norm))
        if qn is None or kn is None or qn[1] != kn[1] or qn[0].shape != (d,) or kn[0].shape != (d,):
            return None
        weight, eps = torch.cat([qn[0].expand(heads, d), kn[0].expand(kv, d)]), qn[1]
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, heads, 3, d, generator=g) * 8, torch.randn(2, kv, 3, d, generator=g) * 8
    cos, sin = torch.randn(2, 3, d, generator=g), torch.randn(2, 3, d, generator=g)
    with torch.inference_mode():
        if weight is not None:
            want_q, want_k = decoder.rope(decoder._norm(attn.q_norm, q), decoder._norm(attn.k_norm, k), cos, sin)
        else:
            want_q, want_k = decoder.rope(q, k, cos, sin)
        qk = torch.cat([q, k], 1).transpose(1, 2)
        if weight is not None:
            qk = F.rms_norm(qk, (d,), None, eps) * weight
        signed = torch.cat([-sin[..., :d // 2], sin[..., d // 2:]], -1).unsqueeze(2)
        qk = (qk * cos.unsqueeze(2) + qk.roll(d // 2, -1) * signed).transpose(1, 2)
    if torch.equal(qk[:, :heads], want_q) and torch.equal(qk[:, heads:], want_k):
        return weight, eps
    return None
