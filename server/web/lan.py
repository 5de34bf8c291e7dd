"""The addresses a phone on the same network can open, and a QR code for the first."""
from __future__ import annotations

import ipaddress
import socket

import psutil


def lan_urls(host: str, port: int, scheme: str = "http") -> list[str]:
    """One URL per non-loopback IPv4 address the server listens on; private networks first."""
    if host not in ("0.0.0.0", "::", ""):
        return [f"{scheme}://{host}:{port}/"]
    ips = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not ipaddress.ip_address(a.address).is_loopback:
                ips.append(a.address)
    ips.sort(key=lambda ip: (not ipaddress.ip_address(ip).is_private, ip))
    return [f"{scheme}://{ip}:{port}/" for ip in dict.fromkeys(ips)]


def qr_text(url: str) -> str:
    """A QR code of url drawn with block characters for a terminal."""
    import io

    import segno

    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True)
    return out.getvalue()
