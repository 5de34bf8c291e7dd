"""X-Forwarded-For / -Proto believed only when the request comes from the proxy in front (--trusted-proxy)."""
from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import networks


class TrustedProxyFix:
    """ProxyFix (one hop) for requests whose peer is a trusted proxy; everyone else keeps their own address.

    A client that reaches the port directly would otherwise name any address it likes in X-Forwarded-For,
    and per-address limits (pairing codes, chats, sockets) would count it as someone new each time.
    """

    def __init__(self, app, trusted: str):
        self.app = app
        self.trusted = networks(trusted)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)

    def trusts(self, peer: str) -> bool:
        try:
            ip = ipaddress.ip_address(peer.split("%")[0])
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.trusted)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        for header in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO"):
            environ.pop(header, None)  # nothing downstream may read what the client claims
        return self.app(environ, start_response)
