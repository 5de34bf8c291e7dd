"""The batch's own sampler draws from the same distribution as generate()'s warpers, row by row."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from server.backends.local.sampling import RowSampler, row_kwargs

VOCAB = 40
DRAWS = 20000


def generate_probs(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """The next-token distribution generate() samples from, built with its own warpers."""
    s = TemperatureLogitsWarper(temperature)(None, logits[None].clone())
    if top_k:
        s = TopKLogitsWarper(top_k)(None, s)
    if top_p < 1:
        s = TopPLogitsWarper(top_p)(None, s)
    return s.softmax(-1)[0]


def pick_tokens(scores, temperature, top_k, top_p):
    """Tokens as the batch picks them: RowSampler gets each row's settings and its scores,
    then the manager takes the argmax."""
    sampler = RowSampler()
    requests = [SimpleNamespace(has_new_token=True, state=SimpleNamespace(logit_processor_kwargs={
        "temperature": float(t), "top_k": int(k), "top_p": float(p)})) for t, k, p in zip(temperature, top_k, top_p)]
    args = sampler.prepare_tensor_args(requests, torch.empty((4, len(requests)), dtype=torch.int32))
    return sampler(None, scores.clone(), args).argmax(dim=-1)


def draws(logits, temperature, top_k, top_p, n=DRAWS):
    rows = logits[None].repeat(n, 1)
    return pick_tokens(rows, torch.full((n,), temperature), torch.full((n,), top_k, dtype=torch.int32),
                       torch.full((n,), top_p))


@pytest.mark.parametrize("temperature, top_k, top_p", [
    (1.0, 0, 1.0),  # the whole vocabulary
    (0.7, 5, 1.0),
    (1.0, 0, 0.8),  # a nucleus without a top_k
    (1.3, 10, 0.6),
    (0.5, 0, 0.95),
])
def test_draws_follow_generates_distribution(temperature, top_k, top_p):
    torch.manual_seed(0)
    logits = torch.randn(VOCAB) * 0.7
    want = generate_probs(logits, temperature, top_k, top_p)
    got = torch.bincount(draws(logits, temperature, top_k, top_p), minlength=VOCAB).float() / DRAWS
    assert not (got[want == 0] > 0).any()  # nothing outside what generate() could pick
    # Total variation distance; sampling noise for 20,000 draws over <= 40 tokens stays near 0.02.
    assert 0.5 * (got - want).abs().sum() < 0.04
    assert (want > 0).sum() > 1  # each case really samples


def test_greedy_rows_take_the_best_token_beside_sampled_rows():
    torch.manual_seed(1)
    scores = torch.randn(4, VOCAB)
    temperature = torch.tensor([0.0, 1.0, 2.0, 1.0])
    top_k = torch.tensor([1, 0, 1, 3], dtype=torch.int32)  # top_k 1 is greedy whatever the temperature
    top_p = torch.tensor([1.0, 1.0, 1.0, 1e-6])  # a tiny top_p keeps only the best
    tokens = pick_tokens(scores, temperature, top_k, top_p)
    best = scores.argmax(-1)
    assert tokens[0] == best[0] and tokens[2] == best[2] and tokens[3] == best[3]
    assert 0 <= int(tokens[1]) < VOCAB


def test_a_nucleus_wider_than_the_first_guess_is_still_exact(monkeypatch):
    from server.backends.local import sampling

    monkeypatch.setattr(sampling, "NUCLEUS_GUESS", 4)  # a flat distribution needs far more than 4
    torch.manual_seed(2)
    logits = torch.randn(VOCAB) * 0.1
    want = generate_probs(logits, 1.0, 0, 0.9)
    got = torch.bincount(draws(logits, 1.0, 0, 0.9), minlength=VOCAB).float() / DRAWS
    assert (want > 0).sum() > 4
    assert 0.5 * (got - want).abs().sum() < 0.04


def test_request_params_become_row_settings():
    assert row_kwargs(False, 0.7, 50, 0.9) == {"temperature": 0.0, "top_k": 1, "top_p": 1.0, "repetition_penalty": 1.0}
    assert row_kwargs(True, 0, None, None)["temperature"] == 0.0  # temperature 0 is greedy
    assert row_kwargs(True, None, None, None)["temperature"] == 1.0  # unset is generate()'s 1.0
    assert row_kwargs(True, 0.7, None, None) == {"temperature": 0.7, "top_k": 0, "top_p": 1.0,
                                                 "repetition_penalty": 1.0}
    assert row_kwargs(True, 1.2, 40, 0.5, 1.3) == {"temperature": 1.2, "top_k": 40, "top_p": 0.5,
                                                   "repetition_penalty": 1.3}
    assert row_kwargs(False, 1.0, None, None, 2.0)["repetition_penalty"] == 2.0  # greedy rows are penalized too
