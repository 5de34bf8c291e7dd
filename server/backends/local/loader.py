"""Loading a local model: tokenizer and weights onto a device, with its stop tokens and context size."""
from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; parallel first starts there each convert on their own
    fcntl = None  # type: ignore[assignment]  # the module or None: callers test it

from ...concurrency import RealLock
from ...errors import BackendError
from . import cpu_dtype, source
from .gguf_parse import one_gguf_parse
from .progress import Progress

log = logging.getLogger(__name__)

INT4_CONVERT = ("4-bit layers from the GGUF (first run only)", 25)
INT4_CACHED = ("reading the 4-bit layers", 1)

# Tokens that end a turn in common chat formats, beside the tokenizer's own eos.
END_TOKENS = ("<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>", "<｜end▁of▁sentence｜>")


def first_line(e: BaseException) -> str:
    """The first line of an exception's message, short enough to show."""
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:300]


@dataclass
class Loaded:
    """A model in memory and what generating with it needs to know."""

    tokenizer: Any  # transformers' tokenizer and model (not followed by the type checker)
    model: Any
    device: str
    context: int  # max_position_embeddings: prompt and reply together
    eos_ids: list[int]
    transcript: bool  # no chat template of its own (a base model): prompted as a plain transcript
    dtype: str = "fp32"  # what the weights run as on a CPU (fp32, bf16, int8, int8-head, int4); a GPU's float type
    # A Rust tokenizer used from two threads at once can fail ("Already borrowed").
    tok_lock: threading.Lock = field(default_factory=RealLock)


def load(path: str | None, device: str | None, cache_dir: str, label: str, report, dtype: str | None = None) -> Loaded:
    """Load the model at `path` (None: the built-in one); report(fraction, phase) follows the progress.

    On a CPU the weights run as `dtype` (auto, fp32, bf16, int8, int8-head or int4: cpu_dtype.py); a GPU keeps its own.
    """
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # one bar of our own, not one per loading step
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError("unavailable",
                           "The local model was asked to run on CUDA, but this machine has no usable CUDA GPU.")
    gguf, folder = source.find(path)
    cpu_as = cpu_dtype.pick(dtype, gguf=gguf is not None) if device == "cpu" else None
    cache = source.cache_path(gguf, cache_dir) if gguf else None
    cached = cache and os.path.isfile(os.path.join(cache, "config.json"))
    phases: list[tuple[str, float]]
    if gguf and not cached:
        phases = [("reading the GGUF tokenizer", 30), ("dequantizing the GGUF model (first run only)", 55),
                  ("caching for later starts", 4), ("moving to " + device, 1)]
    else:
        phases = [("reading the tokenizer", 1), ("reading the weights", 3), ("moving to " + device, 0.5)]
    if gguf == source.BUILTIN and not cached:
        phases.insert(0, ("unpacking the built-in model", 3))
    if cpu_as in ("int8", "int8-head"):  # Gemma 3 270M: 33 s of rounding on this 2-core machine while loaded ~15
        phases.append(("quantizing to int8", 4))
    cached4 = False
    if cpu_as == "int4":  # Gemma 3 270M: 23 s from the GGUF on this 2-core machine while loaded ~3, 1 s cached
        from . import int4_cache

        cached4 = cache is not None and os.path.isfile(int4_cache.path_for(cache))
        phases.append(INT4_CACHED if cached4 else INT4_CONVERT)
    progress = Progress(label, phases, report)
    try:
        if cached and gguf and cache:  # (a cache is a GGUF's)
            try:
                tokenizer, model = _from_folder(cache, progress)
            except Exception as e:  # a damaged cache is rebuilt rather than fatal
                log.warning("cached model at %s did not load (%s); converting the GGUF again", cache, first_line(e))
                shutil.rmtree(cache, ignore_errors=True)
                tokenizer, model = _convert(gguf, cache_dir, cache, progress, path is None)
        elif gguf and cache:
            tokenizer, model = _convert(gguf, cache_dir, cache, progress, path is None)
        else:
            assert folder is not None, "source.find gives a GGUF file or a folder"
            tokenizer, model = _from_folder(folder, progress)
        progress.begin("moving to " + device)
        if device != "cpu":
            dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float16
            model = model.to(device=device, dtype=dtype)
        elif cpu_as is not None:  # a CPU's choice
            if cpu_as in ("int8", "int8-head"):
                progress.begin("quantizing to int8")
            if cpu_as == "int4":
                from . import int4_cache

                progress.begin(INT4_CACHED[0] if cached4 else INT4_CONVERT[0])
                model = model.to(dtype=torch.float32)
                log.info("4-bit layers %s", int4_cache.apply(model, gguf, cache, cache_dir))
                cpu_dtype.settle(model)
            else:
                model = cpu_dtype.apply(model, cpu_as)
        loaded = _settle(tokenizer, model.eval(), device, builtin=path is None)
        loaded.dtype = cpu_as or str(model.dtype).removeprefix("torch.")
    except BaseException:
        progress.finish(False)
        raise
    progress.finish(True)
    return loaded


def load_error(e: BaseException, path: str | None) -> BackendError:
    """A sentence for the user about a failed load."""
    if isinstance(e, BackendError):
        return e
    where = path or "the built-in model"
    try:
        import torch

        oom = isinstance(e, (MemoryError, torch.OutOfMemoryError))
    except Exception:
        oom = isinstance(e, MemoryError)
    if oom:
        return BackendError("unavailable", f"Not enough memory to load the model at {where}.")
    log.debug("load failure", exc_info=e)
    return BackendError("unavailable", f"Could not load the model at {where}: {first_line(e)}")


def _gguf_file(gguf: str, cache_dir: str, progress: Progress) -> str:
    if gguf != source.BUILTIN:
        return gguf
    progress.begin("unpacking the built-in model")
    return source.unpack_builtin(cache_dir)


def _convert(gguf: str, cache_dir: str, cache: str, progress: Progress, builtin: bool):
    """Convert and cache a GGUF once: a second process starting meanwhile (tests in parallel, several
    servers on one machine) waits for the first and reads its cache instead of writing the same files."""
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache + ".lock", "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if os.path.isfile(os.path.join(cache, "config.json")):
            return _from_folder(cache, progress)
        return _from_gguf(_gguf_file(gguf, cache_dir, progress), cache, progress, builtin)


def _from_folder(folder: str, progress: Progress):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress.begin("reading the tokenizer")
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    progress.begin("reading the weights")
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype="auto")
    return tokenizer, model


def _from_gguf(gguf: str, cache: str, progress: Progress, builtin: bool):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.split(os.path.abspath(gguf))
    with one_gguf_parse():
        progress.begin("reading the GGUF tokenizer")
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        progress.begin("dequantizing the GGUF model (first run only)")
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    progress.begin("caching for later starts")
    try:
        _save_cache(tokenizer, model, cache)
        if builtin:  # the unpacked bundle is only a step towards the cache
            os.remove(gguf)
    except Exception as e:  # no cache means a slow next start, not a failure now
        log.warning("could not cache the model at %s: %s", cache, first_line(e))
    return tokenizer, model


def _save_cache(tokenizer, model, cache: str) -> None:
    tmp = f"{cache}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    if getattr(model, "hf_quantizer", None) is not None:
        # save_pretrained refuses a GGUF-loaded model while it still claims to be quantized.
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(cache, ignore_errors=True)
    os.replace(tmp, cache)  # a folder with config.json is complete: a crash mid-save leaves only tmp
    log.info("cached the model at %s", cache)


def eos_ids(tokenizer, model) -> list[int]:
    """The tokens that end a reply: the model's and tokenizer's eos and the end-of-turn tokens it knows."""
    vocab = tokenizer.get_vocab()
    eos = model.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None:
        eos.append(tokenizer.eos_token_id)
    return list(dict.fromkeys(eos + [vocab[t] for t in END_TOKENS if t in vocab]))


def _settle(tokenizer, model, device: str, builtin: bool) -> Loaded:
    """Stop tokens, context size and prompt format, once the model is in memory."""
    eos = eos_ids(tokenizer, model)
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    context = getattr(cfg, "max_position_embeddings", None) or min(tokenizer.model_max_length, 8192)
    # The built-in model is a base model whatever its cache says (older caches carry a turn template of ours).
    transcript = builtin or not getattr(tokenizer, "chat_template", None)
    return Loaded(tokenizer, model, device, context, eos, transcript)
