"""The int4 model kept beside the dequantized cache, so that only the first start converts it (int4_model.py)."""
from __future__ import annotations

import logging
import os

import torch

try:
    import fcntl
except ImportError:  # Windows: no advisory locks (as loader.py)
    fcntl = None  # type: ignore[assignment]

from . import int4, source
from .int4_model import convert
from .int8 import TiedEmbedding
from .two_stage import ExactRows, Planes, TwoStageHead

log = logging.getLogger(__name__)

KINDS: dict[str, type[int4.Int4Linear]] = {"Int4Linear": int4.Int4Linear, "Int4x2Linear": int4.Int4x2Linear}
# Bumped when what the file holds changes.
VERSION = 2  # 2: the head's exact codes are read from its planes, not saved twice


def path_for(cache: str) -> str:
    """The file beside the dequantized folder; the packed layout is torch's, per version and vector unit."""
    unit = torch.backends.cpu.get_cpu_capability()
    return f"{cache}-int4-v{VERSION}-torch{torch.__version__.split('+')[0]}-{unit}.pt"


def apply(model, gguf: str | None, cache: str | None, cache_dir: str) -> str:
    """Make the model int4 in place: from its cache file, or converted (and cached) from its GGUF; how, in words."""
    if cache is None or gguf is None:  # a model folder: rounded from its float weights at each start
        convert(model, None)
        return "converted"
    file = path_for(cache)
    if os.path.isfile(file):
        try:
            restore(model, torch.load(file, mmap=True, weights_only=True))
            return "cached"
        except Exception as e:  # a damaged file is made again rather than fatal
            log.warning("the cached int4 model at %s did not load (%s); converting again", file, e)
    with open(cache + ".lock", "a") as lock:  # one process converts; one unpacks the built-in file at a time
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(file):
            restore(model, torch.load(file, mmap=True, weights_only=True))
            return "cached"
        unpacked = gguf == source.BUILTIN
        path = source.unpack_builtin(cache_dir) if unpacked else gguf
        try:
            convert(model, path)
        finally:
            if unpacked:  # as after the first conversion: the bundle is only a step
                os.remove(path)
        save(model, file)
    return "converted"


def save(model, file: str) -> None:
    try:
        tmp = f"{file}.tmp-{os.getpid()}"
        torch.save(state(model), tmp)
        os.replace(tmp, file)
    except Exception as e:  # no cache means a slow next start, not a failure now
        log.warning("could not cache the int4 model at %s: %s", file, e)


def state(model) -> dict:
    """What restore() needs: each 4-bit layer's packed weight and scales, and the two-stage head's tables."""
    out: dict = {}
    for name, m in model.named_modules():
        if isinstance(m, int4.Int4Linear):
            out[name] = {"kind": type(m).__name__, "weight": m.weight.data, "sz": m.sz}
        elif isinstance(m, TwoStageHead):
            out[name] = {"kind": "TwoStageHead", "packed": m.stage.packed, "sz": m.stage.sz, "codes": m.exact.codes,
                         "scales": m.exact.scales, "error_norm": m.stage.error_norm, "row_norm": m.stage.row_norm,
                         "in_features": m.in_features}
    return out


def restore(model, saved: dict) -> None:
    """Swap the model's layers for the saved ones (the same model the state was taken from)."""
    emb = model.get_input_embeddings()
    head = model.get_output_embeddings()
    tied = head is not None and head.weight is getattr(emb, "weight", None)
    for name, entry in saved.items():
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        old = getattr(parent, attr)
        if entry["kind"] == "TwoStageHead":
            exact = ExactRows(entry["codes"], entry["scales"])
            planes = Planes(entry["packed"], entry["sz"], exact.vocab, float(entry["error_norm"]),
                            float(entry["row_norm"]))
            two = TwoStageHead(exact, entry["in_features"], stage=planes)
            model.set_output_embeddings(two)
            if tied and isinstance(emb, torch.nn.Embedding):
                model.set_input_embeddings(TiedEmbedding(emb, two))
        else:
            setattr(parent, attr, KINDS[entry["kind"]].restored(old, entry["weight"], entry["sz"]))
