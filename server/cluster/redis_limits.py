"""Rate limits counted in Redis, so one address's limit holds across every process."""
from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError

from .limits import rate_limited

log = logging.getLogger(__name__)

# A sliding window like limits.RateLimiter's, in one atomic script on Redis's clock
# (processes on several machines need not agree on the time). Returns {allowed, wait_ms}.
SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
"""


class RedisRateLimiter:
    """At most `limit` events per key in any 60-second window, over all processes (0 = unlimited)."""

    def __init__(self, redis, limit: int, name: str, window: float = 60.0):
        self.limit = limit
        self.window = window
        self.prefix = f"chat:rate:{name}:"
        self._script = redis.register_script(SLIDING_WINDOW)

    def check(self, key: str) -> None:
        """Count one event for key, or raise rate_limited; lets it through when Redis is down."""
        if self.limit <= 0:
            return
        try:
            allowed, wait_ms = self._script(keys=[self.prefix + key],
                                            args=[int(self.window * 1000), self.limit, uuid.uuid4().hex])
        except RedisError as e:
            # The reply itself needs Redis for its claim, which says so; a limit is not worth a refusal.
            log.warning("rate limit not counted, Redis unavailable: %s", e)
            return
        if not allowed:
            raise rate_limited(self.limit, wait_ms / 1000)

    def sweep(self) -> None:
        """Nothing to do: each key expires in Redis one window after its last event."""
