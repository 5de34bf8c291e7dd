"""Rows of uploaded text files (CSV, JSON lines) by line number, whatever their line ends."""
from __future__ import annotations

import csv
import io


class RowError(ValueError):
    """A row that cannot be read at all: its line and why."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line, self.reason = line, reason


def utf8_lines(data: bytes | str):
    """Lines of a text, or of UTF-8 bytes (a BOM skipped) decoded as they are read; LF, CRLF and CR alone all
    end a line (newline=None). Bytes are never decoded whole: io.StringIO of a 26 MB file held 104 MB."""
    if isinstance(data, str):
        return io.StringIO(data, newline=None)
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=None)


def csv_rows(data: bytes | str, delimiter: str = ","):
    """(line, cells) of a UTF-8 CSV file, whatever its line ends; RowError at a row the csv module cannot read
    (a field over its 131,072-character limit) or at bytes that are not UTF-8, which ends the reading."""
    reader = csv.reader(utf8_lines(data), delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise RowError(reader.line_num, f"cannot be read as CSV ({e})") from None
        except UnicodeDecodeError:
            raise RowError(reader.line_num + 1, "is not UTF-8 text") from None
        yield reader.line_num, cells


def json_lines(data: bytes | str):
    """(line number, line) of a UTF-8 JSON-lines file; only LF, CRLF and CR end a line (U+2028 may sit in a
    string); RowError at bytes that are not UTF-8."""
    n = 0
    lines = utf8_lines(data)
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise RowError(n + 1, "is not UTF-8 text") from None
        n += 1
        yield n, line
