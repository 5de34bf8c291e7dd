"""Usage per device per day, counted as each reply ends, and the daily token quota checked before a chat starts."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..errors import ChatError
from ..store.ledger import device_of

log = logging.getLogger(__name__)


def today(now: datetime | None = None) -> str:
    """The server's local date: a quota resets at its midnight."""
    return (now or datetime.now()).strftime("%Y-%m-%d")


def until_midnight(now: datetime | None = None) -> str:
    """'3 h 12 min': how long until the server's next local midnight."""
    now = now or datetime.now()
    left = (now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)) - now
    minutes = max(1, int(left.total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


class Usage:
    """Counts each reply's tokens to its device's day in the ledger; with a quota, refuses a device past it."""

    def __init__(self, ledger, quota_tokens: int = 0):
        self.ledger = ledger
        self.quota = quota_tokens

    def install(self, service) -> None:
        service.on_done.append(self.count)
        if self.quota > 0:
            service.admit.append(self.check)

    def check(self, client_id: str) -> None:
        """Raise `quota` when this device has used its tokens for today."""
        used = self.ledger.tokens(today(), device_of(client_id))
        if used >= self.quota:
            raise ChatError("quota", f"This device has used its {self.quota:,} tokens for today ({used:,}). "
                                     f"It may chat again at midnight, server time: in {until_midnight()}.")

    def count(self, req, done: dict) -> None:
        """Add one ended reply (stopped and failed ones too: their tokens were spent)."""
        if req.device is None:
            return
        usage = req.usage or {}
        completion = usage.get("completion_tokens") or req.chunks  # a backend that reports no usage: its chunks
        self.ledger.count(today(), device_of(req.device), req.backend.name, req.model or "",
                          int(usage.get("prompt_tokens") or 0), int(completion or 0))
