"""/api/devices: pair a second device with this one's conversations (a one-time code), redeem the code."""
from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request
from redis.exceptions import RedisError

from ..devices import normalize
from ..errors import ChatError
from .lan import lan_urls
from .services import services

log = logging.getLogger(__name__)
bp = Blueprint("devices", __name__, url_prefix="/api/devices")
CLIENT_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# Tries per address and minute: a person mistypes a code a few times; a guesser gets 10 of 2^40 a minute.
REDEEM_PER_MINUTE = 10
PAIR_PER_MINUTE = 10  # new codes per address and minute: bounds what one device can make us keep


class Pairing:
    """This app's codes and the limits on making and redeeming them."""

    def __init__(self, cfg, cluster):
        self.codes = cluster.pairing_codes()
        self.ttl = cfg.pair_ttl
        self.pair_limit = cluster.rate_limiter(PAIR_PER_MINUTE, "pair")
        self.redeem_limit = cluster.rate_limiter(REDEEM_PER_MINUTE, "redeem")


def pairing() -> Pairing:
    return services().pairing


def limited(limiter, key: str, what: str) -> None:
    """The limiter's count for this address, with a sentence about codes instead of messages."""
    try:
        limiter.check(key)
    except ChatError as e:
        if e.code != "rate_limited":
            raise
        raise ChatError("rate_limited", f"Too many {what} from this address: wait a minute and try again.") from None


def shared(call, *args):
    """A call on the code store; a Redis that does not answer is `unavailable`, not a crash."""
    try:
        return call(*args)
    except RedisError as e:
        log.warning("pairing codes unavailable: %s", e)
        raise ChatError("unavailable", "The server cannot reach its shared store just now; try again in a moment.") \
            from None


def page_url() -> str:
    """The page's address as another device can open it: a LAN address when this one is loopback."""
    base = request.host_url
    host = urlsplit(base).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        cfg = services().cfg
        urls = lan_urls(cfg.host, cfg.port, "https" if cfg.https else "http")
        if urls and "://127." not in urls[0]:
            return urls[0]
    return base


def qr_data_uri(url: str) -> str:
    """The URL as a QR code, an SVG data: URI the page shows in an <img> (its CSP allows data: images).

    About 20 ms on 2 busy cores (version 3, 2.2 kB): made on the hub, as one address makes at most
    PAIR_PER_MINUTE codes a minute.
    """
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=6, border=2)


@bp.route("/pair", methods=["POST"])
def pair():
    client_id = request.headers.get("X-Client-Id", "")
    if not 22 <= len(client_id) <= 64 or not set(client_id) <= CLIENT_ID_CHARS:
        raise ChatError("bad_request", "Send this device's client_id in the X-Client-Id header.")
    p = pairing()
    limited(p.pair_limit, request.remote_addr or "", "codes made")
    code = shared(p.codes.put, client_id, p.ttl)
    # In the fragment: a browser never sends it, so the code stays out of every server's access log.
    url = f"{page_url()}#pair={code}"
    return jsonify({"ok": True, "code": code, "url": url, "expires_in": int(p.ttl), "qr": qr_data_uri(url)})


@bp.route("/redeem", methods=["POST"])
def redeem():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) - {"code"}:
        raise ChatError("bad_request", "Send {\"code\": \"...\"} as JSON.")
    p = pairing()
    limited(p.redeem_limit, request.remote_addr or "", "codes tried")
    code = normalize(body.get("code"))
    if code is None:
        raise ChatError("bad_request", "A code is 8 letters and digits, as shown on your other device.")
    return jsonify({"ok": True, "client_id": shared(p.codes.take, code, p.ttl)})
