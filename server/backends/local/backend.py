"""LocalBackend: a local Hugging Face model (folder or .gguf, or the built-in Gemma 3 270M) shared by every session."""
from __future__ import annotations

import copy
import logging
import os
import time

from ...concurrency import HEAVY_LOADS, Empty, RealLock, start_os_thread
from ..base import Chunk, Status
from . import loader, source
from .jobs import Ended, Failed, Job, Queued, Started
from .scheduler import Scheduler
from .text import Detokenizer, StopText, ThinkSplitter

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often a waiting stream looks at its cancel event
# How often a generating stream takes the tokens made meanwhile. Waking it per token instead cost
# the tiny test model 23 % of its tokens/s (a thread switch and the GIL per token); the relay
# coalesces tokens over 30 ms anyway.
TAKE_S = 0.02


class LocalBackend:
    """One local model; requests take turns in a visible line, generating in a real OS thread."""

    blocking = True

    def __init__(self, path: str | None, *, device: str | None = None, cache_dir: str | None = None,
                 name: str = "local", batch_size: int = 1, threads: int | None = None, dtype: str | None = None):
        self.name = name
        self.path = os.path.expanduser(path) if path else None
        self.device_pref = device
        self.dtype = dtype  # on a CPU: auto, fp32, bf16 or int8 (cpu_dtype.py)
        self.cache_dir = cache_dir or source.default_cache_dir()
        self.default_model = source.display_name(self.path)
        self.label = source.BUILTIN_LABEL if self.path is None else f"local model ({self.default_model})"
        self.hint = source.BUILTIN_HINT if self.path is None else ""
        self.scheduler = Scheduler(name, batch_size, threads)
        self._lock = RealLock()  # guards the status
        self._status = Status(model_ready=False, progress=0.0, message=f"{self.default_model} is not loaded yet")
        self._started = False

    # ---- what tests and benchmarks read of the loaded model --------------

    @property
    def loaded(self):
        return self.scheduler.loaded

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    @property
    def model(self):
        return self.loaded.model

    @property
    def base_model(self) -> bool:
        """Prompted as a plain transcript (no chat template): the built-in model, or a loaded base model."""
        loaded = self.scheduler.loaded
        return loaded.transcript if loaded else self.path is None

    def loaded_device(self) -> str:
        """The device the loaded model runs on (e.g. "cuda", "cpu"); "cpu" until it has loaded."""
        loaded = self.scheduler.loaded
        return loaded.device if loaded else "cpu"

    # ---- protocol -------------------------------------------------------

    def models(self) -> list[str]:
        return [self.default_model] + self.scheduler.adapters.names()

    def tuned(self) -> list[dict]:
        """The tuned models served on this model: [{model, tuned_from}]."""
        return self.scheduler.adapters.describe()

    def add_tuned(self, name: str, path: str) -> None:
        """Serve a LoRA adapter folder as the model `name` (loaded onto this model at its first request)."""
        self.scheduler.adapters.add(name, path, self.default_model)

    def remove_tuned(self, name: str) -> None:
        self.scheduler.adapters.remove(name)

    def source_folder(self) -> str:
        """The folder transformers loads this model from: the converted cache of a GGUF, or the folder itself."""
        gguf, folder = source.find(self.path)
        if gguf:
            return source.cache_path(gguf, self.cache_dir)
        assert folder is not None, "source.find gives a GGUF file or a folder"
        return folder

    def status(self) -> Status:
        with self._lock:
            return copy.copy(self._status)

    def start(self) -> None:
        """Begin loading in a real OS thread; returns at once. Safe to call again."""
        with self._lock:
            if self._started:
                return
            self._started = True
        start_os_thread(self._load, name=f"{self.name}-load")
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.close()

    def stream(self, messages: list[dict], *, model: str | None = None, params: dict | None = None,
               cancel=None, budget: int = 1024):
        """Yield queued positions, then text chunks, then a chunk with finish_reason and usage.

        The reply takes at most params["max_tokens"] tokens, or `budget` when the request names none;
        the prompt is fitted to leave room for them on the worker thread, tokenized once.
        """
        self.start()
        if self.scheduler.error:
            raise self.scheduler.error
        tuned = self.scheduler.adapters.get(model) if model != self.default_model else None
        job = Job(list(messages), dict(params or {}), budget, cancel, tuned)
        self.scheduler.submit(job)
        detok = splitter = stop = None
        prompt_tokens = 0
        try:
            while True:
                if job.stopped():
                    return  # the caller reports "cancelled"; the worker drops the job within a token
                try:
                    event = job.out.get(timeout=TAKE_S if job.woken else POLL_S)
                except Empty:
                    event = None
                if isinstance(event, Queued):
                    yield Chunk(queued=event.position)
                elif isinstance(event, Started):  # always before the first ids
                    prompt_tokens = event.prompt_tokens
                    detok, splitter = Detokenizer(self.tokenizer), ThinkSplitter(event.thinking)
                    stop = StopText(event.stops) if event.stops else None
                elif isinstance(event, Failed):
                    raise event.error
                ended = event if isinstance(event, Ended) else None  # always after the last ids
                ids = job.take() if detok else None
                if (ids or ended) and detok and splitter:  # (both made at Started, which comes first)
                    with self.loaded.tok_lock:
                        text = detok.add(ids) if ids else ""
                        text += detok.flush() if ended else ""
                    if stop:
                        text = stop.feed(text) + (stop.flush() if ended else "")
                        if stop.hit:  # the model began the next turn: the reply ends here, and generation with it
                            job.stop.set()
                            ended = Ended("stop", job.taken)
                    for kind, piece in splitter.feed(text) + (splitter.flush() if ended else []):
                        yield Chunk(text=piece, kind=kind)
                if ended:
                    yield Chunk(finish_reason=ended.reason,
                                usage={"prompt_tokens": prompt_tokens, "completion_tokens": ended.tokens})
                    return
        finally:
            job.stop.set()
            self.scheduler.withdraw(job)

    # ---- loading --------------------------------------------------------

    def _report(self, frac: float, phase: str) -> None:
        with self._lock:
            if not self._status.model_ready and not self._status.error:
                self._status.progress = round(frac, 3)
                self._status.message = f"Loading {self.default_model}: {phase} ({frac:.0%})"

    def _load(self) -> None:
        """Load tokenizer and model; on failure keep a readable error for status() and stream()."""
        t0 = time.monotonic()
        try:
            with HEAVY_LOADS:
                loaded = loader.load(self.path, self.device_pref, self.cache_dir, self.default_model, self._report,
                                     self.dtype)
        except BaseException as e:
            err = loader.load_error(e, self.path)
            log.error("local model failed to load: %s", err.message)
            with self._lock:
                self._status = Status(model_ready=False, progress=None, message=err.message, error=True)
            self.scheduler.ready(None, err)  # after the status: a stream that hears of the error finds it there
            return
        log.info("%s ready on %s (%s) in %.1f s", self.default_model, loaded.device, loaded.dtype,
                 time.monotonic() - t0)
        self.scheduler.ready(loaded)  # before the status: whoever sees "ready" finds the prompter and batch made
        with self._lock:
            self._status = Status(model_ready=True, progress=1.0,
                                  message=f"{self.default_model} is ready ({loaded.device})")
