"""The streaming export engine: exported files in, `MessageRecord`s out, in bounded memory.

Rules of this file:
1. Structured concurrency: the task group lives in `ExportStream` (an async context manager),
   never inside an async generator. Leaving the block cancels every download and releases its
   connection.
2. Downloads send raw pieces (what has arrived, up to PIECE_BYTES); the iterator decodes them.
   One hand-over carries one piece (never one record: that costs 10-20 us each), through a
   queue that yields to the event loop only when it must wait (`_queue`), and a piece is
   decoded 128 records at a time as they are handed out. So records die young (held in bulk,
   they would set the garbage collector scanning again and again), buffers hold compact bytes,
   and a download never waits on decoding to start its next file. The task group is behind the
   `async with`; `async for` steps through one async generator that holds no scope.
3. Back-pressure: queues are bounded, so a slow consumer stops the downloads, and TCP stops
   the server. Ordered mode holds at most `concurrency` files; unordered about `concurrency`
   pieces.
4. Exactly once: a file that fails midway is fetched again from the start, after a RESTART
   marker; its decoder then skips the rows it already decoded. Workers never raise into the
   task group; a file's final error travels down its queue and is raised from the iterator
   with `.completed_files` set, as is an error decoding it.
5. Sliding window: a new file starts as soon as any finishes, never batch by batch.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import (
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from operator import length_hint
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Protocol
from urllib.parse import urlsplit

import aiohttp
import anyio
from anyio.abc import TaskGroup

from ._config import is_loopback_host
from ._convert import bare_or_under, parse_datetime, pick
from ._csv import CSVFormatError, IncrementalCSVDecoder, Rows
from ._errors import APIError, NudgescribeError, ResponseDecodeError
from ._queue import Queue, Slots
from ._retry import call_with_retries
from ._secrets import RedactedUrl
from ._transport import decode_json, map_transport_errors, read_json, safe_endpoint, send
from ._wire import FETCH_CSV_KEYS, FETCH_ROWS_KEYS, FETCH_URL_KEYS, URL_EXPIRES_KEYS
from .models.messages import NO_EXTRA, MessageRecord, PresignedUrl

if TYPE_CHECKING:
    from ._client import Client

FETCH = "/v1/messages/fetch"
EXPORT_TYPES = ("utf8", "json", "url")
JSON_ROW_LIMIT = 1000
PIECE_BYTES = 1 << 16  # the most a download hands over at once (see _pump)

ExportType = Literal["utf8", "json", "url"]
Batch = list[MessageRecord]


class Marker(enum.Enum):
    """RESTART: the file comes again from its first byte (a retry after a failure)."""

    RESTART = "restart"


RESTART = Marker.RESTART
# What a download sends of one file, in order: CSV bytes as they arrive (the json export: all its
# records at once), RESTART before a retry that follows sent pieces, then None or its final error.
Piece = bytes | Batch | Marker
Item = Piece | None | BaseException
Put = Callable[[Piece], Awaitable[None]]
Sink = Callable[[Batch], Awaitable[None]]


class JsonRowLimitWarning(UserWarning):
    """A `json` export file came back with exactly 1000 rows: the API may have cut it."""


def check_export_args(export_type: str, run_number: int | None) -> None:
    """Refuse bad export arguments before anything is sent."""
    if export_type not in EXPORT_TYPES:
        allowed = ", ".join(EXPORT_TYPES)
        raise ValueError(f"export_type must be one of {allowed}, got {export_type!r}")
    if run_number is not None:
        if isinstance(run_number, bool) or not isinstance(run_number, int) or run_number < 1:
            raise ValueError(f"run_number must be a positive integer, got {run_number!r}")
        if export_type == "url":
            raise ValueError("the url export is not available with run_number (use utf8 or json)")


# -- decoding -------------------------------------------------------------------------------


class RowSink(Protocol):
    """Takes checked CSV rows in place of records: the column numbers of `customer_id` and
    `message`, and (number, name) of the other columns."""

    def add_rows(self, rows: Rows, cid: int, msg: int, extra: list[tuple[int, str]]) -> None: ...


class RecordDecoder:
    """CSV bytes of one file -> `MessageRecord` batches, skipping rows already delivered.

    With `into`, rows that need no MessageRecord of their own (all but those next to a blank
    line or a restart) go to `into.add_rows` instead, in order with the batches, and no record
    is made of them: for readers that want columns.
    """

    def __init__(
        self, campaign_id: str, file_num: int, *, skip: int = 0, into: RowSink | None = None
    ) -> None:
        self._into = into
        self._csv = IncrementalCSVDecoder()
        self._campaign_id = campaign_id
        self._file_num = file_num
        self._skip = skip
        self._header: list[str] | None = None
        self._cid = 0
        self._msg = 1
        self._extra: list[tuple[int, str]] = []
        self.rows = 0  # data rows seen, delivered or skipped

    def feed(self, chunk: bytes) -> Iterator[Batch]:
        """The records this chunk completes, in batches decoded as they are taken (take them all
        before the next call)."""
        return self._batches(self._csv.feed_batches(chunk))

    def finish(self) -> Iterator[Batch]:
        yield from self._batches(self._csv.finish_batches())
        if self._header is None:
            raise self._error("the file is empty: no header row")

    def _batches(self, slices: Iterator[Rows]) -> Iterator[Batch]:
        try:
            for rows in slices:
                try:
                    batch = self._records(rows)
                except _BadRow as bad:  # the records before it go out first
                    if bad.batch:
                        yield bad.batch
                    raise bad.error from None
                if batch:
                    yield batch
        except CSVFormatError as exc:
            # Records count the header and blank lines: the line number a reader of the file sees
            # when no field spans lines.
            raise self._error(f"malformed CSV at record {exc.row}: {exc.reason}") from exc

    def _error(self, text: str) -> ResponseDecodeError:
        return ResponseDecodeError(
            f"campaign {self._campaign_id} file {self._file_num}: {text}", endpoint=FETCH
        )

    def _set_header(self, header: Sequence[str]) -> None:
        names = [h.strip() for h in header]
        lowered = [n.lower() for n in names]
        missing = [c for c in ("customer_id", "message") if c not in lowered]
        if missing:
            raise self._error(f"the CSV has no {' or '.join(missing)} column (header: {names})")
        self._cid, self._msg = lowered.index("customer_id"), lowered.index("message")
        self._extra = [(i, n) for i, n in enumerate(names) if i not in (self._cid, self._msg)]
        self._header = names

    def _records(self, rows: Rows) -> Batch:
        if not rows:
            return []
        if self._header is None:
            self._set_header(rows[0])
            rows = rows[1:]
        width = len(self._header or ())
        if not rows:
            return []
        if width == 2 and self._into is None and self.rows >= self._skip:
            return self._two_columns(rows)
        if self.rows < self._skip or set(map(len, rows)) != {width}:
            return self._records_checked(rows, width)
        # The common case, one comprehension: tuple.__new__ makes the same MessageRecord as the
        # NamedTuple's own __new__, which is a Python function and costs about twice as much.
        new, cid, msg, extra, file_num = (
            tuple.__new__,
            self._cid,
            self._msg,
            self._extra,
            self._file_num,
        )
        start, self.rows = self.rows, self.rows + len(rows)
        if self._into is not None:
            self._into.add_rows(rows, cid, msg, extra)
            return []
        if extra:
            return [
                new(MessageRecord, (f[cid], f[msg], file_num, n, {k: f[i] for i, k in extra}))
                for n, f in enumerate(rows, start)
            ]
        return [
            new(MessageRecord, (f[cid], f[msg], file_num, n, NO_EXTRA))
            for n, f in enumerate(rows, start)
        ]

    def _two_columns(self, rows: Rows) -> Batch:
        """The usual export, `customer_id` and `message` alone: unpacking each row checks its
        width too (a blank line or a third field is a ValueError), so no separate pass does."""
        new, file_num, start = tuple.__new__, self._file_num, self.rows
        try:
            if self._cid == 0:
                batch = [
                    new(MessageRecord, (c, m, file_num, n, NO_EXTRA))
                    for n, (c, m) in enumerate(rows, start)
                ]
            else:
                batch = [
                    new(MessageRecord, (c, m, file_num, n, NO_EXTRA))
                    for n, (m, c) in enumerate(rows, start)
                ]
        except ValueError:
            return self._records_checked(rows, 2)
        self.rows += len(rows)
        return batch

    def _records_checked(self, rows: Rows, width: int) -> Batch:
        """Row by row: blank lines, rows of the wrong width, rows already delivered."""
        out: Batch = []
        n = self.rows
        for fields in rows:
            if len(fields) != width:
                if not fields:
                    continue  # a blank line
                self.rows = n
                text = f"row {n} has {len(fields)} fields where the header has {width}"
                raise _BadRow(out, self._error(text))
            if n >= self._skip:
                extras = {name: fields[i] for i, name in self._extra} if self._extra else NO_EXTRA
                out.append(
                    MessageRecord(fields[self._cid], fields[self._msg], self._file_num, n, extras)
                )
            n += 1
        self.rows = n
        return out


class _BadRow(Exception):
    """A row of the wrong width, and the records decoded before it in the same batch."""

    def __init__(self, batch: Batch, error: ResponseDecodeError) -> None:
        super().__init__(str(error))
        self.batch = batch
        self.error = error


class FileDecoder:
    """The pieces of one file, as its download sends them -> record batches, exactly once."""

    def __init__(self, campaign_id: str, file_num: int, *, into: RowSink | None = None) -> None:
        self._ids = (campaign_id, file_num)
        self._into = into
        self._csv = RecordDecoder(campaign_id, file_num, into=into)
        self._json_rows = 0  # rows of the json export handed on
        self._json = False

    def take(self, piece: Piece) -> Iterator[Batch]:
        """The batches this piece completes, decoded as they are taken (take them all before the
        next call)."""
        if isinstance(piece, bytes):
            return self._csv.feed(piece)
        if isinstance(piece, list):  # the json export: every row at once
            self._json = True
            fresh = piece[self._json_rows :]
            self._json_rows += len(fresh)
            return iter((fresh,) if fresh else ())
        # RESTART: the rows decoded so far were handed on; a record cut short is not lost, the
        # new copy holds it whole.
        self._csv = RecordDecoder(*self._ids, skip=self._csv.rows, into=self._into)
        return iter(())

    def finish(self) -> Iterator[Batch]:
        return iter(()) if self._json else self._csv.finish()


def records_from_json(data: Any, campaign_id: str, file_num: int) -> Batch:
    """The `json` export: `[{"customer_id", "message", ...}]` (or wrapped) -> records."""
    rows = (
        data
        if isinstance(data, list)
        else pick(data, FETCH_ROWS_KEYS)
        if isinstance(data, Mapping)
        else None
    )
    where = f"campaign {campaign_id} file {file_num}"
    if not isinstance(rows, list):
        raise ResponseDecodeError(f"{where}: expected a list of messages", endpoint=FETCH)
    out: Batch = []
    for n, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ResponseDecodeError(f"{where}: row {n} is not an object", endpoint=FETCH)
        cid, msg = row.get("customer_id"), row.get("message")
        if not isinstance(cid, str) or not isinstance(msg, str):
            raise ResponseDecodeError(
                f"{where}: row {n} lacks a string customer_id or message", endpoint=FETCH
            )
        extra = {str(k): str(v) for k, v in row.items() if k not in ("customer_id", "message")}
        out.append(MessageRecord(cid, msg, file_num, n, extra or NO_EXTRA))
    if len(out) == JSON_ROW_LIMIT:
        warnings.warn(
            f"campaign {campaign_id} file {file_num} came back with exactly {JSON_ROW_LIMIT} "
            "rows: the json export is cut at 1000 rows, so rows may be missing. "
            "Use export_type='utf8' for complete files.",
            JsonRowLimitWarning,
            stacklevel=2,
        )
    return out


def presigned_url_from(data: Any) -> PresignedUrl:
    """`{"url", "expires_at"}`, `{"data": url}` or a bare string -> a checked `PresignedUrl`."""
    url = bare_or_under(data, FETCH_URL_KEYS)
    if not isinstance(url, str) or not url:
        raise ResponseDecodeError("expected a pre-signed URL", endpoint=FETCH)
    split = urlsplit(url)
    loopback = split.scheme == "http" and is_loopback_host(split.hostname)
    if split.scheme != "https" and not loopback:
        raise ResponseDecodeError(
            f"refusing a pre-signed URL that is not https: {safe_endpoint(url)}", endpoint=FETCH
        )
    expires = pick(data, URL_EXPIRES_KEYS) if isinstance(data, Mapping) else None
    try:
        expires_at = parse_datetime(expires) if expires is not None else None
    except (TypeError, ValueError):
        expires_at = None
    return PresignedUrl(RedactedUrl(url), expires_at)


# -- reading one file ----------------------------------------------------------------------


class Progress:
    """Counters an export keeps while it runs."""

    def __init__(self) -> None:
        self.files_total = 0
        self.files_done = 0
        self.records = 0
        self.bytes = 0


class FileReader:
    """Downloads one exported file, retrying per the client's policy.

    `read` sends its raw pieces on (see `Piece`); `read_records` decodes them as well.
    """

    def __init__(
        self,
        client: Client,
        campaign_id: str,
        *,
        export_type: str,
        run_number: int | None,
        progress: Progress | None = None,
    ) -> None:
        self._client = client
        self._campaign_id = campaign_id
        self._export_type = export_type
        self._run_number = run_number
        self._progress = progress if progress is not None else Progress()

    def _body(self, file_num: int, export_type: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "campaign_id": self._campaign_id,
            "file_num": file_num,
            "export_type": export_type,
        }
        if self._run_number is not None:
            body["run_number"] = self._run_number
        return body

    async def read_records(self, file_num: int, sink: Sink) -> None:
        """Deliver every row of `file_num` to `sink` exactly once, decoded here."""
        decoder = FileDecoder(self._campaign_id, file_num)

        async def put(piece: Piece) -> None:
            for batch in decoder.take(piece):
                await sink(batch)

        await self.read(file_num, put)
        for batch in decoder.finish():
            await sink(batch)

    async def read(self, file_num: int, put: Put) -> None:
        """Send every piece of `file_num` to `put`, retrying per the client's policy; a retry
        after some pieces were sent is announced with RESTART, so the decoder skips the rows
        it already has."""
        sent = False

        async def tracking_put(piece: Piece) -> None:
            nonlocal sent
            sent = True
            await put(piece)

        async def attempt() -> None:
            nonlocal sent
            if sent:
                await put(RESTART)
                sent = False
            await self._attempt(file_num, tracking_put)

        await call_with_retries(
            self._client.retry, attempt, idempotent=True, what=f"{FETCH} file {file_num}"
        )

    async def _fetch_json(self, file_num: int, export_type: str) -> Any:
        """One try of a JSON answer from the fetch endpoint (retries belong to the caller)."""
        resp = await self._client.send_authed("POST", FETCH, body=self._body(file_num, export_type))
        return await read_json(resp, endpoint=FETCH)

    async def _attempt(self, file_num: int, put: Put) -> None:
        if self._export_type == "json":
            data = await self._fetch_json(file_num, "json")
            await put(records_from_json(data, self._campaign_id, file_num))
        elif self._export_type == "url":
            await self._stream_url(file_num, put)
        else:
            resp = await self._client.send_authed("POST", FETCH, body=self._body(file_num, "utf8"))
            await self._pump(resp, FETCH, put)

    async def file_url(self, file_num: int) -> PresignedUrl:
        """A fresh pre-signed URL for `file_num`, retried per the client's policy."""

        async def attempt() -> PresignedUrl:
            return presigned_url_from(await self._fetch_json(file_num, "url"))

        return await call_with_retries(self._client.retry, attempt, idempotent=True, what=FETCH)

    async def _stream_url(self, file_num: int, put: Put) -> None:
        """GET the CSV from storage with none of our headers; one fresh URL on a 403."""
        for fresh in (False, True):
            link = presigned_url_from(await self._fetch_json(file_num, "url"))
            endpoint = safe_endpoint(link.url)
            try:
                resp = await send(self._client.session, "GET", link.url, endpoint=endpoint)
            except APIError as exc:
                if exc.status == 403 and not fresh:
                    continue
                raise
            await self._pump(resp, endpoint, put)
            return

    async def _pump(self, resp: aiohttp.ClientResponse, endpoint: str, put: Put) -> None:
        progress = self._progress
        async with resp:
            with map_transport_errors(endpoint):
                if resp.content_type == "application/json":
                    text = _csv_from_json(decode_json(await resp.read(), endpoint=endpoint))
                    progress.bytes += len(text)
                    await put(text.encode("utf-8"))
                else:
                    # Whatever has arrived, up to PIECE_BYTES at once: iter_any() would hand
                    # over each network read apart (often 16 KiB), and each piece has its cost
                    # on the way to the iterator. Pieces stay under 128 KiB, where glibc would
                    # map fresh pages for each (always so in a Dask worker, whose Nanny sets
                    # MALLOC_TRIM_THRESHOLD_ and so freezes the mmap threshold there).
                    async for chunk in resp.content.iter_chunked(PIECE_BYTES):
                        progress.bytes += len(chunk)
                        await put(chunk)


def _csv_from_json(data: Any) -> str:
    text = bare_or_under(data, FETCH_CSV_KEYS)
    if not isinstance(text, str):
        raise ResponseDecodeError("expected CSV text", endpoint=FETCH)
    return text


# -- the stream ---------------------------------------------------------------------------


class ExportStream:
    """`async with client.messages.stream(...) as records: async for rec in records: ...`

    While it runs: `files_total`, `files_done` (files fully yielded), `records` (yielded) and
    `bytes` (downloaded). `completed_files` is the set of file numbers fully yielded so far.
    One task reads it at a time.
    """

    def __init__(
        self,
        client: Client,
        campaign_id: str,
        *,
        export_type: str,
        run_number: int | None,
        concurrency: int,
        ordered: bool,
        file_nums: Iterable[int] | None,
        count_files: Callable[[], Awaitable[int]],
    ) -> None:
        check_export_args(export_type, run_number)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
        self._wanted = _check_file_nums(file_nums)
        self._client = client
        self._campaign_id = campaign_id
        self._concurrency = concurrency
        self._ordered = ordered
        self._count_files = count_files
        self._progress = Progress()
        self._reader = FileReader(
            client,
            campaign_id,
            export_type=export_type,
            run_number=run_number,
            progress=self._progress,
        )
        self.completed_files: set[int] = set()
        self._tg: TaskGroup | None = None
        self._source: _Source | None = None
        # The batch being handed out, as an iterator: `for` over it runs at C speed, and what is
        # left of it is its length hint. `_progress.records` counts whole batches taken.
        self._rest: Iterator[MessageRecord] = iter(())
        self._decoders: dict[int, FileDecoder] = {}  # files under way
        self._undecodable: set[int] = set()  # files that would not decode: their rest is dropped
        # The batches of the last piece taken from the source, decoded as they are handed out;
        # the file they belong to, and whether that piece was the file's end.
        self._pending: Iterator[Batch] = iter(())
        self._pending_file = -1
        self._pending_end = False
        self._entered = False
        self._waiting = False  # a reader waits for the next batch: one reader at a time

    @property
    def files_total(self) -> int:
        return self._progress.files_total

    @property
    def files_done(self) -> int:
        return self._progress.files_done

    @property
    def records(self) -> int:
        return self._progress.records - length_hint(self._rest)

    @property
    def bytes(self) -> int:
        return self._progress.bytes

    def __repr__(self) -> str:
        return (
            f"<ExportStream campaign={self._campaign_id} files={self.files_done}/"
            f"{self.files_total} records={self.records}>"
        )

    async def __aenter__(self) -> ExportStream:
        if self._entered:
            raise RuntimeError("an ExportStream can be entered only once")
        self._entered = True
        total = await self._count_files()
        nums = _resolve_file_nums(self._wanted, total)
        self._progress.files_total = len(nums)
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        source_cls = _OrderedSource if self._ordered else _UnorderedSource
        self._source = source_cls(self._reader, nums, self._concurrency)
        tg.start_soon(self._source.run)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        tg, self._tg = self._tg, None
        if tg is None:
            return None
        self._source, self._rest = None, iter(())
        tg.cancel_scope.cancel()
        try:
            await tg.__aexit__(exc_type, exc, tb)
        except BaseException as raised:
            # anyio wraps the body's own exception in a group; hand the caller the original.
            if exc is not None and _only_holds(raised, exc):
                return None
            raise
        return None

    def __aiter__(self) -> ExportStream:
        return self

    async def __anext__(self) -> MessageRecord:
        # Paid per record, so kept to the bone: a coroutine returns its value to the awaiting
        # `async for` directly, where an async generator's step raises StopIteration to carry it
        # (about a sixth more per record on CPython 3.11).
        for record in self._rest:
            return record
        self._rest = iter(await self._next_batch())  # never empty; StopAsyncIteration at the end
        return next(self._rest)

    async def batches(self) -> Batch | None:
        """The next batch of records as decoded (the fastest way through), or None at the end."""
        rest = list(self._rest)
        if rest:
            return rest
        try:
            return await self._next_batch()
        except StopAsyncIteration:
            return None

    async def _next_batch(self) -> Batch:
        """The next non-empty batch, counted as handed out; StopAsyncIteration at the end."""
        if self._source is None:
            raise RuntimeError("use the export stream inside `async with`")
        if self._waiting:
            raise RuntimeError("another task is already reading this export stream")
        self._waiting = True
        try:
            return await self._fill(self._source)
        finally:
            self._waiting = False

    async def _fill(self, source: _Source) -> Batch:
        while True:
            batch = self._take_pending()
            if batch is not None:
                self._progress.records += len(batch)
                return batch
            file_num, item = await source.next_item()
            if file_num in self._undecodable:
                continue
            if isinstance(item, BaseException):
                self._decoders.pop(file_num, None)
                self._raise(item)
            self._pending = self._decode(file_num, item)
            self._pending_file, self._pending_end = file_num, item is None
            if item is None:
                # The source hands out ready items without yielding (see _queue): let the
                # event loop's other tasks run once per file.
                await anyio.lowlevel.checkpoint()

    def _take_pending(self) -> Batch | None:
        """The next batch of the last piece; once they are all handed out, a file that ended
        with that piece is complete."""
        try:
            for batch in self._pending:
                return batch
        except NudgescribeError as exc:
            self._decoders.pop(self._pending_file, None)
            self._undecodable.add(self._pending_file)
            self._pending_end = False
            self._raise(exc)
        if self._pending_end:
            self._pending_end = False
            self._complete(self._pending_file)
        return None

    def _decode(self, file_num: int, piece: Piece | None) -> Iterator[Batch]:
        """Decode one piece of a file (None: its end) where it is consumed, as it is taken."""
        decoder = self._decoders.get(file_num)
        if decoder is None:
            decoder = self._decoders[file_num] = FileDecoder(self._campaign_id, file_num)
        if piece is None:
            del self._decoders[file_num]
            yield from decoder.finish()
        else:
            yield from decoder.take(piece)

    def _complete(self, file_num: int) -> None:
        self.completed_files.add(file_num)
        self._progress.files_done += 1

    def _raise(self, error: BaseException) -> NoReturn:
        if isinstance(error, NudgescribeError):
            error.completed_files = frozenset(self.completed_files)
        raise error


def _only_holds(raised: BaseException, original: BaseException) -> bool:
    if raised is original:
        return True
    inner = getattr(raised, "exceptions", None)
    return isinstance(inner, tuple) and len(inner) == 1 and _only_holds(inner[0], original)


class _Source:
    """Where the iterator's items come from: `run` is the task that starts `concurrency`
    workers, which share one iterator of file numbers (the sliding window of rule 5)."""

    def __init__(self, reader: FileReader, nums: Sequence[int], concurrency: int) -> None:
        self._reader = reader
        self._nums = nums
        self._concurrency = concurrency
        self._failed = False  # once a file has failed for good, start no other

    async def run(self) -> None:
        todo = iter(self._nums)
        async with anyio.create_task_group() as tg:
            for _ in range(min(self._concurrency, len(self._nums))):
                tg.start_soon(self._worker, todo)
        self._end()

    async def _worker(self, todo: Iterator[int]) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        """Every worker is done: the iterator ends after the items already queued."""
        raise NotImplementedError

    async def next_item(self) -> tuple[int, Item]:
        """The next (file_num, item); StopAsyncIteration when every file is done."""
        raise NotImplementedError

    async def _read_into(self, file_num: int, put: Callable[[Item], Awaitable[None]]) -> None:
        try:
            await self._reader.read(file_num, put)
        except Exception as exc:  # every failure travels down the queue (rule 4)
            self._failed = True
            await put(exc)
            return
        await put(None)


class _UnorderedSource(_Source):
    """The workers share one queue of `concurrency` items: rows as they arrive."""

    def __init__(self, reader: FileReader, nums: Sequence[int], concurrency: int) -> None:
        super().__init__(reader, nums, concurrency)
        self._items: Queue[tuple[int, Item]] = Queue(concurrency)

    async def _worker(self, todo: Iterator[int]) -> None:
        for file_num in todo:
            if self._failed:
                return

            async def put(item: Item, file_num: int = file_num) -> None:
                await self._items.put((file_num, item))

            await self._read_into(file_num, put)

    def _end(self) -> None:
        self._items.end()

    async def next_item(self) -> tuple[int, Item]:
        try:
            return await self._items.take()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class _OrderedSource(_Source):
    """Files in `file_num` order: up to `concurrency` files download ahead, each into a queue of
    its own; a slot frees when the consumer has read a file to its end."""

    def __init__(self, reader: FileReader, nums: Sequence[int], concurrency: int) -> None:
        super().__init__(reader, nums, concurrency)
        self._slots = Slots(concurrency)
        # The files started, in file order (a worker takes its file number as it gets its slot),
        # each with the queue of its items.
        self._files: Queue[tuple[int, Queue[Item]]] = Queue()
        self._current: tuple[int, Queue[Item]] | None = None

    async def _worker(self, todo: Iterator[int]) -> None:
        while True:
            await self._slots.acquire()
            file_num = next(todo, None)
            if file_num is None or self._failed:
                self._slots.release()
                return
            items: Queue[Item] = Queue()  # unbounded: the window of files is the bound
            await self._files.put((file_num, items))
            await self._read_into(file_num, items.put)

    def _end(self) -> None:
        self._files.end()

    async def next_item(self) -> tuple[int, Item]:
        if self._current is None:
            try:
                self._current = await self._files.take()
            except anyio.EndOfStream:
                raise StopAsyncIteration from None
        file_num, items = self._current
        item = await items.take()
        if item is None or isinstance(item, BaseException):
            self._current = None
            self._slots.release()
        return file_num, item


def _check_file_nums(file_nums: Iterable[int] | None) -> list[int] | None:
    if file_nums is None:
        return None
    if isinstance(file_nums, (str, bytes)):
        raise TypeError("file_nums must be an iterable of integers")
    nums = list(file_nums)
    for n in nums:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"file_nums must hold integers, got {n!r}")
        if n < 0:
            raise ValueError(f"file numbers start at 0, got {n}")
    if len(set(nums)) != len(nums):
        raise ValueError("file_nums holds a file number twice")
    return nums


def _resolve_file_nums(wanted: list[int] | None, total: int) -> list[int]:
    if wanted is None:
        return list(range(total))
    beyond = [n for n in wanted if n >= total]
    if beyond:
        raise ValueError(
            f"file_nums {beyond[:5]} are out of range: the export has {total} files "
            f"(0 to {total - 1})"
        )
    return sorted(wanted)
