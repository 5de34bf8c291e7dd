"""JSON for the per-token path: orjson where it can, the standard library where it cannot.

A token costs one parse (the upstream's event) and one encode (the event to a room). orjson does them in
0.6 and 0.24 µs against json's 3.0 and 2.8 (bench/RESULTS.md, #15 (b)). It refuses lone surrogates, which
an upstream may send as escapes (`"\\ud83d"`) and json accepts: those fall back to json, as before.
"""
from __future__ import annotations

import json

import orjson


def loads(data: bytes):
    """Parse one JSON document."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # what orjson refuses (lone surrogates) json may take; else its own error


def dumps(obj) -> str:
    """Compact JSON text, non-ASCII characters as themselves."""
    try:
        return orjson.dumps(obj).decode()
    except TypeError:  # a str with a lone surrogate: escaped, as json does
        return json.dumps(obj, separators=(",", ":"))
