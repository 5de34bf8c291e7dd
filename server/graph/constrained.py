"""The built-in model's facts under constrained decoding: what it is asked, and what holds its answer."""
from __future__ import annotations

from . import extract
from .names import CJK

EXTRACTORS = ("constrained", "rules+constrained")  # the local model held to spans (with the patterns, the second)


def messages(passage: str, types: list[str] | None = None) -> list[dict]:
    """The same prompt as an instruction model's: the guard, not the prompt, keeps the answer in shape."""
    return extract.messages(passage, types)


def spans(passage: str) -> dict:
    """What the local backend holds the answer to: names spans of this passage, relations from its language's list."""
    return {"passage": passage, "relations": extract.RELATIONS["zh" if CJK.search(passage) else "en"]}
