"""Per-row temperature, top-k, top-p and repetition penalty: the draw of every local path (RowBatch, generate() on a
CPU), and RowSampler for transformers' continuous batching."""
from __future__ import annotations

import torch
from transformers.generation.continuous_batching.cb_logits_processors import ContinuousBatchingLogitsProcessorList
from transformers.generation.logits_process import LogitsProcessorList

from .two_stage import exact_seen

KWARGS = {"temperature": float, "top_k": int, "top_p": float, "repetition_penalty": float}
GREEDY = {"temperature": 0.0, "top_k": 1, "top_p": 1.0, "repetition_penalty": 1.0}
# Candidates looked at for a row with top_p but no top_k; a nucleus wider than this falls back to a full sort.
NUCLEUS_GUESS = 1024
# Scores per block in best() and argmax(): torch's topk and argmax walk a 262,144-entry row at 0.6 and 0.37 ms
# on one core, its max over blocks of 128 at 0.02 ms (bench/RESULTS.md, "Where a decode step goes").
BLOCK = 128


def row_kwargs(do_sample: bool, temperature: float | None, top_k: int | None, top_p: float | None,
               repetition_penalty: float | None = None) -> dict:
    """One request's sampling as RowSampler reads it: temperature 0 is greedy, top_k 0 is no limit."""
    penalty = {"repetition_penalty": float(repetition_penalty or 1.0)}
    if not do_sample or temperature == 0 or top_k == 1:
        return {**GREEDY, **penalty}
    return {"temperature": float(1.0 if temperature is None else temperature), "top_k": int(top_k or 0),
            "top_p": float(1.0 if top_p is None else top_p), **penalty}


def penalize(scores: torch.Tensor, row: int, seen: torch.Tensor, penalty: float) -> None:
    """generate()'s repetition penalty on one row: every token already in its sequence scores lower."""
    s = scores[row, seen]
    scores[row, seen] = torch.where(s < 0, s * penalty, s / penalty)


def argmax(scores: torch.Tensor) -> torch.Tensor:
    """scores.argmax(-1), the same ids (the first of equal maxima too), found through the maxima of blocks."""
    rows, vocab = scores.shape
    if vocab % BLOCK or vocab < 16 * BLOCK:
        return scores.argmax(dim=-1)
    blocks = scores.view(rows, vocab // BLOCK, BLOCK)
    block = blocks.amax(dim=-1).argmax(dim=-1)  # the first block holding a row's maximum
    inside = blocks[torch.arange(rows), block].argmax(dim=-1)
    return block * BLOCK + inside


def best(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """scores.topk(k): the k best of each row, best first, looked for only in the k blocks with the best maxima."""
    rows, vocab = scores.shape
    if vocab % BLOCK or k * BLOCK * 8 > vocab:
        return scores.topk(k, dim=-1)
    blocks = scores.view(rows, vocab // BLOCK, BLOCK)
    chosen = blocks.amax(dim=-1).topk(k, dim=-1).indices  # every one of the k best lies in one of these
    values, at = blocks.gather(1, chosen.unsqueeze(-1).expand(rows, k, BLOCK)).view(rows, -1).topk(k, dim=-1)
    return values, chosen.gather(1, at // BLOCK) * BLOCK + at % BLOCK


def draw_tokens(scores: torch.Tensor, temperature: torch.Tensor, top_k: torch.Tensor, top_p: torch.Tensor):
    """(rows that sample, their tokens); greedy rows (temperature 0 or top_k 1) are left out.

    As in generate(): logits / temperature, keep the top_k best (0 = all), then the smallest set of
    those whose probability reaches top_p, and draw from what is left. Nothing here sorts the whole
    vocabulary unless a row's top_p reaches past its best NUCLEUS_GUESS tokens.
    """
    vocab = scores.size(-1)
    k = top_k.long()
    k = torch.where((k <= 0) | (k > vocab), torch.full_like(k, vocab), k)
    sampled = (temperature > 0) & (k != 1)
    rows = sampled.nonzero().squeeze(1)
    tokens = torch.empty(rows.numel(), dtype=torch.long, device=scores.device)
    if rows.numel() == 0:
        return rows, tokens
    free = (k[rows] == vocab) & (top_p[rows] >= 1)
    if free.any():  # the whole vocabulary: invert the cumulative distribution at a uniform draw
        sub = rows[free]
        cdf = (scores[sub] / temperature[sub].unsqueeze(1)).softmax(dim=-1).cumsum(dim=-1)
        u = torch.rand(sub.numel(), 1, device=scores.device) * cdf[:, -1:]
        tokens[free] = torch.searchsorted(cdf, u).squeeze(1).clamp_(max=vocab - 1)
    if not free.all():
        sub = rows[~free]
        mine = scores if sub.numel() == scores.size(0) else scores[sub]  # every row: no copy of 1 MB a row
        tokens[~free] = _draw_best(mine, temperature[sub].unsqueeze(1), k[sub], top_p[sub])
    return rows, tokens


def _draw_best(scores, temperature, k, top_p, widest: int | None = None) -> torch.Tensor:
    """One draw per row from its top k candidates, cut to top_p, looking at no more candidates than needed."""
    vocab = scores.size(-1)
    if widest is None:
        widest = int(k.max())
        widest = min(widest, NUCLEUS_GUESS) if widest == vocab else widest
    values, candidates = best(scores, widest)  # best first; dividing by a temperature keeps the order
    values = (values / temperature).masked_fill(
        torch.arange(widest, device=scores.device).unsqueeze(0) >= k.unsqueeze(1), float("-inf"))
    # A row with a top_k is renormalised over its k; a row without one keeps its share of the whole vocabulary.
    norm = values.logsumexp(dim=-1, keepdim=True)
    unlimited = k == vocab
    if unlimited.any():
        norm = torch.where(unlimited.unsqueeze(1), (scores / temperature).logsumexp(dim=-1, keepdim=True), norm)
    probs = (values - norm).exp()
    if widest < vocab and bool((unlimited & (probs.sum(dim=-1) < top_p)).any()):
        return _draw_best(scores, temperature, k, top_p, widest=vocab)  # the nucleus reaches past the candidates
    before = probs.cumsum(dim=-1) - probs  # drop a candidate once the better ones reach top_p; the best stays
    probs = probs.masked_fill(before >= top_p.unsqueeze(1), 0.0)
    choice = torch.multinomial(probs, num_samples=1)
    return candidates.gather(1, choice).squeeze(1)


class RowSampler(ContinuousBatchingLogitsProcessorList):
    """Chooses each sampling row's token and leaves only it standing, so the manager's greedy pick takes it.

    transformers' own per-request warpers sort the whole vocabulary twice per row and step and then
    draw from all of it: for Gemma's 262,144 entries that is ~40 ms a row on one core, as long as the
    model's forward pass for four rows (bench/RESULTS.md). The manager must be built with
    do_sample=False so that it takes the argmax of what this returns.
    """

    def __init__(self, head=None):  # noqa: D107 - the parent would build processors from a generation config
        self.logits_processor = LogitsProcessorList()
        self.tensors_required = len(KWARGS)
        self.supported_keys = dict(KWARGS)
        self.ignored_keys = set()
        self.do_processing = True
        self.guards = {}  # request id -> NumberGuard (Batch.add); read on the manager's thread
        self.head = head  # a two-stage output layer (two_stage.py): its logits are made exact where they count

    def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
        """Rows without a request (padding) are greedy."""
        for i, key in enumerate(KWARGS):
            int32_tensor[i].copy_(_encode(key, [GREEDY[key]]))

    def prepare_tensor_args(self, requests_in_batch, arg_storage: torch.Tensor) -> torch.Tensor:
        states = [r.state for r in requests_in_batch if r.has_new_token]
        rows = [s.logit_processor_kwargs for s in states]
        for i, key in enumerate(KWARGS):
            arg_storage[i, : len(rows)] = _encode(key,
                                                  [row.get(key, GREEDY[key]) for row in rows]).to(arg_storage.device)
        # The tokens of each penalized row so far, for __call__ at this step (only this processor needs them).
        self.penalized = [(i, s, rows[i]["repetition_penalty"]) for i, s in enumerate(states)
                          if rows[i].get("repetition_penalty", 1.0) != 1.0]
        guards = dict(self.guards)  # a copy: Batch.add and the end of a row change it on the worker thread
        self.guarded = [(i, guards[s.request_id]) for i, s in enumerate(states)
                        if s.request_id in guards] if guards else []
        return arg_storage

    def __call__(self, input_ids, scores: torch.Tensor, args: torch.Tensor) -> torch.Tensor:
        n = scores.size(0)
        # The row's input this step is its newest token, which the manager may not have recorded yet.
        penalized = [(i, torch.tensor(sorted({*state.initial_tokens, *state.generated_tokens, int(input_ids[i])}),
                                      device=scores.device), penalty)
                     for i, state, penalty in getattr(self, "penalized", ())]
        shape_logits(scores, self.head, penalized,
                     [(i, guard, int(input_ids[i])) for i, guard in getattr(self, "guarded", ())])
        rows, tokens = draw_tokens(scores, args[0, :n].view(torch.float32), args[1, :n],
                                   args[2, :n].view(torch.float32))
        if rows.numel():  # greedy rows keep their scores: the manager's argmax is their pick
            scores[rows] = float("-inf")
            scores[rows, tokens] = 0.0
        return scores


def shape_logits(scores: torch.Tensor, head, penalized: list, guarded: list) -> None:
    """A step's logits before the draw, in place: each penalized row's (row, seen ids, penalty) lowered, each
    guarded row's (row, guard, newest token) masked, then a two-stage output layer's doubtful logits made exact
    (after the masks: the best allowed token is the exact layer's). RowSampler and RowBatch both call it."""
    for i, ids, penalty in penalized:
        exact_seen(head, scores, i, ids)  # the penalty scales exact logits, not first-stage ones
        penalize(scores, i, ids, penalty)
    for i, guard, newest in guarded:
        guard.observe(newest)
        guard.apply(scores[i])
    if head is not None:
        head.refine(scores)


def _encode(key: str, values: list) -> torch.Tensor:
    """Values of one argument as the manager stores them: one int32 tensor for all, floats as their bits."""
    if KWARGS[key] is float:
        return torch.tensor(values, dtype=torch.float32).view(torch.int32)
    return torch.tensor(values, dtype=torch.int32)
