"""The two-stage output layer's refine() looks only inside blocks of tokens within reach of the best: it must
recompute exactly the tokens that a pass over the whole vocabulary does, masks, penalties and flat rows included."""
from __future__ import annotations

import torch

from server.backends.local.sampling import penalize
from server.backends.local.two_stage import BLOCK, ExactRows, TwoStageHead, exact_seen

VOCAB = 32 * BLOCK


def _head(seed: int) -> tuple[TwoStageHead, torch.Tensor]:
    torch.manual_seed(seed)
    w = torch.randn(VOCAB, 64) * 0.05
    w[:BLOCK] *= 0.01  # a block of near-equal logits: many tokens in doubt at once
    return TwoStageHead(ExactRows.floats(w), 64), w


def _both(layer: TwoStageHead, x: torch.Tensor, shape) -> tuple:
    """(scores, exact mask) after refine() and after the whole-vocabulary pass, from the same first stage."""
    approx = layer.stage(x)
    bound = layer.bound(x, approx)
    shape(approx)
    out = []
    for refine in (layer.refine, layer._refine_all):
        scores = approx.clone()
        layer.last = (x, torch.zeros_like(scores, dtype=torch.bool), bound)
        shape(scores, layer)
        refine(scores)
        out.append((scores, layer.last[1].clone()))
    return out


def test_refine_in_blocks_recomputes_what_the_whole_row_pass_does():
    layer, w = _head(0)
    recomputed = 0
    for trial in range(120):
        rows = 1 + trial % 8
        x = torch.randn(rows, 64) * (10 if trial % 3 else 0.05)  # every third step a flat distribution
        masked = torch.rand(rows, VOCAB) < 0.5
        masked[0] = trial % 5 == 0  # now and then a row with every token masked
        seen = torch.randint(0, VOCAB, (30,)).unique()

        def shape(scores, head=None):
            if head is not None:  # a repetition penalty on row 0, as shape_logits gives it
                exact_seen(head, scores, 0, seen)
                penalize(scores, 0, seen, 1.3)
            scores[1:][masked[1:]] = float("-inf")  # a guard's mask on the other rows
            if trial % 5 == 0:
                scores[0] = float("-inf")

        (blocks, e_blocks), (whole, e_whole) = _both(layer, x, shape)
        assert torch.equal(e_blocks, e_whole)
        assert torch.equal(blocks, whole)
        recomputed += int(e_blocks.sum())
        exact = x @ w.t()
        s = exact[0, seen]
        exact[0, seen] = torch.where(s < 0, s * 1.3, s / 1.3)
        exact[1:][masked[1:]] = float("-inf")
        live = [r for r in range(rows) if not (r == 0 and trial % 5 == 0)]
        assert torch.equal(blocks[live].argmax(1), exact[live].argmax(1))
    assert recomputed > 120  # the doubtful sets were not empty: the comparison saw tokens recomputed
