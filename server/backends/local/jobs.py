"""One local request as the worker and its stream share it: an explicit state and typed events."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ...concurrency import RealEvent, RealLock, RealQueue

WAITING, ALONE, BATCHED, LATER = "waiting", "alone", "batched", "later"


@dataclass
class Queued:
    """The request waits in line at this position (1 = next)."""

    position: int


@dataclass
class Started:
    """Generation began: the prompt's size and whether it opened a <think> block."""

    prompt_tokens: int
    thinking: bool
    stops: tuple[str, ...] = ()


@dataclass
class Ended:
    """The reply is over ("stop" or "length") after this many tokens; always after the last ids."""

    reason: str
    tokens: int


@dataclass
class Failed:
    """The request failed; the error is safe to show."""

    error: Exception


@dataclass
class Woken:
    """The first token ids are ready to take; later ones are taken every TAKE_S without a wake-up."""


@dataclass
class Job:
    """One request: what to generate, where it stands, and the real queue its events come back through.

    state: WAITING in line; ALONE on the generate() path; BATCHED as a row of the continuous batch;
    LATER admitted but longer than a batch row, to run alone once the batch drains.
    """

    messages: list[dict]
    params: dict
    budget: int  # reply tokens when the request names no max_tokens
    cancel: object  # the caller's threading.Event
    tuned: object = None  # adapters.Tuned: a tuned model's request, run alone with its adapter on
    state: str = WAITING
    prompt: object = None  # the fitted Prompt, once prepared (on the worker thread)
    guard: object = None  # number_guard.NumberGuard of a grounded base model's reply
    movable: bool = False  # ALONE, and would move into the batch for a newcomer
    position: int | None = None
    arrived: float = field(default_factory=time.monotonic)
    out: object = field(default_factory=RealQueue)
    stop: object = field(default_factory=RealEvent)  # set when the stream is left (cancel, close, error, stop text)
    pending: list = field(default_factory=list)  # token ids made and not yet taken by the stream
    woken: bool = False
    taken: int = 0  # token ids the stream has taken
    lock: object = field(default_factory=RealLock)

    @property
    def max_new(self) -> int:
        """Tokens the request asks for at most."""
        return int(self.params.get("max_tokens") or self.budget)

    def stopped(self) -> bool:
        return self.stop.is_set() or (self.cancel is not None and self.cancel.is_set())

    def give(self, ids: list[int]) -> None:
        """Hand new token ids to the stream, waking it for the first ones only."""
        with self.lock:
            self.pending.extend(ids)
            wake, self.woken = not self.woken, True
        if wake:
            self.out.put(Woken())

    def take(self) -> list[int]:
        with self.lock:
            ids, self.pending = self.pending, []
            self.taken += len(ids)
        return ids
