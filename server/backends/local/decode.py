"""The local model's forward pass for serving: rows of a batch over a KV cache of their own, without HF's generic work.

transformers' forward rebuilds both attention masks, both rotary tables and a dynamic cache at each token,
and its continuous batching adds a paged cache and a scheduler: for the built-in Gemma 3 270M on one
core that was 16-17 ms a token beside the matmuls for one row, and 85 ms of forward plus 32 ms of
bookkeeping for eight (bench/RESULTS.md, "Where a decode step goes"). This pass calls the model's own
modules (its embedding, norms, projections, MLP and output layer, so int8 layers, LoRA wrappers and
every dtype run as they are) and does the rest itself: one cache tensor per layer, rows packed at the
front, a mask only where some key is out of reach, and the rotary functions of the model's own code.
The layers' projections, MLP and norms are called as projections.py says (int4's stacked kernel calls, q and k
normed and rotated as one tensor, layers that are not row-exact run apart where a row must get its values alone).
verify() runs one row's newest token and prompt lookup's drafts (lookup.py) in one pass, each position's logits
those of its own step.
Architectures: Gemma 3 (text) and the Llama-like Qwen2; others keep transformers' paths (supported()).
"""
from __future__ import annotations

import inspect
import sys

import torch
import torch.nn.functional as F

from . import int4
from .exact_fusions import joint_qk, rms_norm_of
from .int4_fused import fuse
from .projections import SMALL_MATMUL, Projections

# Positions the cache grows by: it is allocated as rows and lengths are reached, so a server that only
# ever answers one short request holds a few MB of it, not the 590 MB of 8 full rows.
PAGE = 256
ARCHITECTURES = ("gemma3_text", "qwen2")


def supported(model) -> bool:
    """Whether this pass computes what the model's own forward does."""
    cfg = model.config
    return (getattr(cfg, "model_type", None) in ARCHITECTURES and not getattr(cfg, "attn_logit_softcapping", None)
            and not getattr(cfg, "final_logit_softcapping", None)
            and not getattr(cfg, "use_bidirectional_attention", False)
            and hasattr(getattr(model, "model", None), "layers"))


class Decoder(Projections):
    """One model's forward over its own KV cache: slot i of the cache is row i of the batch."""

    def __init__(self, model, max_len: int, preamble: list[int] | None = None):
        self.model, self.body, self.max_len = model, model.model, max_len
        # Tokens every prompt of this model starts with (prompt.Prompter.preamble): prefilled once, on their own,
        # and each prompt that starts with them is prefilled from there (the same values, whether kept or made).
        self.preamble = list(preamble or [])
        self.kept: list[torch.Tensor] = []  # the preamble's keys then values, one (kv heads, tokens, dim) a layer
        cfg = model.config
        self.layers = list(self.body.layers[: cfg.num_hidden_layers])
        self.types = list(getattr(cfg, "layer_types", None) or ["full_attention"] * len(self.layers))
        self.rope = sys.modules[type(self.layers[0]).__module__].apply_rotary_pos_emb  # the model's own
        self.by_type = "layer_type" in inspect.signature(self.body.rotary_emb.forward).parameters
        self.windows = [getattr(layer.self_attn, "sliding_window", None) for layer in self.layers]
        attn = self.layers[0].self_attn
        self.kv_heads, self.head_dim = cfg.num_key_value_heads, attn.head_dim
        self.groups = cfg.num_attention_heads // cfg.num_key_value_heads
        self.sandwich = hasattr(self.layers[0], "pre_feedforward_layernorm")  # Gemma's norms around each block
        self.norm = {id(m): rms_norm_of(m) for m in model.modules() if type(m).__name__.endswith("RMSNorm")}
        self.qkv = [fuse([layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj])
                    for layer in self.layers]
        self.gate_up = [fuse([layer.mlp.gate_proj, layer.mlp.up_proj])
                        if all(hasattr(layer.mlp, a) for a in ("act_fn", "down_proj")) else None
                        for layer in self.layers]
        self.joint = [joint_qk(self, layer.self_attn) for layer in self.layers]
        self.k: list[torch.Tensor] = []
        self.v: list[torch.Tensor] = []
        self.rows = self.length = 0  # the cache's capacity
        self.dtype = model.dtype if model.dtype.is_floating_point else torch.float32
        self.split, self.apart, self.real = False, None, None  # how layers run over a pass's rows (projections.py)

    def close(self) -> None:
        self.k, self.v, self.rows, self.length = [], [], 0, 0

    def _room(self, rows: int, length: int) -> None:
        """Grow the cache to hold `rows` rows of `length` positions, keeping what it holds."""
        if rows <= self.rows and length <= self.length:
            return
        rows, length = max(rows, self.rows), min(self.max_len, max(self.length, -(-length // PAGE) * PAGE))
        dtype = self.dtype
        shape = (rows, self.kv_heads, length, self.head_dim)
        # zeros: a key never written is read (masked) by the attention kernel, and must not be NaN
        fresh = [torch.zeros(shape, dtype=dtype) for _ in range(2 * len(self.layers))]
        for old, new in zip(self.k + self.v, fresh):
            new[: old.shape[0], :, : old.shape[2]] = old
        self.k, self.v = fresh[: len(self.layers)], fresh[len(self.layers):]
        self.rows, self.length = rows, length

    @torch.inference_mode()
    def move(self, src: int, dst: int, length: int) -> None:
        """Copy row src's cache into slot dst (rows stay packed at the front when one leaves)."""
        for c in self.k + self.v:
            c[dst, :, :length] = c[src, :, :length]

    def start(self, ids: list[int]) -> int:
        """Where a prompt's own prefill starts: after the preamble if it begins with it (and goes on), else at 0."""
        k = len(self.preamble)
        return k if 0 < k < len(ids) and ids[:k] == self.preamble else 0

    @torch.inference_mode()
    def keep(self, slot: int = 0) -> None:
        """The preamble prefilled alone (a prompt of its own) in free slot `slot`, its keys and values kept; once."""
        start = len(self.preamble)
        if self.kept or not start:
            return
        self._room(slot + 1, start)
        self._forward(torch.tensor([self.preamble]), torch.arange(start)[None], slice(slot, slot + 1), start,
                      prefill=True, lens=[start])
        self.kept = [c[slot, :, :start].clone() for c in self.k + self.v]

    @torch.inference_mode()
    def prefill(self, slot: int, prompts: list[list[int]]) -> torch.Tensor:
        """Write prompts, all with one start(), into slots slot, slot + 1, ... as one batch; the logits of each one's
        last position (rows, vocab). Shorter prompts are padded at their end: a query attends only to keys at or
        before its position (causal, and the window), so the pads change no prompt's values, and the cache past a
        row's length is masked in each step until that row's own tokens overwrite it. With a prompt under
        SMALL_MATMUL tokens among them, layers that are not row-exact run prompt by prompt (projections.py)."""
        start, n, rows = self.start(prompts[0]), max(len(p) for p in prompts), slice(slot, slot + len(prompts))
        self._room(slot + len(prompts), n)
        if start:
            self.keep(slot)
            for c, kept in zip(self.k + self.v, self.kept):
                c[rows, :, :start] = kept
        x = torch.tensor([p[start:] + p[-1:] * (n - len(p)) for p in prompts])
        pos = torch.arange(start, n).expand(len(prompts), n - start)
        own = [len(p) - start for p in prompts]
        self.apart = own if len(prompts) > 1 and min(own) < SMALL_MATMUL else None
        if len(set(own)) > 1 and int4.path(n - start) == 0:  # the 4-bit kernel's cost is its rows': pads are left out
            self.real = torch.arange(n - start) < torch.tensor(own)[:, None]
        try:
            return self._forward(x, pos, rows, n, prefill=True, lens=[len(p) for p in prompts])
        finally:
            self.apart = self.real = None

    @torch.inference_mode()
    def step(self, tokens: list[int], positions: list[int]) -> torch.Tensor:
        """One token for each of the first len(tokens) rows, at its position; their logits (rows, vocab)."""
        n = len(tokens)
        self._room(n, max(positions) + 1)
        return self._forward(torch.tensor(tokens).unsqueeze(1), torch.tensor(positions).unsqueeze(1),
                             slice(0, n), max(positions) + 1, prefill=False)

    @torch.inference_mode()
    def verify(self, tokens: list[int], position: int) -> torch.Tensor:
        """Row 0's tokens at positions position, position + 1, ... in one pass (speculation's check); the logits of
        each (tokens, vocab), each bit for bit what step() gives for that token after the ones before it."""
        n = len(tokens)
        self._room(1, position + n)
        return self._forward(torch.tensor([tokens]), torch.arange(position, position + n)[None], slice(0, 1),
                             position + n, prefill=False, every=True)

    def _masks(self, pos: torch.Tensor, keys: int, prefill: bool) -> dict:
        """Per window size (None: full attention), an additive mask (rows, 1, queries, keys), or None where none is
        needed: every key up to each query's position in reach (a prompt from position 0 then runs is_causal)."""
        out: dict[int | None, torch.Tensor | None] = {}
        for w in set(self.windows):
            if (w is None or keys <= w) and (int(pos[0, 0]) == 0 if prefill else int(pos.min()) + 1 == keys):
                out[w] = None
                continue
            j = torch.arange(keys)
            q = pos.unsqueeze(-1)  # (rows, queries, 1)
            m = j <= q
            if w is not None:
                m &= q - j < w
            # additive (0 or -inf), made once a step: a boolean one is turned into this in each layer's call
            out[w] = torch.zeros(m.shape, dtype=self.dtype).masked_fill_(~m, float("-inf")).unsqueeze(1)
        return out

    def _forward(self, ids: torch.Tensor, pos: torch.Tensor, rows: slice, keys: int, prefill: bool,
                 lens: list[int] | None = None, every: bool = False) -> torch.Tensor:
        """Logits of each row's last position, or with `every` (verify(): one row) of each position, computed as
        step() computes one: each query attends alone over the keys up to it, layers not ROW_EXACT row by row."""
        self.split = every
        x = self.body.embed_tokens(ids)
        if self.by_type:
            rot = {t: self.body.rotary_emb(x, pos, t) for t in set(self.types)}
        else:
            rot = dict.fromkeys(set(self.types), self.body.rotary_emb(x, pos))
        turn, half = {}, self.head_dim // 2
        if any(self.joint):  # the joint rotary's tables, for the (rows, tokens, heads, dim) layout: sin signed
            turn = {t: (c.unsqueeze(2), torch.cat([-s[..., :half], s[..., half:]], -1).unsqueeze(2))
                    for t, (c, s) in rot.items()}
        if every:  # each position's masks as its own step makes them
            steps = [self._masks(pos[:, j:j + 1], keys - ids.shape[1] + j + 1, False) for j in range(ids.shape[1])]
        masks = self._masks(pos[:1] if prefill else pos, keys, prefill)  # a prompt's mask is every row's
        b, n = ids.shape
        at = torch.arange(b)
        end = pos[:, -1]
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            h = self._norm(layer.input_layernorm, x)
            if self.joint[i] is not None:
                q, k, v = self._joint(i, attn, h, turn[self.types[i]])
            else:
                q, k, v = self._qkv(i, attn, h)
                q = q.view(b, n, -1, self.head_dim).transpose(1, 2)
                k = k.view(b, n, -1, self.head_dim).transpose(1, 2)
                v = v.view(b, n, -1, self.head_dim).transpose(1, 2)
                if hasattr(attn, "q_norm"):
                    q, k = self._norm(attn.q_norm, q), self._norm(attn.k_norm, k)
                cos, sin = rot[self.types[i]]
                q, k = self.rope(q, k, cos, sin)
            kc, vc = self.k[i], self.v[i]
            if prefill or every:  # the rows' prompts from where they start
                kc[rows, :, keys - n:keys] = k
                vc[rows, :, keys - n:keys] = v
            else:  # each row's one new key at its own position
                kc[at, :, end] = k[:, :, 0]
                vc[at, :, end] = v[:, :, 0]
            if every:
                w = self.windows[i]
                o = torch.cat([self._attend(attn, q[:, :, j:j + 1], kc[rows, :, :keys - n + j + 1],
                                            vc[rows, :, :keys - n + j + 1], steps[j][w], False) for j in range(n)], 2)
            else:
                o = self._attend(attn, q, kc[rows, :, :keys], vc[rows, :, :keys], masks[self.windows[i]], prefill,
                                 lens)
            o = self._lin(attn.o_proj, o.transpose(1, 2).reshape(b, n, -1))
            if self.sandwich:
                x = x + self._norm(layer.post_attention_layernorm, o)
                h = self._mlp(i, layer.mlp, self._norm(layer.pre_feedforward_layernorm, x))
                x = x + self._norm(layer.post_feedforward_layernorm, h)
            else:
                x = x + o
                x = x + self._mlp(i, layer.mlp, self._norm(layer.post_attention_layernorm, x))
        if every:
            return self._lin(self.model.lm_head, self._norm(self.body.norm, x))[0].float()
        x = self._norm(self.body.norm, x[:, -1:] if lens is None else x[at, torch.tensor(lens) - 1 - keys + n][:, None])
        return self.model.lm_head(x)[:, 0].float()

    def _attend(self, attn, q, k, v, mask, prefill: bool, lens: list[int] | None = None) -> torch.Tensor:
        """sdpa as transformers calls it for these shapes: grouped heads shared, causal for a prompt. Prompts of
        several lengths attend one by one over their own: sdpa's sums over a padded row run in another order
        (its vectorized tail), which moved a shorter prompt's values in their last bits."""
        if prefill and lens is not None and len(set(lens)) > 1:
            o = torch.zeros_like(q)  # a pad's output is never read by a prompt's own positions
            skip = k.shape[2] - q.shape[2]  # the preamble's keys, before the queries
            for r, n in enumerate(lens):
                o[r, :, :n - skip] = self._attend(attn, q[r:r + 1, :, :n - skip], k[r:r + 1, :, :n], v[r:r + 1, :, :n],
                                                  None if mask is None else mask[..., :n - skip, :n], True)[0]
            return o
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=prefill, scale=attn.scaling,
                                                  enable_gqa=self.groups > 1)
        if prefill or self.groups == 1:
            if self.groups > 1:
                k, v = k.repeat_interleave(self.groups, 1), v.repeat_interleave(self.groups, 1)
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=attn.scaling)
        b, heads, _, d = q.shape  # one query per row: a key head's query heads as its queries, the mask shared
        o = F.scaled_dot_product_attention(q.reshape(b, self.kv_heads, self.groups, d), k, v, attn_mask=mask,
                                           scale=attn.scaling)
        return o.reshape(b, heads, 1, d)
