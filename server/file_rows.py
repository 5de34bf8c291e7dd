"""Rows of uploaded text files (CSV, JSON lines) by line number, whatever their line ends."""
from __future__ import annotations

import csv
import io


class RowError(ValueError):
    """A row that cannot be read at all: its line and why."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line, self.reason = line, reason


def csv_rows(text: str, delimiter: str = ","):
    """(line, cells) of a CSV text whose lines end in LF, CRLF or CR alone; RowError at a row the csv module
    cannot read (a field over its 131,072-character limit), which ends the reading."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)  # None: a lone CR ends a line too
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise RowError(reader.line_num, f"cannot be read as CSV ({e})") from None
        yield reader.line_num, cells


def json_lines(text: str):
    """(line number, line) of a JSON-lines text; only LF, CRLF and CR end a line (U+2028 may sit in a string)."""
    return enumerate(io.StringIO(text, newline=None), 1)
