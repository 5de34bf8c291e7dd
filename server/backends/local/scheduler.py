"""The line of local requests and the one worker thread that serves it: alone through generate(), or in the batch."""
from __future__ import annotations

import logging
import os

from ... import concurrency
from ...concurrency import RealCondition, start_os_thread
from ...errors import BackendError
from ..base import ANSWER_NUMBERS, EXTRACT_SPANS
from .generate import Moved, generation_error, run_alone, sampling
from .adapters import Adapters
from .jobs import BATCHED, LATER, WAITING, Ended, Failed, Job, Started
from .line import Line
from .batch import LazyBatch
from .loader import Loaded
from .prompt import Prompter

log = logging.getLogger(__name__)


def default_threads() -> int | None:
    """Leave a core to the server on small machines; elsewhere keep torch's own choice.

    On 2 cores, 1 torch thread gave Gemma 7.0 tok/s against 6.6 with 2 on a quiet machine, and
    7.4 against 3.1 when another process wanted a core (bench/RESULTS.md).
    """
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if cores <= 4 else None


class Scheduler(Line):
    """Every request not yet over, in arrival order, each in one state; one worker thread moves them on.

    A request with the model to itself runs through generate(), the fastest path for one stream. When
    another arrives meanwhile, the running reply moves into the continuous batch (its prompt and the
    tokens so far are prefilled there again) and the newcomer joins it; later ones join the running
    batch at its next step, those beyond batch_size wait in line. A request longer than a batch row
    runs alone in its turn, once the batch has drained. A RowBatch is made at load with the model's
    preamble kept (its KV cache let go until a request comes); transformers' batch is made when first
    needed: a server that never has two requests at once never holds it.
    """

    def __init__(self, name: str, batch_size: int, threads: int | None):
        self.name = name
        self.batch_size = max(1, int(batch_size))  # rows decoded together; 1 = one request at a time
        self.threads = threads
        self.cond = RealCondition()  # guards jobs, their states and the load outcome
        self.jobs: list[Job] = []
        self.loaded: Loaded | None = None
        self.prompter: Prompter | None = None
        self.error: BackendError | None = None
        self.closed = False
        self.batch: LazyBatch | None = None  # once the model is loaded
        self.adapters = Adapters()  # tuned models, switched on per request by the worker

    # ---- called from other threads --------------------------------------

    def start(self) -> None:
        self.thread = start_os_thread(self._worker, name=f"{self.name}-generate")

    def ready(self, loaded: Loaded | None, error: BackendError | None = None) -> None:
        """The load is over: the worker starts serving, or tells everyone waiting why it cannot."""
        batch = LazyBatch(loaded, self.batch_size) if loaded else None
        if batch is not None:  # the worker cannot touch it yet: it serves once self.loaded is set below
            self._warm(batch)
        with self.cond:
            self.loaded, self.error = loaded, error
            if loaded:
                self.prompter, self.batch = Prompter(loaded), batch
            self._announce()
            self.cond.notify_all()

    def _warm(self, batch: LazyBatch) -> None:
        """The batch's kept preamble made on the loading thread, at the worker's thread count."""
        # The first request's prompt then starts after it, as every later one does: its first token came ~1 s
        # later than the next request's on the built-in model (bench/RESULTS.md, "Round 8" and "Round 9").
        threads = self.threads or default_threads()
        if threads:
            import torch

            torch.set_num_threads(threads)
        batch.warm()

    def submit(self, job: Job) -> None:
        with self.cond:
            if self.closed:
                raise BackendError("unavailable", "The server is shutting down.")
            self.jobs.append(job)
            self._announce()  # a job that starts at once never shows as queued
            self.cond.notify_all()

    def withdraw(self, job: Job) -> None:
        """A stream left: a job still in line goes; the worker drops a running one within a token."""
        with self.cond:
            if job.state == WAITING and job in self.jobs:
                self.jobs.remove(job)
                self._announce()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            jobs, self.jobs = self.jobs, []
            self.cond.notify_all()
        for job in jobs:
            job.stop.set()
            job.out.put(Failed(BackendError("unavailable", "The server is shutting down.")))
        # Let the worker leave torch (and stop the batch) before the caller goes on: a process that exits
        # while a daemon thread is inside a forward pass can abort ("terminate called without an active exception").
        thread = getattr(self, "thread", None)
        if thread is not None and thread is not concurrency.real_threading.current_thread():
            thread.join(timeout=10)

    # ---- the worker thread ----------------------------------------------

    def _worker(self) -> None:
        """Serve the line for as long as the backend lives."""
        threads = self.threads or default_threads()
        if threads:
            import torch

            torch.set_num_threads(threads)  # per thread: the worker sets its own
        while True:
            with self.cond:
                while not self.closed:
                    linger = self._linger()
                    if self._has_work() and not linger:
                        break
                    self.cond.wait(linger or None)
                if self.closed:
                    break
                if self.error:  # the load failed: everyone waiting hears why
                    for job in self._in(WAITING):
                        job.out.put(Failed(self.error))
                        self.jobs.remove(job)
                    continue
                alone, admit = self._pick()
                self._announce()
            if alone:
                self._alone(alone)
                continue
            batch = self.batch.get() if admit and self.batch else self.batch and self.batch.made
            for job in admit:
                self._join(batch, job)
            if batch:
                for job in batch.step():
                    self._release(job)
        if self.batch and self.batch.made:
            self.batch.made.close()

    def _prepare(self, job: Job) -> None:
        """Fit and encode the job's prompt (the one tokenizing of a request) and tell its stream how it starts."""
        assert self.prompter is not None and self.loaded is not None, "jobs run once the model is loaded"
        job.prompt = self.prompter.prepare(job.messages, job.max_new)
        answer_numbers = job.params.get(ANSWER_NUMBERS)
        if answer_numbers is not None and self.loaded.transcript:  # a base model reading evidence
            from .number_guard import NumberGuard

            job.guard = NumberGuard(frozenset(answer_numbers), self.loaded.tokenizer)
        spans = job.params.get(EXTRACT_SPANS)
        if spans is not None:  # a graph build's constrained extraction
            from .span_guard import SpanGuard

            job.guard = SpanGuard(spans["passage"], spans["relations"], self.loaded.tokenizer, self.loaded.eos_ids)
        job.out.put(Started(len(job.prompt.ids), job.prompt.thinking, job.prompt.stops))

    def _join(self, batch, job: Job) -> None:
        """Start an admitted job's row, or keep it for later if it is longer than a row; it may fail instead."""
        if not batch:  # the batch could not be made after all: back in line, in its place
            with self.cond:
                job.state = WAITING
            return
        try:
            if job.stopped():
                return self._release(job)
            self._prepare(job)
            assert self.batch is not None, "a job joins a batch once the model is loaded"
            if self.batch.fits(job.fitted()):
                batch.add(job, job.fitted().ids, job.fitted().max_new, self._row_kwargs(job))
            else:
                with self.cond:
                    job.state = LATER
        except Exception as e:
            job.out.put(Failed(e if isinstance(e, BackendError) else generation_error(e)))
            self._release(job)

    def _alone(self, job: Job) -> None:
        """One request through generate(); it moves into the batch if a newcomer can join it there."""
        result = None
        try:
            assert self.batch is not None and self.loaded is not None, "jobs run once the model is loaded"
            if not job.stopped():
                if job.prompt is None:
                    self._prepare(job)
                if job.movable and not self.batch.fits(job.prompt):
                    with self.cond:
                        job.movable = False
                        self._announce()  # newcomers wait for it after all
                if self.batch and self.batch.made:
                    self.batch.made.settle()
                self.adapters.use(self.loaded.model, job.tuned)
                yield_to = self._newcomer_can_join if job.movable else None
                # A newcomer that came while the prompt was prepared: no need to prefill it twice.
                result = Moved([]) if yield_to and yield_to() else run_alone(self.loaded, job, yield_to)
                if isinstance(result, Moved):
                    p, made = job.fitted(), result.made
                    assert self.batch.made, "a reply moves only into a batch that was made"
                    self.batch.made.add(job, p.ids + made, p.max_new - len(made), self._row_kwargs(job),
                                        before=len(made))
        except Exception as e:  # never let one request kill the worker
            result = Failed(e if isinstance(e, BackendError) else generation_error(e))
        finally:
            if job.tuned:
                self._plain()
            with self.cond:
                if isinstance(result, Moved):
                    job.state = BATCHED
                elif job in self.jobs:
                    self.jobs.remove(job)
                self.cond.notify_all()
        if isinstance(result, (Ended, Failed)):  # only now: once a stream has ended, the model is free
            job.out.put(result)

    def _plain(self) -> None:
        """The plain model again after a tuned model's request; the batch and generate() expect it."""
        try:
            assert self.loaded is not None, "a tuned model's request ran on the loaded model"
            self.adapters.use(self.loaded.model, None)
        except Exception:
            log.exception("switching the tuned model's adapter off failed")

    def _release(self, job: Job) -> None:
        with self.cond:
            if job in self.jobs:
                self.jobs.remove(job)
            self.cond.notify_all()

    def _newcomer_can_join(self) -> bool:
        """Whether someone waits who could join a batch; called between tokens of a reply running alone."""
        waiting = any(j.state == WAITING for j in list(self.jobs))  # no lock: a stale answer costs one token
        return waiting and self.batch is not None and bool(self.batch.get())

    def _row_kwargs(self, job: Job) -> dict:
        from .sampling import row_kwargs

        assert self.loaded is not None, "jobs run once the model is loaded"
        return row_kwargs(**sampling(self.loaded, job.params))
