"""A two-stage output layer: every logit from 4-bit planes, then the ones that could be the best from exact rows.

Stage one (Planes) multiplies the whole vocabulary on torch's 4-bit kernel: the Q8_0 table's own int8 codes
as two 4-bit planes (int4.planes), so it differs from the exact layer only by bf16 scales and a bf16 input.
One row of Gemma's 262,144 x 640 layer: 36 ms against fp32's 68 on this 2-core machine while loaded (one
plane, quiet: 4.75 ms against 26.7; two planes cost about twice one). Stage two recomputes from the exact
rows (the Q8_0 codes and fp16 scales: the fp32 model's own weights; or, for other models, the float rows).
Another stage one can be given (bench/int8_stage.py: fbgemm's dynamic int8 kernel, measured slower here).

Why greedy picks what the exact layer picks: the stage's bound() is an upper limit on |exact - stage one|
for every token of a row (Cauchy-Schwarz over the measured worst row error of the planes and the input's
bf16 rounding, plus the kernel's bf16 output), per row, or per row and token. The true best logit is at
least L, the largest of (exact logits, stage-one logits less the bound). refine() recomputes every token
whose stage-one logit plus the bound reaches L, so every token left unrecomputed is below the true best
and the best logit standing is exact. On the built-in model the bound is ~0.3-0.6 and 1-5 tokens a step
are recomputed. refine() runs again after the sampler's masks (number guard, span guard: a masked token
stays masked), and a repetition penalty's tokens are made exact before they are scaled. Logits left
unrecomputed (for sampling) are within the bound of exact. The tied input embedding reads the exact rows:
the fp32 model's vectors.
"""
from __future__ import annotations

import torch

from . import int4

# Tokens per block in refine(): it looks only inside the blocks whose best is within reach (as sampling.BLOCK).
BLOCK = 128
# The kernel's output is bf16: a logit near x moves by up to |x| * 2^-9 (2^-8 here to leave room for its sums).
OUT_ROUNDING = 2.0 ** -8


class ExactRows:
    """The output layer's exact rows, kept compact where a GGUF gives them so: int8 codes with an fp16 scale per 32
    inputs (Q8_0) or with one fp32 scale per row (int8-head's), else the float rows themselves. Once the head's
    planes hold the same codes (read_planes), the codes are read from there: one copy of the table."""

    def __init__(self, codes: torch.Tensor | None, scales: torch.Tensor | None):
        self.codes, self.scales = codes, scales  # [V, K] int8 or float, [V, K/32] (fp16 for a GGUF's) or [V, 1]
        self.vocab = codes.shape[0] if codes is not None else scales.shape[0]  # type: ignore[union-attr]
        self.packed: torch.Tensor | None = None

    @classmethod
    def floats(cls, w: torch.Tensor) -> ExactRows:
        return cls(w.detach().float().clone(), None)

    def read_planes(self, packed: torch.Tensor, in_features: int) -> None:
        """Drop the codes and read them from the stage-one planes (int4.planes of these very codes)."""
        if self.scales is not None and self.scales.shape[-1] > 1 and packed.shape[0] % 64 == 0 \
                and int4.layout_known():
            self.packed, self.codes = packed, None

    def _codes(self, ids: torch.Tensor) -> torch.Tensor:
        if self.packed is None:
            assert self.codes is not None
            return self.codes[ids]
        k2 = self.packed.shape[1] * 2
        flat = ids.reshape(-1)
        block, row = flat // 64, flat % 64
        # torch's packing: 64 rows a block, row r's code k in byte (k * 32 + r % 32), high nibble for r >= 32
        nibbles = self.packed.view(-1, k2, 32)[block, :, row % 32]
        c = torch.where((row >= 32).unsqueeze(1), nibbles >> 4, nibbles & 15).to(torch.int16)
        q = c[:, :k2 // 2] + 16 * (c[:, k2 // 2:] - 8)  # lo + 16 * hi: int4.planes inverted
        return q.reshape(*ids.shape, k2 // 2)

    def rows(self, ids: torch.Tensor) -> torch.Tensor:
        """fp32 rows of these token ids (any shape of ids)."""
        if self.scales is None:
            assert self.codes is not None
            return self.codes[ids]
        c = self._codes(ids).float()
        groups = self.scales.shape[-1]  # K/32 (Q8_0), or 1: a scale per row (int8-head's rows)
        return (c.view(*c.shape[:-1], groups, -1) * self.scales[ids].float().unsqueeze(-1)).view(c.shape)

    def table(self, start: int, stop: int) -> torch.Tensor:
        return self.rows(torch.arange(start, stop))


class Planes:
    """Stage one on torch's 4-bit kernel: the exact rows' int8 codes as two 4-bit planes (int4.planes)."""

    def __init__(self, packed: torch.Tensor, sz: torch.Tensor, vocab: int, error_norm: float, row_norm: float):
        self.packed, self.sz, self.vocab = packed, sz, vocab
        self.error_norm, self.row_norm = error_norm, row_norm  # the largest |w - w_kernel| and |w| over rows (L2)

    @classmethod
    def made(cls, exact: ExactRows, in_features: int) -> Planes:
        vocab = exact.vocab
        padded = -vocab % 16  # the kernel packs rows 16 at a time
        codes, scales, zeros = [], [], []
        worst, row_norm = 0.0, 0.0
        for i in range(0, vocab, int4.CHUNK_ROWS):
            w = exact.table(i, min(vocab, i + int4.CHUNK_ROWS))
            q, d = (exact.codes[i:i + w.shape[0]], exact.scales[i:i + w.shape[0]].float()) \
                if exact.scales is not None and exact.codes is not None else int8_groups(w)
            c, s, z = int4.planes(q, d)
            approx = int4.dequantize(c, s, z)
            worst = max(worst, float((approx[:, :in_features] + approx[:, in_features:] - w).norm(dim=1).max()))
            row_norm = max(row_norm, float(w.norm(dim=1).max()))
            codes.append(c)
            scales.append(s)
            zeros.append(z)
        if padded:
            codes.append(torch.full((padded, 2 * in_features), 8, dtype=torch.uint8))
            scales.append(torch.zeros(padded, 2 * in_features // int4.GROUP))
            zeros.append(torch.zeros(padded, 2 * in_features // int4.GROUP))
        packed, sz = int4.pack(torch.cat(codes), torch.cat(scales), torch.cat(zeros))
        return cls(packed, sz, vocab, worst, row_norm)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return int4.matmul(torch.cat([x, x], 1), self.packed, self.sz)[:, :self.vocab]

    def bound(self, x: torch.Tensor, approx: torch.Tensor) -> torch.Tensor:
        """Per row, an upper limit on |exact logit - approximate logit| over every token ([M])."""
        xb = x.bfloat16().float()
        inputs = (x - xb).norm(dim=1) * self.row_norm + xb.norm(dim=1) * self.error_norm
        # the largest |logit|: amax and amin over the row, where torch's aminmax(dim=1) took 0.46-0.50 ms a row of
        # 262,144 against 0.04 for the two (one thread, this 2-core machine, round 9)
        low, high = approx.amin(dim=1), approx.amax(dim=1)
        return inputs * 1.001 + torch.maximum(-low, high) * OUT_ROUNDING + 1e-4


class TwoStageHead(torch.nn.Module):
    """The output layer (and, through embedding(), the tied input embedding) over a fast first stage and exact rows.

    Stage one is the 4-bit planes unless another is given (bench/int8_stage.py's dynamic int8 one: measured
    slower here, bench/RESULTS.md "Round 6")."""

    def __init__(self, exact: ExactRows, in_features: int, stage=None):
        super().__init__()
        self.exact = exact
        self.in_features = in_features
        self.out_features = exact.vocab
        self.stage = stage if stage is not None else Planes.made(exact, in_features)
        if isinstance(self.stage, Planes):
            exact.read_planes(self.stage.packed, in_features)
        self.last: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # (x, exact mask, bound), newest call
        self.whole: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # the newest call's, all its rows

    def bound(self, x: torch.Tensor, approx: torch.Tensor) -> torch.Tensor:
        """An upper limit on |exact logit - stage one's logit|: per row ([M, 1]) or per row and token ([M, V])."""
        b = self.stage.bound(x, approx)
        return b if b.dim() == 2 else b[:, None]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        x = h.reshape(-1, self.in_features).float()
        approx = self.stage(x)
        self.last = self.whole = (x, torch.zeros_like(approx, dtype=torch.bool), self.bound(x, approx))
        self.refine(approx)  # the raw logits' best is exact, for callers that use them as they are
        return approx.view(*h.shape[:-1], self.out_features)

    def focus(self, row: int) -> None:
        """The newest call's row `row` alone, as if it had been the call (a verify's positions are shaped one by one:
        rows.RowBatch, speculation); refine() and recompute() then take that row's logits ([1, V])."""
        assert self.whole is not None
        x, exact, slack = self.whole
        self.last = (x[row:row + 1], exact[row:row + 1], slack[row:row + 1])  # views: its exact marks land in whole

    def recompute(self, scores: torch.Tensor, row: int, ids: torch.Tensor) -> None:
        """scores[row, ids] from the exact rows (the newest call's hidden state)."""
        assert self.last is not None
        x, exact, _ = self.last
        scores[row, ids] = self.exact.rows(ids) @ x[row]
        exact[row, ids] = True

    def refine(self, scores: torch.Tensor) -> None:
        """Recompute every token of `scores` (the newest call's rows, after masks) that could beat the best one.

        Masked tokens (-inf) stay masked; every other token not yet exact must still hold its approximate logit.
        The true best is at least L = the largest of (exact logits, approximate ones less the bound); a token
        not exact whose approximate logit plus the bound reaches L is recomputed, so every token that is
        left approximate is below L, below the true best, and the best exact logit is the true best.
        """
        if self.last is None or scores.shape != self.last[1].shape:
            return
        _, exact, slack = self.last
        if slack.shape[1] != 1 or scores.shape[1] % BLOCK:
            return self._refine_all(scores)
        # Only blocks of BLOCK tokens whose best reaches M - 2 * bound (M: the row's best score) can hold L's
        # token or a doubtful one (L >= M - bound; a doubtful token scores at least L - bound), so L and the
        # doubtful set are found among those alone: the same as over the whole row (_refine_all, tested), where
        # the full-vocabulary passes took ~50 ms of an 8-row step on this 2-core machine (bench/RESULTS.md,
        # "Round 7"). 3 bounds and 1e-3 rather than 2: room for float rounding in these comparisons.
        rows, vocab = scores.shape
        blocks = scores.view(rows, vocab // BLOCK, BLOCK)
        top = blocks.amax(dim=2)
        reach = top.amax(dim=1, keepdim=True) - 3 * slack - 1e-3
        row, block = (top >= reach).nonzero().unbind(1)
        s = blocks[row, block]  # [candidate blocks, BLOCK]
        e = exact.view(rows, -1, BLOCK)[row, block]
        b = slack[row]
        best = torch.where(e, s, s - b).amax(dim=1)
        floor = torch.full((rows,), float("-inf")).scatter_reduce(0, row, best, "amax")
        doubt = (s + b >= floor[row, None]) & ~e & torch.isfinite(s)
        ids = block[:, None] * BLOCK + torch.arange(BLOCK)
        for r in row[doubt.any(dim=1)].unique().tolist():
            mine = row == r
            self.recompute(scores, r, ids[mine][doubt[mine]])

    def _refine_all(self, scores: torch.Tensor) -> None:
        """refine() over every token of each row (a bound per token, or a vocabulary not in whole blocks)."""
        assert self.last is not None
        _, exact, slack = self.last
        floor = torch.where(exact, scores, scores - slack).amax(dim=1, keepdim=True)
        doubt = (scores + slack >= floor) & ~exact & torch.isfinite(scores)
        for row in doubt.any(dim=1).nonzero().squeeze(1).tolist():
            self.recompute(scores, row, doubt[row].nonzero().squeeze(1))

    def embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """The exact rows of `ids` (the tied input embedding's lookup)."""
        return self.exact.rows(ids)


def int8_groups(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Float rows as int8 codes with a scale per 32 inputs (symmetric), as a GGUF's Q8_0 holds them."""
    g = w.float().reshape(w.shape[0], -1, int4.GROUP)
    d = (g.abs().amax(-1) / 127).clamp(min=1e-12)
    return torch.round(g / d[..., None]).clamp(-127, 127).reshape(w.shape), d


def head_of(model) -> TwoStageHead | None:
    """The model's two-stage output layer, or None when its output layer is another kind."""
    head = model.get_output_embeddings() if model is not None else None
    return head if isinstance(head, TwoStageHead) else None


def exact_seen(head: TwoStageHead | None, scores: torch.Tensor, row: int, seen: torch.Tensor) -> None:
    """Make a repetition penalty's tokens exact before it scales them (the batch's sampler)."""
    if head is not None and head.last is not None and scores.shape == head.last[1].shape:
        head.recompute(scores, row, seen)


def refine_processor(model, penalty: float | None):
    """For generate(), greedy: a last logits processor that makes its pick the exact layer's; None if not needed.

    generate() applied its repetition penalty to approximate logits: those tokens get exact logits, penalized
    the same way, first (a masked one stays masked); then head.refine() as after any mask.
    """
    found = head_of(model)
    if found is None:
        return None
    head: TwoStageHead = found
    from transformers import LogitsProcessor

    class Refine(LogitsProcessor):
        def __call__(self, input_ids, scores):
            if head.last is None or scores.shape != head.last[1].shape:
                return scores
            if penalty is not None and penalty != 1.0:
                for row in range(scores.shape[0]):
                    seen = input_ids[row].unique()
                    seen = seen[torch.isfinite(scores[row, seen])]
                    head.recompute(scores, row, seen)
                    s = scores[row, seen]
                    scores[row, seen] = torch.where(s < 0, s * penalty, s / penalty)
            head.refine(scores)
            return scores

    return Refine()
