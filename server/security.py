"""Who may talk to the server: access token, origin policy, rate limits, page headers."""
from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from .errors import ChatError

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def token_ok(expected: str | None, given) -> bool:
    """True when no token is set, or the given one matches (in constant time)."""
    if not expected:
        return True
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


ADMIN_ROOM = "admins"  # the Socket.IO room of sockets that connected with the admin token (tuning progress)


def access_ok(cfg, given) -> bool:
    """True when `given` may use the server: the access token, or the admin token, which is more."""
    return token_ok(cfg.token, given) or bool(cfg.admin_token and token_ok(cfg.admin_token, given))


def admin_ok(cfg, given) -> bool:
    """True when `given` may change what everyone shares; with no admin token set, whoever may use the server may."""
    return token_ok(cfg.admin_token or cfg.token, given)


def forbidden() -> ChatError:
    """The error for a shared write without the admin token."""
    return ChatError("forbidden", "Only this server's admin may do this: unlock Settings > Manage this server "
                                  "with the admin token.")


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header."""
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def is_local_host(host: str) -> bool:
    """Loopback, private-network and link-local addresses, and localhost: the LAN this server serves."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


class OriginPolicy:
    """Allows the page's own origin, LAN origins, and those listed; '*' allows any."""

    def __init__(self, extra: list[str]):
        self.any = "*" in extra
        self.extra = {o.rstrip("/").lower() for o in extra if o != "*"}

    def allows(self, origin: str | None, host_header: str | None = None) -> bool:
        if not origin:
            return True  # not a browser page (curl, python-socketio, apps): nothing to guard
        origin = origin.rstrip("/").lower()
        if self.any or origin in self.extra:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, file://) and other schemes
        if host_header and parts.netloc == host_header.lower():
            return True  # the page's own origin
        return is_local_host(parts.hostname)

    def for_engineio(self, origin, environ) -> bool:
        """The callable python-engineio takes as cors_allowed_origins."""
        return self.allows(origin, environ.get("HTTP_HOST"))


def rate_limited(limit: int, wait_s: float) -> ChatError:
    """The error for a key past its limit, saying when it may try again."""
    return ChatError("rate_limited", f"Too many messages: at most {limit} a minute. Try again in {int(wait_s) + 1} s.")


class RateLimiter:
    """At most `limit` events per key in any 60-second window (0 = unlimited)."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Count one event for key, or raise rate_limited."""
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                raise rate_limited(self.limit, self.window - (now - hits[0]))
            hits.append(now)

    def sweep(self) -> None:
        """Forget keys with no recent events, so memory stays bounded."""
        now = time.monotonic()
        with self._lock:
            for key in [k for k, h in self._hits.items() if not h or now - h[-1] > self.window]:
                del self._hits[key]


def add_security_headers(response):
    """Headers on every HTTP response: no sniffing, no referrer, and a strict CSP on pages."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response
