"""Incremental CSV decoding: UTF-8 bytes in arbitrary chunks -> records as soon as they complete.

Rules of this file:
1. No I/O and no shared state: `IncrementalCSVDecoder` is a pure state machine fed by whoever owns
   the stream, so it is tested exhaustively without a network.
2. However the bytes are chunked, the records are exactly
   `list(csv.reader(io.StringIO(text), strict=True))` of the whole decoded text (one leading BOM
   stripped), and whatever that call would raise becomes `CSVFormatError` with the record number.
3. No Python loop per character: exports run to millions of rows. Each chunk is searched with
   C-speed str methods for a cut point, the last `\\n` outside quotes (quote parity is carried
   across chunks), and everything before it goes to `csv.reader` in one call. Only the partial
   record after the cut stays buffered: one partial record plus one chunk. Lines come from
   `io.StringIO`: `str.splitlines` is no faster and also splits on `\x85`, `\u2028`, ... which
   would end unquoted fields early.
4. `csv.reader` stays the judge of record boundaries. Parity is fooled only by quotes inside
   unquoted fields (`5" screen`), which Python's reader accepts; a cut misplaced that way makes
   the reader end inside a quoted field, and that record is buffered again and re-cut with an
   exact (slower, regex) scanner. A buffer that grows past `_RESCAN_FLOOR` without a cut is
   re-checked the same way, so such input cannot make the decoder hold back the whole stream.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

__all__ = ["CSVFormatError", "IncrementalCSVDecoder"]

_BOM = "\ufeff"

# Buffered characters without a cut point before the exact scanner double-checks the parity scan
# (then again each time the buffer doubles). Ordinary long records never pay for the slower scan.
_RESCAN_FLOOR = 1 << 20

# The complete records at the start of a buffer, by the grammar csv.reader applies with the
# default dialect: a field is quoted (`""` escapes a quote; text after the closing quote is an
# error the reader reports itself), unquoted (quotes inside it are literal), or empty.
_FIELD = r'(?:"[^"]*(?:""[^"]*)*"(?:[^,\n"][^,\n]*)?|[^,\n"][^,\n]*|)'
_RECORDS = re.compile(rf"(?:(?:{_FIELD},)*{_FIELD}\n)*")


def _end_of_data_message() -> str:
    """What csv.reader says when the input ends inside a quoted field."""
    try:
        list(csv.reader(['"'], strict=True))
    except csv.Error as exc:
        return str(exc)
    raise AssertionError("csv.reader accepted an unterminated quote")  # pragma: no cover


_END_OF_DATA = _end_of_data_message()
_END_OF_DATA_REASON = "unexpected end of data inside a quoted field"
_TRUNCATED = "truncated multi-byte UTF-8 character at end of data"


class CSVFormatError(ValueError):
    """Malformed CSV.

    `.row` is the 1-based record number (header = record 1) where it was detected, `.reason` a
    short text. str() reads like
    'malformed CSV at record 17: unexpected end of data inside a quoted field'.
    """

    row: int
    reason: str

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(f"malformed CSV at record {row}: {reason}")
        self.row = row
        self.reason = reason

    def __reduce__(self) -> tuple[type[CSVFormatError], tuple[int, str]]:
        return (type(self), (self.row, self.reason))


class IncrementalCSVDecoder:
    """Feed UTF-8 CSV bytes in chunks of any size; get back every record once it is complete.

    After a `CSVFormatError` every further call raises it again; after `finish()` the decoder is
    spent and further calls raise `ValueError`.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._parts: list[str] = []  # decoded text after the last cut, oldest first
        self._size = 0  # total length of _parts
        self._odd = False  # _parts hold an odd number of quote characters
        self._rescan_at = _RESCAN_FLOOR  # _size at which the exact scanner takes over (rule 4)
        self._started = False  # the first character went by (a BOM is only stripped there)
        self._finished = False
        self._error: CSVFormatError | None = None
        self._records = 0

    @property
    def records(self) -> int:
        """Records returned so far."""
        return self._records

    def feed(self, chunk: bytes) -> list[list[str]]:
        """Return every record completed by this chunk.

        The header row is a record like any other.
        """
        self._check_usable()
        try:
            rows = self._feed(chunk)
        except CSVFormatError as exc:
            self._error = exc
            raise
        self._records += len(rows)
        return rows

    def finish(self) -> list[list[str]]:
        """End of input: return the last records.

        Raises CSVFormatError on unterminated quotes or a truncated multi-byte character.
        """
        self._check_usable()
        self._finished = True
        try:
            rows = self._finish()
        except CSVFormatError as exc:
            self._error = exc
            raise
        self._records += len(rows)
        return rows

    def _check_usable(self) -> None:
        if self._error is not None:
            raise CSVFormatError(self._error.row, self._error.reason)
        if self._finished:
            raise ValueError("the CSV decoder is finished")

    def _feed(self, chunk: bytes) -> list[list[str]]:
        try:
            text = self._utf8.decode(chunk)
        except UnicodeDecodeError as exc:
            # The decoder kept its state: decode what precedes the bad byte, so that earlier
            # errors win and the record count is right, then report the bad byte itself.
            data = self._utf8.getstate()[0] + bytes(chunk)
            rows = self._take(data[: exc.start].decode("utf-8"))
            row = self._records + len(rows) + 1
            raise CSVFormatError(row, f"invalid UTF-8 ({exc.reason})") from None
        return self._take(text)

    def _finish(self) -> list[list[str]]:
        try:
            self._utf8.decode(b"", final=True)
            truncated = False
        except UnicodeDecodeError:
            truncated = True
        text = "".join(self._parts)
        self._parts = []
        try:
            rows, _ = self._parse(text, base=self._records, final=True)
        except CSVFormatError as exc:
            if truncated and exc.reason == _END_OF_DATA_REASON:
                raise CSVFormatError(exc.row, _TRUNCATED) from None
            raise
        if truncated:
            # The cut-off character ends the input: it belongs to the last record, or starts one.
            starts_record = not text or text.endswith(("\n", "\r"))
            raise CSVFormatError(self._records + len(rows) + int(starts_record), _TRUNCATED)
        return rows

    def _take(self, text: str) -> list[list[str]]:
        """Buffer decoded text; parse and return the records it completes."""
        if not self._started and text:
            self._started = True
            text = text.removeprefix(_BOM)
        if not text:
            return []
        self._parts.append(text)
        self._size += len(text)
        if text.count('"') % 2:
            self._odd = not self._odd
        rows: list[list[str]] = []
        for _ in range(2):  # a second round only after a misplaced cut (rule 4)
            head = self._cut()
            if not head:
                break
            got, rest = self._parse(head, base=self._records + len(rows), final=False)
            rows += got
            if not rest:
                break
            self._unread(rest)
        return rows

    def _cut(self) -> str:
        """Remove and return the buffered text up to the last record boundary ('' if none)."""
        if self._size >= self._rescan_at:
            buffered = "".join(self._parts)
            match = _RECORDS.match(buffered)
            cut = match.end() if match else 0
            if not cut:
                self._parts = [buffered]
                self._rescan_at = 2 * self._size
                return ""
            head, tail = buffered[:cut], buffered[cut:]
        else:
            # Earlier parts hold no newline outside quotes, so only the newest one is searched.
            last = self._parts[-1]
            cut = _after_last_unquoted_newline(last, odd_at_end=self._odd)
            if cut < 0:
                return ""
            head = "".join(self._parts[:-1]) + last[:cut]
            tail = last[cut:]
        self._parts = [tail] if tail else []
        self._size = len(tail)
        self._odd = tail.count('"') % 2 == 1
        self._rescan_at = _RESCAN_FLOOR
        return head

    def _unread(self, text: str) -> None:
        """Put an unfinished record back in front of the buffer; the exact scanner cuts next."""
        self._parts.insert(0, text)
        self._size += len(text)
        if text.count('"') % 2:
            self._odd = not self._odd
        self._rescan_at = 0

    def _parse(self, text: str, *, base: int, final: bool) -> tuple[list[list[str]], str]:
        """Records in `text`, which starts a record, plus the unfinished tail if it ends inside
        quotes (only possible when not `final`). `base`: records before `text`, for errors."""
        try:
            # Almost always the text parses: take its records in one C call; only a failure needs
            # the record-by-record loop below, which knows where the last good record ended.
            return list(csv.reader(io.StringIO(text), strict=True)), ""
        except csv.Error:
            pass
        rows: list[list[str]] = []
        reader = csv.reader(io.StringIO(text), strict=True)
        lines = 0
        try:
            for row in reader:
                rows.append(row)
                lines = reader.line_num
        except csv.Error as exc:
            message = str(exc)
            if message == _END_OF_DATA and not final:
                return rows, text.split("\n", lines)[lines]
            raise CSVFormatError(base + len(rows) + 1, _reason(message)) from None
        return rows, ""


def _reason(message: str) -> str:
    if message == _END_OF_DATA:
        return _END_OF_DATA_REASON
    # Drop csv's advice on opening files with newline='': it is about files, not this decoder.
    return message.split(" - ", 1)[0]


def _after_last_unquoted_newline(text: str, *, odd_at_end: bool) -> int:
    """Index just past the last `\\n` of `text` outside quotes, or -1.

    `odd_at_end`: an odd number of quotes precede the end of `text` in the buffer. Walks back one
    quote-delimited stretch at a time, so the cost is the distance to the cut, not per character.
    """
    inside = odd_at_end
    end = len(text)
    while True:
        quote = text.rfind('"', 0, end)
        if not inside:
            newline = text.rfind("\n", quote + 1, end)
            if newline >= 0:
                return newline + 1
        if quote < 0:
            return -1
        end = quote
        inside = not inside
