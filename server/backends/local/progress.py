"""Load progress in named phases, shown as one terminal bar and reported as the backend's status."""
from __future__ import annotations

import time

from ...concurrency import RealEvent, RealLock, start_os_thread


class Progress:
    """Load progress in named phases.

    transformers offers no callback while it parses a GGUF or reads weights,
    so inside a phase the share done is estimated from the time it usually
    takes; phase boundaries are exact.
    """

    def __init__(self, label: str, phases: list[tuple[str, float]], report):
        from tqdm import tqdm

        self.phases = phases  # (name, expected seconds); a phase's share of the bar follows its time
        self.total = sum(s for _, s in phases)
        self.report = report
        self.bar = tqdm(total=100, desc=f"Loading {label}", unit="%",
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}")
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
