"""A green thread counting 10 ms sleeps: evidence, in an eventlet subprocess test, that the hub kept turning."""
from __future__ import annotations

import eventlet


class Ticker:
    """Starts counting at once; read .ticks before and after a wait."""

    def __init__(self):
        self.ticks = 0
        eventlet.spawn(self._run)

    def _run(self):
        while True:
            eventlet.sleep(0.01)
            self.ticks += 1
