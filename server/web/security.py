"""Who may talk to the server: access and admin tokens, origin policy, page headers."""
from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from .admin_token import admin_link
from ..errors import ChatError

# img-src blob: the page shows a chat attachment's picture from bytes it fetched itself (its GET needs a
# header an <img> cannot send).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def token_ok(expected: str | None, given) -> bool:
    """True when no token is set, or the given one matches (in constant time)."""
    if not expected:
        return True
    if not isinstance(given, str):
        return False
    try:
        given_bytes = given.encode()
    except UnicodeEncodeError:  # a lone surrogate from JSON: no token is made of those
        return False
    return hmac.compare_digest(expected.encode(), given_bytes)


ADMIN_ROOM = "admins"  # the Socket.IO room of sockets that connected with the admin token (tuning progress)


def access_ok(cfg, given) -> bool:
    """True when `given` may use the server: the access token, or the admin token, which is more."""
    return token_ok(cfg.token, given) or bool(cfg.admin_token and token_ok(cfg.admin_token, given))


def admin_ok(cfg, given) -> bool:
    """True when `given` may change what everyone shares; with no admin token set, whoever may use the server may."""
    return token_ok(cfg.admin_token or cfg.token, given)


def admin_given(headers) -> list:
    """The tokens an HTTP request offers for admin: X-Admin-Token and the Bearer token (either may be it)."""
    return [headers.get("X-Admin-Token"), bearer(headers.get("Authorization"))]


def admin_request(cfg, headers) -> bool:
    """True when one of the request's tokens lets it change what everyone shares."""
    return any(admin_ok(cfg, t) for t in admin_given(headers) if t is not None) or admin_ok(cfg, None)


def who_may(cfg) -> str:
    """One sentence for the start-up lines: who may chat, and who may change what everyone shares."""
    shared = "the library, the graph and fine-tuning"
    if cfg.admin_token and cfg.admin_token == cfg.token:
        return f"The token lets a device chat and change {shared}: the admin token is the same as the token."
    if cfg.admin_token_file:
        return (f"Anyone on this network may chat; only the admin changes {shared}: to be the admin in a browser "
                f"on this computer, open {admin_link(cfg)} (the token is kept in {cfg.admin_token_file}).")
    if cfg.admin_token:
        who = "The token lets a device chat" if cfg.token else "Anyone on this network may chat"
        return f"{who}; the admin token changes {shared}."
    if not cfg.token:
        return f"Anyone on this network may chat and change {shared}: --open, for a trusted room."
    return f"The token lets a device chat and change {shared} (--admin-token keeps those to whoever holds it)."


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


def add_security_headers(response):
    """Headers on every HTTP response: no sniffing, no referrer, and a strict CSP on pages."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response
