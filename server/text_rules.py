"""Text a person typed that this server cannot keep or show safely: lone surrogates and bidi overrides."""
from __future__ import annotations

import re

# JSON may carry one half of a UTF-16 pair ("\ud800"); UTF-8 cannot encode it, so SQLite, files and
# replies fail on it later, far from the input. It is refused where it arrives.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Embeddings, overrides and isolates (U+202A-202E, U+2066-2069) make a title read in another order than
# it is stored ("invoice\u202etxt.exe"); the marks U+200E/U+200F that right-to-left writing needs stay.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
DEPTH = 64  # deeper payloads are refused elsewhere as malformed; no walk goes further


def has_lone_surrogate(value, depth: int = 0) -> bool:
    """True when a string anywhere in a JSON value (keys included) holds a lone surrogate."""
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if depth >= DEPTH:
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k, depth + 1) or has_lone_surrogate(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_lone_surrogate(v, depth + 1) for v in value)
    return False


def without_bidi_controls(text: str) -> str:
    """The text with bidi embeddings, overrides and isolates taken out."""
    return BIDI_CONTROLS.sub("", text)
