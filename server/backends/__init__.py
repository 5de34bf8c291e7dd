"""Backends by name: which are live follows from the configuration."""
from __future__ import annotations

import logging

from .base import Backend, Chunk, Registry, Status  # noqa: F401
from .openai_compat import DEEPSEEK_MODELS, OpenAICompatBackend

log = logging.getLogger(__name__)


def _deepseek(cfg):
    if not cfg.deepseek_api_key:
        return None
    model = cfg.model if cfg.backend == "deepseek" and cfg.model else DEEPSEEK_MODELS[0]
    return OpenAICompatBackend("deepseek", cfg.deepseek_base_url, cfg.deepseek_api_key, models=DEEPSEEK_MODELS,
                               default_model=model, timeout=cfg.upstream_timeout)


def _openai(cfg):
    if not (cfg.openai_api_key or cfg.base_url):
        return None
    model = cfg.model if cfg.backend == "openai" else None
    backend = OpenAICompatBackend("openai", cfg.base_url, cfg.openai_api_key, models=[model] if model else None,
                                  default_model=model, timeout=cfg.upstream_timeout)
    if not model and not cfg.base_url:
        backend.default_model = "gpt-4o-mini"  # api.openai.com lists hundreds; pick a sensible one
    return backend


def _local(cfg):
    wanted = cfg.backend == "local" or cfg.local_model
    if not wanted and (cfg.backend or cfg.deepseek_api_key or cfg.openai_api_key or cfg.base_url):
        return None  # a remote backend is configured: do not load a model nobody asked for
    from .local import LocalBackend  # torch is slow to import: only when needed

    path = cfg.model if cfg.backend == "local" else cfg.local_model
    return LocalBackend(path, device=cfg.local_device, cache_dir=cfg.cache_dir,
                        batch_size=cfg.local_batch_size, threads=cfg.torch_threads, dtype=cfg.local_dtype)


FACTORIES = {"deepseek": _deepseek, "openai": _openai, "local": _local}


def build_registry(cfg) -> Registry:
    """Create every backend the configuration makes live; the configured one is the default."""
    if cfg.backend and cfg.backend not in FACTORIES:
        raise SystemExit(f"Unknown backend {cfg.backend!r}; choose one of {', '.join(FACTORIES)}.")
    registry = Registry()
    for name, factory in FACTORIES.items():
        backend = factory(cfg)
        if backend is not None:
            registry.add(backend, default=(name == cfg.backend))
    if cfg.backend and cfg.backend not in registry.backends:
        need = {"deepseek": "DEEPSEEK_API_KEY", "openai": "OPENAI_API_KEY or --base-url"}[cfg.backend]
        raise SystemExit(f"The {cfg.backend} backend needs {need}.")
    return registry
