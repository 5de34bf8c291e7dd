"""The two-stage output layer with bench/int8_stage.py's first stage (fbgemm's dynamic int8 kernel, measured against
the 4-bit planes): its bound holds on every token, so greedy picks what the exact layer picks, on random rows and on
a tiny model; a bound too small is caught."""
from __future__ import annotations

import pytest
import torch

from bench import int8_stage
from bench.int8_stage import DynamicInt8
from server.backends.local import loader
from server.backends.local.two_stage import ExactRows, Planes, TwoStageHead
from tests.tinymodel import build

pytestmark = pytest.mark.skipif(int8_stage.engine() is None, reason="fbgemm's dynamic int8 kernel is x86 only")
PROMPT = "The little server answers questions from phones"


def q8_rows(vocab=3000, k=64, seed=0, close=False):
    """Q8_0-like exact rows: int8 codes with an fp16 scale per 32 inputs, scales spread as a GGUF's are; `close`:
    rows that differ from one another by a few codes, so the best logits are near ties that rounding flips."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randint(-127, 128, (vocab, k), generator=g)
    d = torch.rand(vocab, k // 32, generator=g) * 0.01 + 0.0005
    if close:
        q = (q[:1] * 0.9 + torch.randint(-4, 5, (vocab, k), generator=g)).round()
        d = d[:1].expand(vocab, -1).clone()
        d[:, 0] = 0.05  # one group with a large scale: the row's int8 scale rounds the others coarsely
    return ExactRows(q.clamp(-127, 127).to(torch.int8), d.half())


def inputs(rows: int, k: int, g: torch.Generator) -> torch.Tensor:
    """Hidden states with an outlier or two, as a model's final norm gives them (the 7-bit grid is coarse)."""
    x = torch.randn(rows, k, generator=g) * 3
    x[:, 5] *= 20
    return x


def int8_head(rows: ExactRows) -> TwoStageHead:
    stage = DynamicInt8.made(rows)
    assert stage is not None
    return TwoStageHead(rows, 64, stage=stage)


def test_the_int8_stages_bound_holds_and_greedy_is_the_exact_argmax():
    rows = q8_rows()
    layer = int8_head(rows)
    w = rows.table(0, rows.vocab)
    g = torch.Generator().manual_seed(1)
    recomputed = 0
    for m in (1, 3, 8):
        for _ in range(60):
            x = inputs(m, 64, g)
            x[0] *= 0.05  # a row far smaller than the others: the one input scale is the largest row's
            exact = x @ w.t()
            approx = layer.stage(x)
            assert bool(((approx - exact).abs() <= layer.bound(x, approx)).all())
            got = layer(x)
            assert torch.equal(got.argmax(1), exact.argmax(1))
            best = got.argmax(1)
            assert torch.allclose(got[torch.arange(m), best], exact[torch.arange(m), best], rtol=1e-5, atol=1e-5)
            assert layer.last is not None
            recomputed += int(layer.last[1].sum())
    assert recomputed < 0.2 * 180 * 4 * rows.vocab  # stage one does the work: few tokens recomputed
    assert rows.codes is not None  # the exact codes stay the Q8_0 table's own


def test_a_bound_that_leaves_out_the_rows_rounding_is_exceeded_and_greedy_goes_wrong():
    rows = q8_rows(seed=2, close=True)
    layer = int8_head(rows)
    stage = layer.stage
    stage.row_error, stage.error_norm = torch.zeros(rows.vocab), 0.0  # the rows' rounding to int8 left out
    w = rows.table(0, rows.vocab)
    g = torch.Generator().manual_seed(3)
    exceeded = wrong = 0
    for _ in range(200):
        x = inputs(1, 64, g)
        exact = x @ w.t()
        approx = stage(x)
        exceeded += int(((approx - exact).abs() > stage.bound(x, approx)).any())
        wrong += int(layer(x).argmax() != exact.argmax())
    assert exceeded and wrong  # this test's checks see a bound that is not one


def test_the_planes_and_the_int8_stage_pick_alike():
    rows = q8_rows(seed=4)
    planes = TwoStageHead(q8_rows(seed=4), 64)
    fast = int8_head(rows)
    assert isinstance(planes.stage, Planes)
    x = inputs(4, 64, torch.Generator().manual_seed(5))
    assert torch.equal(planes(x).argmax(1), fast(x).argmax(1))
    ids = torch.tensor([0, 31, 2999])
    assert torch.equal(planes.embedding(ids), fast.embedding(ids))  # the tied embedding: the same exact rows


def test_a_kernel_that_rounds_otherwise_gives_no_stage(monkeypatch):
    real = DynamicInt8.kernel
    monkeypatch.setattr(DynamicInt8, "kernel", lambda self, x: real(self, x) * 1.01)
    assert DynamicInt8.made(q8_rows(seed=6)) is None


def test_a_tiny_models_greedy_on_the_int8_stage_is_the_exact_layers(tmp_path):
    folder = build(str(tmp_path / "plain"), base=True)
    got = loader.load(folder, "cpu", str(tmp_path), "tiny", lambda *a: None, "int4")
    head = got.model.get_output_embeddings()
    assert isinstance(head, TwoStageHead)
    head.stage = DynamicInt8.made(head.exact)
    assert head.stage is not None
    ids = got.tokenizer(PROMPT, return_tensors="pt").input_ids
    exact = torch.nn.Linear(head.in_features, head.out_features, bias=False)
    exact.weight.data = head.exact.table(0, head.out_features)
    tokens = ids
    with torch.inference_mode():
        for _ in range(12):  # greedy through the model, each step's pick against the exact layer's on its state
            hidden = got.model.model(input_ids=tokens).last_hidden_state[:, -1:]
            logits = got.model.lm_head(hidden)[:, 0]
            assert int(logits.argmax()) == int(exact(hidden[:, 0]).argmax())
            tokens = torch.cat([tokens, logits.argmax(1, keepdim=True)], 1)
