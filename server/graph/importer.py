"""Triples from a file: CSV/TSV with a head,relation,tail header, or JSON lines; bad rows skipped with a reason."""
from __future__ import annotations

import json

from ..errors import ChatError
from ..file_rows import RowError, csv_rows, json_lines
from ..text_rules import LONE_SURROGATE
from .names import clean, normalize

FIELDS = ("head", "relation", "tail", "head_type", "tail_type")
ALIAS = {"alias", "别名", "aliases", "同义词"}
MAX_NAME = 200  # characters; a longer "name" is a sentence pasted into the wrong column
MAX_SKIPPED = 200  # reasons listed in the answer; the count of rows tells the rest
MAX_ROWS = 100_000  # rows of one file (--graph-max-rows): 100k rows took 36 s and 405 MB; 735k rows, 2.3 GB
# What a spreadsheet reads as a formula; the export puts a ' before them (and before a leading ') and the
# import takes it off again, so names go out harmless and come back as they were.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def from_spreadsheet(value: str) -> str:
    """The name a spreadsheet_safe() cell was made from."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def parse(filename: str, data: bytes, max_rows: int = MAX_ROWS) -> tuple[list[dict], list[dict], int]:
    """(good rows, skipped [{line, reason}], rows read) of one upload; ChatError when the file cannot be read at
    all or has more than max_rows rows (read no further than that)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in ("csv", "tsv", "jsonl"):
        raise ChatError("bad_request", "Import a .csv, .tsv or .jsonl file of head,relation,tail rows.")
    rows = _jsonl(data) if ext == "jsonl" else _table(data, "\t" if ext == "tsv" else ",")
    good, skipped, read = [], [], 0
    for line, row in _unless_unreadable(rows):
        read += 1
        if read > max_rows:
            raise ChatError("too_long", f"The file has more than {max_rows:,} rows (--graph-max-rows); split it "
                                        "into smaller files. Nothing was stored.")
        reason = row if isinstance(row, str) else _check(row)
        if reason:
            skipped.append({"line": line, "reason": reason})
        else:
            good.append(row)
    if not good:
        first = f" (line {skipped[0]['line']}: {skipped[0]['reason']})" if skipped else ""
        raise ChatError("bad_request", f"The file has no usable head,relation,tail row{first}; nothing was stored.")
    return good, skipped[:MAX_SKIPPED], read


def _unless_unreadable(rows):
    try:
        yield from rows
    except RowError as e:
        if e.reason == "is not UTF-8 text":
            raise ChatError("bad_request", f"The file is not UTF-8 text (line {e.line}); save it as UTF-8 and import "
                                           "it again.") from None
        raise ChatError("bad_request", f"Line {e.line} {e.reason}; nothing was stored.") from None


def _table(data: bytes, delimiter: str):
    rows = csv_rows(data, delimiter)
    header = next(rows, (0, None))[1]
    names = [h.strip().lower() for h in header or []]
    if not {"head", "relation", "tail"} <= set(names):
        raise ChatError("bad_request", "The first line must be the header head,relation,tail "
                                       "(optionally head_type,tail_type).")
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(names):
            yield line, f"{len(cells)} columns where the header has {len(names)}"
            continue
        yield line, {k: from_spreadsheet(v) for k, v in zip(names, cells) if k in FIELDS}


def _jsonl(data: bytes):
    for line, raw in json_lines(data):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            yield line, "not valid JSON"
            continue
        except RecursionError:
            yield line, "nested too deeply"
            continue
        if not isinstance(row, dict):
            yield line, "not a JSON object"
            continue
        bad = [k for k in FIELDS if k in row and row[k] is not None and not isinstance(row[k], str)]
        yield line, (f"'{bad[0]}' is not a string" if bad else {k: row.get(k) or "" for k in FIELDS})


def _check(row: dict) -> str | None:
    for key in ("head", "relation", "tail"):
        value = (row.get(key) or "").strip()
        if not value:
            return f"'{key}' is empty"
        if len(value) > MAX_NAME:
            return f"'{key}' is longer than {MAX_NAME} characters"
        if "\x00" in value:
            return f"'{key}' contains a NUL character"
        if LONE_SURROGATE.search(value):
            return f"'{key}' is not valid Unicode (half of a UTF-16 surrogate pair)"
        if not normalize(clean(value)):
            return f"'{key}' has no letters or digits"
    for key in ("head_type", "tail_type"):
        if len((row.get(key) or "").strip()) > 50:
            return f"'{key}' is longer than 50 characters"
    if normalize(clean(row["head"])) == normalize(clean(row["tail"])) and not is_alias(row["relation"]):
        return "the head and the tail are the same"
    return None


def is_alias(relation: str) -> bool:
    return relation.strip().lower() in ALIAS
