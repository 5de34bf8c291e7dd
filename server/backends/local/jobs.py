"""One local request as the worker and its stream share it: an explicit state and typed events."""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ...concurrency import RealEvent, RealLock, RealQueue

if TYPE_CHECKING:
    from .adapters import Tuned
    from .prompt import Prompt

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


class TokenGuard(Protocol):
    """Holds a reply's next token to what it may write (number_guard.NumberGuard, span_guard.SpanGuard)."""

    tokens: list[int]  # the reply's tokens so far

    def observe(self, token: int) -> None: ...

    def apply(self, scores) -> None: ...


class Observed:
    """What a guard has seen of its row: the reply's tokens so far, one observe() a step (the guards' shared part)."""

    def __init__(self, made: list[int] | None = None):
        self.tokens = list(made or [])  # the reply's tokens so far
        self.fresh = True  # the batch's first call for a row shows a prompt token, not a reply token

    def observe(self, token: int) -> None:
        """The batch's newest token of this row (its input at this step); the first is the prompt's."""
        if self.fresh:
            self.fresh = False
        else:
            self.tokens.append(token)


@dataclass
class Job:
    """One request: what to generate, where it stands, and the real queue its events come back through.

    state: WAITING in line; ALONE on the generate() path; BATCHED as a row of the continuous batch;
    LATER admitted but longer than a batch row, to run alone once the batch drains.
    """

    messages: list[dict]
    params: dict
    budget: int  # reply tokens when the request names no max_tokens
    cancel: Any  # the caller's threading.Event, or None
    tuned: Tuned | None = None  # a tuned model's request, run alone with its adapter on
    state: str = WAITING
    prompt: Prompt | None = None  # the fitted Prompt, once prepared (on the worker thread)
    guard: TokenGuard | None = None  # a grounded base model's NumberGuard, or a graph build's SpanGuard
    movable: bool = False  # ALONE, and would move into the batch for a newcomer
    position: int | None = None
    arrived: float = field(default_factory=time.monotonic)
    out: queue.Queue = field(default_factory=RealQueue)
    # set when the stream is left (cancel, close, error, stop text)
    stop: threading.Event = field(default_factory=RealEvent)
    pending: list = field(default_factory=list)  # token ids made and not yet taken by the stream
    woken: bool = False
    taken: int = 0  # token ids the stream has taken
    lock: threading.Lock = field(default_factory=RealLock)

    @property
    def max_new(self) -> int:
        """Tokens the request asks for at most."""
        return int(self.params.get("max_tokens") or self.budget)

    def fitted(self) -> Prompt:
        """The prompt the worker prepared before running or batching the job."""
        assert self.prompt is not None, "the worker prepares a job's prompt first"
        return self.prompt

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
