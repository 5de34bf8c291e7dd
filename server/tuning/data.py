"""Training data: JSONL in three shapes or CSV question,answer -> conversations; every bad line named."""
from __future__ import annotations

import json
import random

from ..errors import ChatError
from ..file_rows import RowError, csv_rows, json_lines
from ..text_rules import LONE_SURROGATE

MAX_EXAMPLES = 20_000
MAX_CHARS = 8_000  # one example's text; longer ones would be cut by the model's context anyway
MAX_SHOWN = 20  # bad lines listed in the error; the count says how many more
ROLES = ("system", "user", "assistant")


class DataError(ChatError):
    """A file refused: each bad line with its number and reason (nothing is queued)."""

    def __init__(self, message: str, lines: list[dict] | None = None):
        super().__init__("bad_request", message)
        self.lines = lines or []

    def to_dict(self) -> dict:  # type: ignore[override]  # ErrorBody and the bad lines
        return {**super().to_dict(), "lines": self.lines}


def _text(value, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{field}' must be a non-empty string")
    if len(value) > MAX_CHARS:
        raise ValueError(f"'{field}' is longer than {MAX_CHARS} characters")
    if LONE_SURROGATE.search(value):
        raise ValueError(f"'{field}' is not valid Unicode (half of a UTF-16 surrogate pair)")
    return value.strip()


def _messages(raw) -> list[dict]:
    """An OpenAI chat line's messages, checked: roles known, contents text, at least one assistant reply."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("'messages' must be a non-empty list")
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise ValueError(f"message {i + 1} needs a 'role' of system, user or assistant")
        out.append({"role": m["role"], "content": _text(m.get("content"), f"messages[{i}].content")})
    if not any(m["role"] == "assistant" for m in out):
        raise ValueError("no assistant message to learn from")
    if out[0]["role"] == "assistant" or (out[0]["role"] == "system" and len(out) > 1 and out[1]["role"] == "assistant"):
        raise ValueError("the first reply has no user message before it")
    return out


def from_object(obj) -> list[dict]:
    """One JSONL line in any of the three shapes as a conversation."""
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    if "messages" in obj:
        return _messages(obj["messages"])
    if "instruction" in obj or "output" in obj:
        question = _text(obj.get("instruction"), "instruction")
        extra = obj.get("input")
        if extra not in (None, ""):
            question += "\n\n" + _text(extra, "input")
        return [{"role": "user", "content": question},
                {"role": "assistant", "content": _text(obj.get("output"), "output")}]
    if "prompt" in obj or "completion" in obj:
        return [{"role": "user", "content": _text(obj.get("prompt"), "prompt")},
                {"role": "assistant", "content": _text(obj.get("completion"), "completion")}]
    raise ValueError('expected {"messages": [...]}, {"instruction", "output"} or {"prompt", "completion"}')


def _jsonl(text: str):
    for n, line in json_lines(text):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield n, None, f"not JSON ({e.msg} at column {e.colno})"
            continue
        except ValueError as e:  # valid JSON Python will not read: an integer of more than 4300 digits
            yield n, None, f"not readable ({e})"
            continue
        except RecursionError:
            yield n, None, "nested too deeply"
            continue
        try:
            yield n, from_object(obj), None
        except ValueError as e:
            yield n, None, str(e)


def _csv(text: str):
    try:
        yield from _csv_rows(text)
    except RowError as e:  # the csv module reads no further after it
        yield e.line, None, e.reason


def _csv_rows(text: str):
    rows = csv_rows(text)
    header = next(rows, (1, None))[1]
    if not header or [h.strip().lower() for h in header[:2]] != ["question", "answer"]:
        yield 1, None, "the first line must be the header question,answer"
        return
    for n, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            yield n, None, f"expected 2 columns (question,answer), found {len(row)}"
            continue
        try:
            yield n, [{"role": "user", "content": _text(row[0], "question")},
                      {"role": "assistant", "content": _text(row[1], "answer")}], None
        except ValueError as e:
            yield n, None, str(e)


def parse(filename: str, data: bytes) -> list[list[dict]]:
    """Every example of a .jsonl or .csv file, or DataError naming each bad line; nothing partial."""
    kind = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if kind not in ("jsonl", "csv"):
        raise DataError("Send a .jsonl file (chat messages, instruction/output or prompt/completion) or a .csv "
                        "with the header question,answer.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise DataError(f"The file is not UTF-8 text (line {line}).", [{"line": line, "reason": "not UTF-8"}])
    text = text.replace("\r\n", "\n")  # a CSV saved on Windows: a quoted answer's line breaks are taught as \n
    examples, bad = [], []
    for n, example, reason in (_jsonl(text) if kind == "jsonl" else _csv(text)):
        if reason:
            bad.append({"line": n, "reason": reason})
        else:
            examples.append(example)
    if bad:
        shown = "; ".join(f"line {b['line']}: {b['reason']}" for b in bad[:MAX_SHOWN])
        more = f" (and {len(bad) - MAX_SHOWN} more)" if len(bad) > MAX_SHOWN else ""
        raise DataError(f"{len(bad)} bad line{'s' if len(bad) > 1 else ''}, nothing queued: {shown}{more}.", bad[:200])
    if not examples:
        raise DataError("The file holds no examples.")
    if len(examples) > MAX_EXAMPLES:
        raise DataError(f"The file holds {len(examples)} examples; at most {MAX_EXAMPLES} per job.")
    return examples


def preview(examples: list[list[dict]], n: int = 5) -> list[dict]:
    """The first examples as question/answer pairs a person can check before training."""
    out = []
    for ex in examples[:n]:
        last = max(i for i, m in enumerate(ex) if m["role"] == "assistant")
        question = next(m["content"] for m in reversed(ex[:last]) if m["role"] == "user")
        out.append({"question": question, "answer": ex[last]["content"], "turns": len(ex)})
    return out


def split(examples: list, eval_fraction: float, seed: int = 0) -> tuple[list, list]:
    """(train, eval): a fixed random eval_fraction held out, at least one example on each side when there are two."""
    if eval_fraction <= 0 or len(examples) < 2:
        return list(examples), []
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    k = min(len(examples) - 1, max(1, round(len(examples) * eval_fraction)))
    held = set(order[:k])
    return [e for i, e in enumerate(examples) if i not in held], [examples[i] for i in sorted(held)]
