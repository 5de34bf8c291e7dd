"""The local model's number format on a CPU: fp32, bf16 or int8 weights, chosen by --local-dtype.

int8 is weight-only: every nn.Linear keeps int8 weights with one float scale per output row and
multiplies them with torch's own kernel (_weight_int8pack_mm, bf16 activations, fp32 accumulation);
the output layer is included and shares its int8 rows with the input embedding (tied in Gemma), so
the 262,144 x 640 table is 168 MB once instead of 671 MB. Measured on this project's 2-core AVX-512
machine (one thread, best of N while the machine was loaded ~15, so ratios, not times): a 2,048 x 640
projection took 0.064 ms a token in int8 against 0.168 in fp32 and 0.151 in bf16; the output layer
455 ms against 784 and 598. fbgemm's dynamic int8 (activations quantized too) was faster still but
packing Gemma's output layer took 79 s at each start, and its 7-bit activations changed the greedy
reply from the second token. Prompts (many rows at once) take the float path: the int8 kernel is a
matrix-vector one (128 rows: 4.4 ms against 1.9 in fp32).
"""
from __future__ import annotations

DTYPES = ("auto", "fp32", "bf16", "int8")


def pick(asked: str | None) -> str:
    """The dtype to run in: the one asked for, or for "auto" the one that keeps the model's answers."""
    asked = (asked or "auto").lower()
    if asked not in DTYPES:
        raise ValueError(f"unknown local dtype {asked!r}: choose one of {', '.join(DTYPES)}")
    if asked != "auto":
        return asked
    # fp32 until a faster format keeps the built-in model's answers: int8 decoded 1.4x fp32 here but answered
    # 17 of bench/evidence_eval.py's 20 Chinese questions against fp32's 19 (goal: at most one fewer), and
    # bf16 is not measured yet (bench/RESULTS.md, "CPU speed").
    return "fp32"


def apply(model, dtype: str):
    """The model in `dtype` (fp32, bf16 or int8) on the CPU, in place where it can be; returns it."""
    import torch

    if dtype == "bf16":
        return model.to(dtype=torch.bfloat16)
    model = model.to(dtype=torch.float32)
    if dtype == "int8":
        quantize(model)
    return model


def quantize(model) -> None:
    """Swap every nn.Linear for an Int8Linear, and a tied input embedding for one reading the same int8 rows.

    An untied embedding stays float: it is only looked up, a row per token, and one row's outlier can
    take a per-row int8 scale (the tiny test model's constant 4.0 beside 0.02 weights zeroed the rest).
    """
    import torch

    from .int8 import Int8Embedding, Int8Linear

    emb, head = model.get_input_embeddings(), model.get_output_embeddings()
    tied = head is not None and head.weight is getattr(emb, "weight", None)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                setattr(parent, name, Int8Linear(child))
    if tied and isinstance(emb, torch.nn.Embedding):
        model.set_input_embeddings(Int8Embedding(emb, model.get_output_embeddings()))
    # The float tensors left (norms, an untied embedding) may be views of the safetensors file's memory
    # map, which then stays mapped whole, and read through once by the rounding: copies let it go
    # (the built-in model's RSS after the load: 1,808 MB without, 749 with).
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            t.data = t.data.clone()
    # The output layer no longer holds a float weight to tie: nothing may re-tie or save it while serving.
    for cfg in {id(c): c for c in (model.config, _text_config(model.config))}.values():
        cfg.tie_word_embeddings = False


def _text_config(cfg):
    return cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
