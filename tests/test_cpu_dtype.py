"""The local model's CPU dtypes: each gives fp32's greedy reply on a tiny model; auto is int4 for a GGUF on AVX-512."""
from __future__ import annotations

import pytest

from server.backends.local import cpu_dtype, loader
from server.config import parse_args
from tests.tinymodel import build

PROMPT = "The little server answers questions from phones"
TOKENS = 16
# Greedy tokens that must match fp32's. The tiny model's weights are random, so its logits hold near
# ties that rounding activations to bf16 (both paths do) can flip: bf16 first differed at token 12.
SAME = 8


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("tiny") / "plain"), base=True)


def greedy(folder: str, dtype: str, cache: str) -> tuple[list[int], object]:
    import torch

    loaded = loader.load(folder, "cpu", cache, "tiny", lambda *a: None, dtype)
    ids = loaded.tokenizer(PROMPT, return_tensors="pt").input_ids
    with torch.inference_mode():
        out = loaded.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=TOKENS,
                                    min_new_tokens=TOKENS, do_sample=False, pad_token_id=0)
    return out[0, ids.shape[1]:].tolist(), loaded


@pytest.mark.parametrize("dtype", ["bf16", "int8", "int8-head", "int4"])
def test_each_dtype_writes_the_fp32_greedy_reply(folder, tmp_path, dtype):
    want, _ = greedy(folder, "fp32", str(tmp_path))
    got, loaded = greedy(folder, dtype, str(tmp_path))
    assert loaded.dtype == dtype
    assert got[:SAME] == want[:SAME]


def test_int8_holds_every_layer_in_int8(folder, tmp_path):
    import torch

    from server.backends.local.int8 import Int8Linear

    _, loaded = greedy(folder, "int8", str(tmp_path))
    model = loaded.model
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(isinstance(m, Int8Linear) and m.weight.dtype == torch.int8 for m in linears)
    floats = sum(t.numel() for t in model.parameters() if t.is_floating_point())
    emb = model.get_input_embeddings().weight
    assert floats - emb.numel() < sum(m.weight.numel() for m in linears) / 10  # norms and the untied embedding


def test_int8_head_rounds_the_output_layer_alone(folder, tmp_path):
    import torch

    from server.backends.local.int8 import Int8Linear

    _, loaded = greedy(folder, "int8-head", str(tmp_path))
    model = loaded.model
    head = model.get_output_embeddings()
    assert isinstance(head, Int8Linear) and head.weight.dtype == torch.int8
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head]
    assert layers and all(type(m) is torch.nn.Linear and m.weight.dtype == torch.float32 for m in layers)


def test_a_tied_output_layer_and_embedding_share_one_int8_table():
    import torch

    from server.backends.local.int8 import TiedEmbedding, Int8Linear

    emb = torch.nn.Embedding(50, 8)
    head = torch.nn.Linear(8, 50, bias=False)
    head.weight = emb.weight
    q = Int8Linear(head)
    shared = TiedEmbedding(emb, q)
    ids = torch.tensor([[3, 7, 49]])
    assert not list(shared.buffers())  # nothing of its own: it reads the output layer's rows
    assert torch.allclose(shared(ids), emb(ids), atol=emb.weight.abs().max().item() / 127)


def test_a_prompt_and_a_token_agree_between_the_float_and_int8_kernels(folder, tmp_path):
    import torch

    from server.backends.local.int8 import FLOAT_FROM_ROWS

    _, loaded = greedy(folder, "int8", str(tmp_path))
    layer = loaded.model.get_output_embeddings()
    x = torch.randn(FLOAT_FROM_ROWS, layer.in_features)
    together = layer(x)  # the float path: as many rows as a prompt
    alone = torch.cat([layer(row[None]) for row in x])  # the int8 kernel, a row at a time
    assert torch.allclose(together, alone, rtol=0.02, atol=0.02 * together.abs().max().item())


def test_auto_picks_int4_for_a_gguf_on_avx512_alone_and_a_wrong_name_is_refused(monkeypatch):
    # int4 decodes 1.85x int8-head with the same answers; a model without a GGUF has no 4-bit codes (cpu_dtype.pick)
    monkeypatch.setattr(cpu_dtype, "_cpu_capability", lambda: "AVX512")
    assert cpu_dtype.pick("auto") == cpu_dtype.pick(None) == "int4"
    assert cpu_dtype.pick("auto", gguf=False) == "int8-head"
    for other in ("AVX2", "DEFAULT", "SVE256"):
        monkeypatch.setattr(cpu_dtype, "_cpu_capability", lambda: other)
        assert cpu_dtype.pick("auto") == cpu_dtype.pick("auto", gguf=False) == "fp32"
    assert cpu_dtype.pick("INT8") == "int8"
    assert cpu_dtype.pick("BF16") == "bf16"
    assert cpu_dtype.pick("INT4") == "int4"
    with pytest.raises(ValueError):
        cpu_dtype.pick("int3")
    assert parse_args(["--local-dtype", "bf16"], environ={}).local_dtype == "bf16"
    assert parse_args([], environ={"CHAT_LOCAL_DTYPE": "fp32"}).local_dtype == "fp32"
    assert parse_args(["--local-dtype", "int4"], environ={}).local_dtype == "int4"
    with pytest.raises(SystemExit):
        parse_args(["--local-dtype", "int3"], environ={})


def test_auto_runs_a_model_without_a_gguf_as_int8_head_on_avx512(folder, tmp_path, monkeypatch):
    # a folder's float weights would be rounded to 4 bits by int4, which no measurement backs
    monkeypatch.setattr(cpu_dtype, "_cpu_capability", lambda: "AVX512")
    _, loaded = greedy(folder, "auto", str(tmp_path))
    assert loaded.dtype == "int8-head"
