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
from .int8_stage import DynamicInt8
from .two_stage import ExactRows, Planes, TwoStageHead

log = logging.getLogger(__name__)

KINDS: dict[str, type[int4.Int4Linear]] = {"Int4Linear": int4.Int4Linear, "Int4x2Linear": int4.Int4x2Linear}
# Bumped when what the file holds changes.
VERSION = 3  # 2: the head's exact codes are read from its planes, not saved twice; 3: its stage one may be int8


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
            restore(model, read(file), file)
            return "cached"
        except Exception as e:  # a damaged file is made again rather than fatal
            log.warning("the cached int4 model at %s did not load (%s); converting again", file, e)
    with open(cache + ".lock", "a") as lock:  # one process converts; one unpacks the built-in file at a time
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(file):
            restore(model, read(file), file)
            return "cached"
        unpacked = gguf == source.BUILTIN
        path = source.unpack_builtin(cache_dir) if unpacked else gguf
        try:
            convert(model, path)
        finally:
            if unpacked:  # as after the first conversion: the bundle is only a step
                os.remove(path)
        save(model, file)
        if os.path.isfile(file):
            exact_rows_from(model, read(file))
    return "converted"


def read(file: str) -> dict:
    """The file's tensors, mapped: a page is read (and counted in RSS) when first used."""
    return torch.load(file, mmap=True, weights_only=True)


def exact_rows_from(model, saved: dict) -> None:
    """The head's exact int8 codes from the saved file, as a start from the cache has them: pages of the file
    (only the rows used are read), not 168 MB of memory made by the conversion."""
    for name, m in model.named_modules():
        if isinstance(m, TwoStageHead) and m.exact.codes is not None and name in saved:
            m.exact.codes = saved[name]["codes"]


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
            out[name] = {"kind": "TwoStageHead", "codes": m.exact.codes, "scales": m.exact.scales,
                         "in_features": m.in_features, **stage_state(m.stage)}
    return out


def restore(model, saved: dict, file: str | None = None) -> None:
    """Swap the model's layers for the saved ones (the same model the state was taken from).

    The int8 rows that fbgemm packs are read from a second mapping of `file`, let go once packed: fbgemm
    keeps its own copy, and pages of a mapping still held would stay in RSS (168 MB)."""
    emb = model.get_input_embeddings()
    head = model.get_output_embeddings()
    tied = head is not None and head.weight is getattr(emb, "weight", None)
    for name, entry in saved.items():
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        old = getattr(parent, attr)
        if entry["kind"] == "TwoStageHead":
            exact = ExactRows(entry["codes"], entry["scales"])
            again = read(file)[name] if file is not None and entry.get("stage") == "int8" else entry
            two = TwoStageHead(exact, entry["in_features"], stage=restored_stage(again, exact))
            del again
            model.set_output_embeddings(two)
            if tied and isinstance(emb, torch.nn.Embedding):
                model.set_input_embeddings(TiedEmbedding(emb, two))
        else:
            setattr(parent, attr, KINDS[entry["kind"]].restored(old, entry["weight"], entry["sz"]))


def stage_state(stage) -> dict:
    """The head's stage one as saved: the 4-bit planes, or the int8 rows fbgemm packs again at each start."""
    if isinstance(stage, Planes):
        return {"stage": "planes", "packed": stage.packed, "sz": stage.sz, "error_norm": stage.error_norm,
                "row_norm": stage.row_norm}
    weight, _ = stage.packed.unpack()
    return {"stage": "int8", "rows": weight.int_repr(), "row_scales": weight.q_per_channel_scales().float(),
            "row_error": stage.row_error, "row_norm": stage.row_norm}


def restored_stage(entry: dict, exact: ExactRows):
    """The saved stage one; where the int8 kernel is not usable now, the planes, made again."""
    if entry.get("stage") == "planes":
        return Planes(entry["packed"], entry["sz"], exact.vocab, float(entry["error_norm"]), float(entry["row_norm"]))
    stage = DynamicInt8.packed_from(entry["rows"], entry["row_scales"], entry["row_error"], float(entry["row_norm"]))
    return stage if stage is not None and stage.agrees(exact) else Planes.made(exact, entry["in_features"])
