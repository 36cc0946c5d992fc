"""Incremental CSV decoding: UTF-8 bytes in arbitrary chunks -> records as soon as they complete.

Rules of this file:
1. No I/O and no shared state: `IncrementalCSVDecoder` is a pure state machine fed by whoever owns
   the stream, so it is tested exhaustively without a network.
2. However the bytes are chunked, the records are exactly
   `list(csv.reader(io.StringIO(text), strict=True))` of the whole decoded text (one leading BOM
   stripped), and whatever that call would raise becomes `CSVFormatError` with the record number.
3. No Python loop per character: exports run to millions of rows. Each chunk is searched with
   C-speed str methods for a cut point, and everything before it goes to `csv.reader` (or is
   read by rule 7). The cut is first simply the chunk's last `\\n`; the first time that proves
   to be inside quotes (rule 4), the decoder counts quotes from then on and cuts at the last
   `\\n` outside them (quote parity carried across chunks). Files without newlines inside
   fields, the usual kind, never pay for counting. Only the partial record after the cut stays
   buffered: one partial record plus one chunk. The reader gets lines split at `\\n` (rule 6),
   not read through `io.StringIO`, which copies the text four bytes a character (in a Dask
   worker, whose malloc settings send every block over 128 KiB to mmap, that copy costs a third
   more again). `str.splitlines` would also split on `\x85`, `\u2028`, ... and end unquoted
   fields early.
4. `csv.reader` stays the judge of record boundaries. A cut inside a quoted field always makes
   the reader end inside it (strict mode raises at the end of its input); that record is
   buffered again and re-cut with an exact (slower, regex) scanner. Parity is fooled only by
   quotes inside unquoted fields (`5" screen`), which Python's reader accepts, and recovers the
   same way. A buffer that grows past `_RESCAN_FLOOR` without a cut is
   re-checked the same way, so such input cannot make the decoder hold back the whole stream.
5. Records come out in lists of at most `size`, parsed as they are taken (`feed_batches`): with
   few records alive at a time, the garbage collector stays idle (a whole chunk's rows held at
   once set it scanning, and promoting, several times per chunk). A call's batches are taken to
   the end before the next call, which is refused until then.
6. A record that fits on one line parses the same with its newline or without: only a quoted
   field that spans lines keeps the newlines it holds. So lines go to the reader bare, with no
   copy made to add a newline back, until a newline inside quotes is seen (a batch of records
   takes more lines than it has records, or a cut proves misplaced); that batch is read again
   with the newlines, and so is the rest of the file. The same sighting starts the counting
   of rule 3: one switch for both.
7. The usual export is two columns, an id and a message, quoted by csv.writer when it holds a
   comma. The file's first record is read alone (split at commas if its line has no quotes, CRs
   or NULs, as csv.reader would read it). If it has two fields, then while lines go bare (rule
   6) the text is first read a stretch of about `size` lines at a time as such records, with no
   lines split off: one regex pass over the stretch, whose match count against its newline count
   proves that every line is one whole record. `_QUOTED_PAIR` takes quoted messages only, at
   about twice `csv.reader`'s speed; the first stretch it cannot read switches the file to
   `_PAIR`, which also takes escaped quotes and unquoted messages, and whose quoted messages are
   unwrapped and unescaped after, at about `csv.reader`'s speed. A stretch with any other line
   (a blank one, a NUL, a third field, a field over `csv.field_size_limit()`) hands the rest of
   its chunk to `csv.reader`, and after two chunks in a row of which rule 7 read nothing, the
   rest of the file. Such rows are tuples, not lists; the fields are the same.
"""

from __future__ import annotations

import codecs
import csv
import operator
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from itertools import chain, islice, repeat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _csv import Reader as CSVReader

__all__ = ["CSVFormatError", "IncrementalCSVDecoder"]

_BOM = "\ufeff"

# Records per batch from `feed_batches`: well under the garbage collector's first threshold (700
# net allocations of container objects) even with the records made from them (rule 5).
BATCH_ROWS = 128

Rows = list[Sequence[str]]  # lists from csv.reader, tuples from rule 7
# Yields batches of records; returns the unfinished tail of the text (a misplaced cut) or "".
Parsing = Generator[Rows, None, str]

# Buffered characters without a cut point before the exact scanner double-checks the parity scan
# (then again each time the buffer doubles). Ordinary long records never pay for the slower scan.
_RESCAN_FLOOR = 1 << 20

# The complete records at the start of a buffer, by the grammar csv.reader applies with the
# default dialect: a field is quoted (`""` escapes a quote; text after the closing quote is an
# error the reader reports itself), unquoted (quotes inside it are literal), or empty.
_FIELD = r'(?:"[^"]*(?:""[^"]*)*"(?:[^,\n"][^,\n]*)?|[^,\n"][^,\n]*|)'
_RECORDS = re.compile(rf"(?:(?:{_FIELD},)*{_FIELD}\n)*")

# Rule 7: one line that is a whole record of two fields, an unquoted one and a quoted one, as
# csv.writer writes an id and a message holding a comma. `_PAIR` also takes `""` (an escaped
# quote) in the message, or a message without quotes, commas or CRs (quoted ones keep their
# quotes there). A match starts at a line start (`^`) and ends with a newline, so one that
# crossed a newline (a quoted field spanning lines) would leave fewer matches than lines. The
# id may hold no quote or CR either, which is checked on the ids together: `[^,]` runs a third
# faster than `[^,"\r\n]` in `re`.
_QUOTED_PAIR = re.compile(r'^([^,]*),"([^"]*)"\r?\n', re.MULTILINE)
_PAIR = re.compile(r'^([^,]*),("[^"]*(?:""[^"]*)*"|[^,"\r\n]*)\r?\n', re.MULTILINE)
_FIRST = operator.itemgetter(0)
# After this many chunks in a row of which rule 7 read nothing, the file goes to csv.reader.
_PAIR_MISSES = 2


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
        self._pending = b""  # the start of a UTF-8 sequence cut by the end of the last chunk
        self._parts: list[str] = []  # decoded text after the last cut, oldest first
        self._size = 0  # total length of _parts
        self._odd = False  # _parts hold an odd number of quote characters (once counted)
        # A newline inside quotes was seen: cut by quote parity, not at the last newline (rule
        # 3), and give the reader lines with their newlines (rule 6).
        self._quoted_newlines = False
        self._rescan_at = _RESCAN_FLOOR  # _size at which the exact scanner takes over (rule 4)
        self._pairs: bool | None = None  # the first record has two fields (rule 7); None: unread
        self._pair_misses = 0  # chunks in a row of which rule 7 read nothing
        self._all_quoted = True  # rule 7 has found every message quoted, none holding `""`
        self._started = False  # the first character went by (a BOM is only stripped there)
        self._finished = False
        self._taking = False  # batches of the last call are still to be taken (rule 5)
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
        return [list(row) for rows in self.feed_batches(chunk) for row in rows]

    def finish(self) -> list[list[str]]:
        """End of input: return the last records.

        Raises CSVFormatError on unterminated quotes or a truncated multi-byte character.
        """
        return [list(row) for rows in self.finish_batches() for row in rows]

    def feed_batches(self, chunk: bytes, size: int = BATCH_ROWS) -> Iterator[Rows]:
        """`feed`, lazily: the records in lists of at most `size`, parsed as they are taken.

        Records before an error in the chunk come out before the error is raised.
        """
        self._begin()
        data = self._pending + chunk if self._pending else chunk
        try:
            # The C decoder itself, not codecs' incremental wrapper, which copies every chunk.
            text, used = codecs.utf_8_decode(data, "strict", False)
        except UnicodeDecodeError as exc:
            # Decode what precedes the bad byte, so that earlier errors win and the record
            # count is right, then report the bad byte itself.
            return self._taken(self._bad_utf8(data[: exc.start].decode("utf-8"), exc.reason, size))
        self._pending = data[used:]
        return self._taken(self._take(text, size))

    def finish_batches(self, size: int = BATCH_ROWS) -> Iterator[Rows]:
        """`finish`, lazily, like `feed_batches`."""
        self._begin()
        self._finished = True
        return self._taken(self._finish(size))

    def _begin(self) -> None:
        if self._error is not None:
            raise CSVFormatError(self._error.row, self._error.reason)
        if self._finished:
            raise ValueError("the CSV decoder is finished")
        if self._taking:
            raise RuntimeError("take every batch of the previous call before the next one")
        self._taking = True

    def _taken(self, batches: Iterator[Rows]) -> Iterator[Rows]:
        """Count the records as they go out; remember an error for later calls."""
        try:
            for rows in batches:
                self._records += len(rows)
                yield rows
        except CSVFormatError as exc:
            self._error = exc
            self._taking = False
            raise
        # Left unfinished (GeneratorExit), the call still holds the decoder: records would be lost.
        self._taking = False

    def _bad_utf8(self, text: str, reason: str, size: int) -> Iterator[Rows]:
        yield from self._take(text, size)
        raise CSVFormatError(self._records + 1, f"invalid UTF-8 ({reason})")

    def _finish(self, size: int) -> Iterator[Rows]:
        truncated = bool(self._pending)
        text = "".join(self._parts)
        self._parts = []
        try:
            yield from self._parse(text, len(text), final=True, size=size)
        except CSVFormatError as exc:
            if truncated and exc.reason == _END_OF_DATA_REASON:
                raise CSVFormatError(exc.row, _TRUNCATED) from None
            raise
        if truncated:
            # The cut-off character ends the input: it belongs to the last record, or starts one.
            starts_record = not text or text.endswith(("\n", "\r"))
            raise CSVFormatError(self._records + int(starts_record), _TRUNCATED)

    def _take(self, text: str, size: int) -> Iterator[Rows]:
        """Buffer decoded text; parse the records it completes."""
        if not self._started and text:
            self._started = True
            text = text.removeprefix(_BOM)
        if not text:
            return
        self._parts.append(text)
        self._size += len(text)
        if self._quoted_newlines and text.count('"') % 2:
            self._odd = not self._odd
        for _ in range(2):  # a second round only after a misplaced cut (rule 4)
            cut = self._cut()
            if cut is None:
                return
            rest = yield from self._parse(*cut, final=False, size=size)
            if not rest:
                return
            self._unread(rest)
            self._saw_quoted_newline()

    def _cut(self) -> tuple[str, int] | None:
        """Remove the buffered text up to the last record boundary: `(text, end)`, where
        `text[:end]` is what was removed, ending with a newline (None: no boundary yet)."""
        if self._size >= self._rescan_at:
            text = "".join(self._parts)
            match = _RECORDS.match(text)
            end = match.end() if match else 0
            if not end:
                self._parts = [text]
                self._rescan_at = 2 * self._size
                return None
        else:
            # Earlier parts hold no newline (outside quotes, once quotes count), so only the
            # newest is searched, and it is not copied when it is the only one.
            newest = self._parts[-1]
            if self._quoted_newlines:
                cut = _after_last_unquoted_newline(newest, odd_at_end=self._odd)
            else:
                cut = newest.rfind("\n") + 1
            if cut <= 0:
                return None
            head = "".join(self._parts[:-1])
            text, end = (head + newest, len(head) + cut) if head else (newest, cut)
        tail = text[end:]
        self._parts = [tail] if tail else []
        self._size = len(tail)
        self._odd = self._quoted_newlines and tail.count('"') % 2 == 1
        self._rescan_at = _RESCAN_FLOOR
        return text, end

    def _saw_quoted_newline(self) -> None:
        """Count quotes and keep newlines from now on (rules 3 and 6); `_parts` start a record."""
        if not self._quoted_newlines:
            self._quoted_newlines = True
            self._odd = sum(part.count('"') for part in self._parts) % 2 == 1

    def _reader(self, lines: list[str], last: str) -> CSVReader:
        if self._quoted_newlines:
            return csv.reader(_with_newlines(lines, last), strict=True)
        return csv.reader(chain(lines, (last,)) if last else lines, strict=True)

    def _unread(self, text: str) -> None:
        """Put an unfinished record back in front of the buffer; the exact scanner cuts next."""
        self._parts.insert(0, text)
        self._size += len(text)
        if text.count('"') % 2:
            self._odd = not self._odd
        self._rescan_at = 0

    def _parse(self, text: str, end: int, *, final: bool, size: int) -> Parsing:
        """Records in `text[:end]`, which starts a record, in batches; returns the unfinished
        tail if it ends inside quotes (only possible when not `final`)."""
        pos = 0
        if self._pairs and not self._quoted_newlines:
            pos = yield from self._pair_batches(text, pos, end, size)
            self._pair_misses = 0 if pos else self._pair_misses + 1
            if self._pair_misses == _PAIR_MISSES:
                self._pairs = False  # not that kind of file, mostly: spare it the tries
        while pos < end:
            stop = yield from self._read(text, pos, end, final=final, size=size)
            if isinstance(stop, str):
                return stop
            pos = yield from self._pair_batches(text, stop, end, size)  # past the first record
        return ""

    def _pair_batches(self, text: str, pos: int, end: int, size: int) -> Generator[Rows, None, int]:
        """Rule 7: batches of `id,"message"` records from `text[pos:end]` (`pos` starts a line),
        a stretch of about `size` lines at a time, for as long as every line of a stretch is
        one such record. Returns where it stopped: a line start, `end` if it read to the end."""
        stretch = 0  # characters in about `size` lines
        limit = csv.field_size_limit()
        while pos < end:
            if not stretch:
                stretch = (text.find("\n", pos, end) + 1 - pos) * size
            stop = text.rfind("\n", pos, min(pos + stretch, end)) + 1
            stop = stop or text.find("\n", pos, end) + 1
            if not stop:
                return pos  # no whole line left: the file's last line, with no newline after it
            if text.find("\0", pos, stop) >= 0:
                return pos  # NUL, which csv.reader refused before Python 3.11
            lines = text.count("\n", pos, stop)
            rows: Rows = []
            if self._all_quoted:  # so far every message was quoted, none holding `""`
                rows = _QUOTED_PAIR.findall(text, pos, stop)
                self._all_quoted = len(rows) == lines
            if not self._all_quoted:  # for the rest of the file
                rows = _PAIR.findall(text, pos, stop)
            if len(rows) != lines:
                return pos
            ids = "".join(map(_FIRST, rows))
            if '"' in ids or "\r" in ids:
                return pos  # a quote would start a quoted id, or stand in it; a CR ends a record
            if stop - pos >= limit and max(map(len, chain.from_iterable(rows))) >= limit:
                return pos  # csv.reader raises for a field this long
            if not self._all_quoted:
                rows = [
                    (cid, m)  # unquoted
                    if m[:1] != '"'
                    else (cid, m[1:-1])  # quoted
                    if m.count('"') == 2
                    else (cid, m[1:-1].replace('""', '"'))  # quoted, with escaped quotes
                    for cid, m in rows
                ]
            stretch = (stop - pos) * size // lines
            pos = stop
            for i in range(0, lines, size):
                yield rows[i : i + size]
        return pos

    def _read(
        self, text: str, start: int, end: int, *, final: bool, size: int
    ) -> Generator[Rows, None, str | int]:
        """`_parse` by csv.reader, from `start` (a record boundary) to the end. Except that the
        file's first record comes alone, and if it has two fields (rule 7) the position after
        it is returned."""
        if self._pairs is None:
            header = _plain_line(text, start, end)
            if header is not None:
                self._pairs = len(header) == 2
                yield [header]
                return text.find("\n", start, end) + 1
        if start or text.find("\n", end) >= 0:
            lines = text[start:end].split("\n")
            last = lines.pop()
        else:  # no copy: what follows `end` is one unfinished line, split off and dropped
            lines = text.split("\n")
            tail = lines.pop()
            last = tail if end == len(text) else ""
        reader = self._reader(lines, last)
        offset = 0  # lines before the first the reader reads
        while True:
            first = offset + reader.line_num  # a record boundary: where the next batch starts
            try:
                rows: Rows = list(islice(reader, size if self._pairs is not None else 1))
            except csv.Error:
                break
            if not rows:
                return ""
            stop = offset + reader.line_num
            if stop - first != len(rows) and not self._quoted_newlines:
                # A record spans lines, so its newlines count (rule 6): read this batch again
                # with them, and the rest of the file too.
                self._saw_quoted_newline()
                rows = list(
                    csv.reader(_with_newlines(*_span(lines, last, first, stop)), strict=True)
                )
                reader, offset = self._reader(*_span(lines, last, stop, len(lines) + 1)), stop
            if self._pairs is None:
                self._pairs = len(rows[0]) == 2
                if self._pairs and not self._quoted_newlines and stop <= len(lines):
                    yield rows
                    return start + sum(map(len, lines[:stop])) + stop
            yield rows
        # Almost never: only a failure needs the record-by-record loop, which knows where the
        # last good record ended. It starts again where the failed batch started.
        rows, rest, reason = _parse_exact("\n".join([*lines[first:], last]), final=final)
        for i in range(0, len(rows), size):
            yield rows[i : i + size]
        if reason is not None:
            raise CSVFormatError(self._records + 1, reason)
        return rest


def _plain_line(text: str, start: int, end: int) -> list[str] | None:
    """The record of the line at `start` if it has no quotes, CRs (but at its end) or NULs,
    as csv.reader reads it: the file's first record, usually; None for any other line."""
    newline = text.find("\n", start, end)
    line = text[start:newline].removesuffix("\r")
    if newline < 0 or not line or '"' in line or "\r" in line or "\0" in line:
        return None
    return line.split(",")


def _parse_exact(text: str, *, final: bool) -> tuple[Rows, str, str | None]:
    """Record by record: the good records, the unfinished tail when `text` ends inside quotes
    (only when not `final`), and the reason the next record is malformed (None if none is)."""
    rows: Rows = []
    reader = csv.reader(_lines(text), strict=True)
    lines = 0
    try:
        for row in reader:
            rows.append(row)
            lines = reader.line_num
    except csv.Error as exc:
        message = str(exc)
        if message == _END_OF_DATA and not final:
            return rows, text.split("\n", lines)[lines], None
        return rows, "", _reason(message)
    return rows, "", None


def _span(lines: list[str], last: str, start: int, end: int) -> tuple[list[str], str]:
    """Lines `start` to `end` of `[*lines, last]`, as `_parse` takes them."""
    if start > len(lines):
        return [], ""
    if end <= len(lines):
        return lines[start:end], ""
    return lines[start:], last


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, each with its `\\n`, as iterating `io.StringIO(text)` gives them."""
    lines = text.split("\n")
    return _with_newlines(lines, lines.pop())


def _with_newlines(lines: Iterable[str], last: str) -> Iterator[str]:
    """`lines` (split at newlines) with their newlines, then `last` (what follows the last
    newline) if it is not empty."""
    with_newline = map(operator.add, lines, repeat("\n"))
    return chain(with_newline, (last,)) if last else with_newline


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
