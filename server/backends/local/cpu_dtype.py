"""The local model's number format on a CPU: fp32, bf16, int8 or int4 weights, chosen by --local-dtype.

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

int8-head rounds the output layer (and the embedding tied to it) alone and keeps every layer's
projections in fp32: the output layer is 168M of the built-in model's 268M weights and the largest
cost of a token, while a scale per row in the layers' MLP up/down projections changed greedy replies
(bench/int8_variants.py; the bf16 rounding of the kernel's input and sums did not).

int4 (int4_model.py) runs the layers on torch's 4-bit kernel fed from the GGUF's own blocks, and the output
layer in two stages (two_stage.py): it decodes fastest, its prompts are slower (pick() weighs both).
"""
from __future__ import annotations

DTYPES = ("auto", "fp32", "bf16", "int8", "int8-head", "int4")


def pick(asked: str | None, gguf: bool = True) -> str:
    """The dtype to run in: the one asked for, or for "auto" the fastest measured one that keeps the answers
    (`gguf`: whether the model comes from a GGUF, whose own 4-bit codes int4 runs)."""
    asked = (asked or "auto").lower()
    if asked not in DTYPES:
        raise ValueError(f"unknown local dtype {asked!r}: choose one of {', '.join(DTYPES)}")
    if asked != "auto":
        return asked
    # int4 on AVX-512 for a GGUF's model. Round 12 (bench/RESULTS.md), the built-in model, int4 / int8-head in one
    # run, load 1-3: a lone greedy reply 1.85x (27.4 against 14.8 tok/s; llama.cpp 0.99x against 0.52x: int4 alone
    # checks prompt lookup's drafts in one pass), a sampled one 1.43x; 8 greedy rows of 48 tokens 1.04x (49.4
    # against 47.4 tok/s); peak RSS 1,354 MB against 2,294. It loses where prompts are most of the work: a short
    # prompt's first token 1.31-1.34x later (212 against 162 ms), a grounded one's 1.08x (1,208 against 1,118), 8
    # sessions of ~6-token replies 0.72-0.80x (each ~12-token prompt goes through the 4-bit kernel alone), and the
    # first start once (45.6 s against 20.6; 3.3 s against 3.4 from the cache). Answers: the same 42 grounded
    # replies, and 22 of bench.questions' 36 right against 21 (three replies differ). A model without a GGUF would
    # be rounded to 4 bits from its floats, which is not measured: int8-head there (the output layer alone in int8;
    # full int8 lost two of 20 Chinese answers, bench/RESULTS.md "Which rounding loses the answers"). Elsewhere
    # (AVX2, ARM) neither kernel is measured: fp32.
    if _cpu_capability() != "AVX512":
        return "fp32"
    return "int4" if gguf else "int8-head"


def _cpu_capability() -> str:
    """torch's name for the vector instructions its CPU kernels use here: DEFAULT, AVX2, AVX512, SVE256..."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


def apply(model, dtype: str, gguf: str | None = None):
    """The model in `dtype` (fp32, bf16, int8 or int4) on the CPU, in place where it can be; returns it.

    int4 takes the codes of `gguf` (the file the model was converted from) where they fit (int4_model.py).
    """
    import torch

    if dtype == "bf16":
        return model.to(dtype=torch.bfloat16)
    model = model.to(dtype=torch.float32)
    if dtype in ("int8", "int8-head"):
        quantize(model, layers=dtype == "int8")
    elif dtype == "int4":
        from . import int4_model

        int4_model.convert(model, gguf)
        settle(model)
    return model


def quantize(model, layers: bool = True) -> None:
    """Swap every nn.Linear (or with layers=False the output layer alone) for an Int8Linear, and a tied input
    embedding for one reading the same int8 rows.

    An untied embedding stays float: it is only looked up, a row per token, and one row's outlier can
    take a per-row int8 scale (the tiny test model's constant 4.0 beside 0.02 weights zeroed the rest).
    """
    import torch

    from .int8 import TiedEmbedding, Int8Linear

    emb, head = model.get_input_embeddings(), model.get_output_embeddings()
    tied = head is not None and head.weight is getattr(emb, "weight", None)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear and (layers or child is head):
                setattr(parent, name, Int8Linear(child))
    if tied and isinstance(emb, torch.nn.Embedding):
        model.set_input_embeddings(TiedEmbedding(emb, model.get_output_embeddings()))
    settle(model)


def settle(model) -> None:
    """After the output layer was replaced: copies of the float tensors left, and nothing re-ties the layer."""
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
