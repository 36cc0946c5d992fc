"""Records out as JSON lines or CSV, a batch at a time.

Rules of this file:
1. One `write` call per batch: records are formatted into one string and written at once.
2. CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
   or carriage return, per OWASP) get a leading `'` unless `raw`. JSON is not opened by
   spreadsheets and is written as is.
3. Every record carries `file_num` and `row`, so a reader can check it holds each once.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Literal, Protocol, TextIO

from ..models.messages import MessageRecord

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
CORE_COLUMNS = ("customer_id", "message", "file_num", "row")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """`value` made inert for spreadsheets: a leading `'` if it could start a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class RecordWriter(Protocol):
    @property
    def columns(self) -> list[str] | None:
        """The CSV header written so far (None for JSON lines, or before any)."""

    def write(self, batch: Sequence[MessageRecord]) -> None: ...

    def finish(self) -> None: ...


def make_writer(
    fmt: Format, out: TextIO, *, raw: bool = False, columns: list[str] | None = None
) -> RecordWriter:
    """A writer of `fmt` to `out`; `columns` is the header already in `out` (when resuming)."""
    if fmt == "csv":
        return CsvWriter(out, raw=raw, columns=columns)
    return JsonlWriter(out)


class JsonlWriter:
    def __init__(self, out: TextIO) -> None:
        self._out = out

    @property
    def columns(self) -> list[str] | None:
        return None

    def write(self, batch: Sequence[MessageRecord]) -> None:
        self._out.write("".join([json_line(r) for r in batch]))

    def finish(self) -> None:
        return None


_encode = json.JSONEncoder(ensure_ascii=False).encode
_quote = json.encoder.encode_basestring


def json_line(record: MessageRecord) -> str:
    """The record as one line of JSON, the same as `json.dumps(..., ensure_ascii=False)`."""
    if not record.extra:  # the common case, formatted directly: 3x faster than a dict
        return (
            f'{{"customer_id": {_quote(record.customer_id)}, "message": {_quote(record.message)}, '
            f'"file_num": {record.file_num}, "row": {record.row}}}\n'
        )
    row: dict[str, object] = {
        "customer_id": record.customer_id,
        "message": record.message,
        "file_num": record.file_num,
        "row": record.row,
    }
    for name, value in record.extra.items():
        row.setdefault(name, value)  # the record's own fields win over a clashing column
    return _encode(row) + "\n"


class CsvWriter:
    """CSV with a header: the core columns, then the export's extra columns (taken from the
    first record, since the header must precede it)."""

    def __init__(self, out: TextIO, *, raw: bool, columns: list[str] | None) -> None:
        self._out = out
        self._raw = raw
        self._columns = columns
        self._extra = [c for c in columns or () if c not in CORE_COLUMNS]
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer)

    @property
    def columns(self) -> list[str] | None:
        return self._columns

    def write(self, batch: Sequence[MessageRecord]) -> None:
        if not batch:
            return
        if self._columns is None:
            self._extra = [c for c in batch[0].extra if c not in CORE_COLUMNS]
            self._write_header()
        esc = (lambda v: v) if self._raw else escape_formula
        extra = self._extra
        self._csv.writerows(
            [
                (
                    esc(r.customer_id),
                    esc(r.message),
                    r.file_num,
                    r.row,
                    *[esc(r.extra.get(c, "")) for c in extra],
                )
                for r in batch
            ]
        )
        self._flush_buffer()

    def finish(self) -> None:
        if self._columns is None:  # no record at all: still a well-formed, empty CSV
            self._write_header()
            self._flush_buffer()

    def _write_header(self) -> None:
        self._columns = [*CORE_COLUMNS, *self._extra]
        esc = (lambda v: v) if self._raw else escape_formula
        self._csv.writerow([esc(c) for c in self._columns])

    def _flush_buffer(self) -> None:
        self._out.write(self._buffer.getvalue())
        self._buffer.seek(0)
        self._buffer.truncate()
