"""The line of local requests: who starts now, alone or in the batch, and what place the others hold."""
from __future__ import annotations

import time

from ...errors import BackendError
from .batch import LazyBatch
from .jobs import ALONE, BATCHED, LATER, WAITING, Job, Queued
from .loader import Loaded

# How long a lone request on an idle model waits for company before it starts alone in generate().
# Chats sent "at once" by 4 clients reach the worker within a few ms of each other; starting the
# first alone meant prefilling its prompt twice (alone, then in the batch) and put TTFT p50 at 4
# simultaneous starts at 602 ms against 487 for `transformers serve --continuous-batching`.
# A RowBatch waits as long: prompts that join at once are prefilled together (rows.prompt_groups), the
# first one alone had cost a second prefill's fixed part (bench/RESULTS.md, "Round 8").
LINGER_S = 0.02


class Line:
    """The scheduler's line of jobs and its rules; every method is called with the scheduler's cond held."""

    jobs: list[Job]
    loaded: Loaded | None
    error: BackendError | None
    batch: LazyBatch | None
    batch_size: int

    def _in(self, *states: str) -> list[Job]:
        return [j for j in self.jobs if j.state in states]

    def _free_slots(self) -> int:
        """Requests that could start now."""
        if not self.loaded:
            return 0
        size = self.batch_size if self._can_batch() else 1
        alone = self._in(ALONE)
        if alone:  # one row's worth is taken; the rest only if it can move into the batch
            return size - 1 if alone[0].movable else 0
        return max(0, size - len(self._in(BATCHED, LATER)))

    def _announce(self) -> None:
        """Tell each job in line its place when it changes; those about to start never show as queued."""
        free = self._free_slots()
        for i, job in enumerate(self._in(WAITING)):
            pos = i + 1 - free
            if pos >= 1 and job.position != pos:
                job.position = pos
                job.out.put(Queued(pos))

    def _linger(self) -> float:
        """Seconds a lone newcomer on an idle model still waits for company (0: none)."""
        waiting = self._in(WAITING)
        if len(waiting) != 1 or len(self.jobs) != 1 or not self._can_batch():
            return 0.0
        return max(0.0, waiting[0].arrived + LINGER_S - time.monotonic())

    def _has_work(self) -> bool:
        return bool(self._in(BATCHED, LATER) or (self._in(WAITING) and (self.loaded or self.error)))

    def _pick(self) -> tuple[Job | None, list[Job]]:
        """(a job to run alone, or jobs to admit into the batch), their states set."""
        rows, later, waiting = len(self._in(BATCHED)), self._in(LATER), self._in(WAITING)
        if later:
            if rows:
                return None, []  # the batch drains first
            later[0].state = ALONE
            return later[0], []
        company = len(waiting) > 1 or self._lean()  # a RowBatch serves a lone request too
        if not rows and waiting and (waiting[0].tuned or not (company and self._can_batch())):
            job = waiting[0]
            # movable until its length is known; a tuned model's request never (its adapter is on for it alone)
            job.state, job.movable = ALONE, self._can_batch() and not job.tuned
            return job, []
        admit = []  # in arrival order, up to the first tuned model's request: it waits for the batch to drain
        for job in waiting[:max(0, self.batch_size - rows)]:
            if job.tuned:
                break
            admit.append(job)
        for job in admit:
            job.state = BATCHED
        return None, admit

    def _can_batch(self) -> bool:
        return self.batch is not None and self.batch.possible()

    def _lean(self) -> bool:
        """The batch runs decode.py's pass: a lone request is served there too, faster than by generate()."""
        return self.batch is not None and self.batch.lean
