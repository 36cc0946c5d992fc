"""The multipart body of a CSV upload, streamed from a file, from bytes, or from the caller.

Rules of this file:
1. A file is read in `CHUNK`-sized pieces while the request is written, never whole, and
   every file operation runs in a worker thread (anyio), so the event loop never blocks on
   the disk.
2. Each attempt gets a fresh body (`CsvUpload` is the client's `body_factory`), so a path or
   bytes can be sent again after a token refresh. An async iterable can be read only once:
   `replayable` is False for it and a second body is refused.
3. Every file opened for an attempt is closed when the request is over (`aclose`), whether
   or not the body was written to the end. The reader is a class, not an async generator:
   when the server answers before the body is sent (a 403, a 404), aiohttp's writer task may
   still be inside a read, and closing a running async generator fails instead of closing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncGenerator, AsyncIterable, Mapping
from typing import BinaryIO, Union

import aiohttp
import anyio

CHUNK = 64 * 1024

CsvSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, AsyncIterable[bytes]]


class CsvUpload:
    """`upload()` builds `fields` plus the CSV under `file_field` as `multipart/form-data`."""

    def __init__(self, fields: Mapping[str, str], source: CsvSource, *, file_field: str) -> None:
        self._fields = dict(fields)
        self._file_field = file_field
        self._open: list[FileChunks] = []
        self._used = False
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._source: bytes | str | AsyncIterable[bytes] = bytes(source)
            self.filename = "customers.csv"
        elif isinstance(source, (str, os.PathLike)):
            self._source = os.fsdecode(source)
            self.filename = os.path.basename(self._source) or "customers.csv"
        elif isinstance(source, AsyncIterable):
            self._source = source
            self.filename = "customers.csv"
        else:
            raise TypeError(
                "csv must be a path (str or os.PathLike), bytes, or an async iterable of bytes; "
                f"got {type(source).__name__}"
            )

    def __repr__(self) -> str:
        return f"<CsvUpload {self.filename!r}>"

    @property
    def replayable(self) -> bool:
        """Whether the body can be built again for a second attempt."""
        return not isinstance(self._source, AsyncIterable)

    async def check(self) -> None:
        """Refuse, before sending, a path that is not a file or bytes that are empty."""
        if isinstance(self._source, bytes) and not self._source:
            raise ValueError("csv is empty")
        if isinstance(self._source, str) and not await anyio.Path(self._source).is_file():
            raise FileNotFoundError(f"csv: no such file: {self._source!r}")

    def __call__(self) -> aiohttp.FormData:
        form = aiohttp.FormData()
        for name, value in self._fields.items():
            form.add_field(name, value)
        form.add_field(
            self._file_field, self._body(), filename=self.filename, content_type="text/csv"
        )
        return form

    def _body(self) -> bytes | AsyncIterable[bytes]:
        source = self._source
        if isinstance(source, bytes):
            return source
        if isinstance(source, str):
            chunks = FileChunks(source)
            self._open.append(chunks)
            return chunks
        if self._used:
            raise RuntimeError(
                "the csv async iterable was already sent once and cannot be replayed; "
                "pass a path or bytes for an upload the client may resend"
            )
        self._used = True
        return checked_chunks(source)

    async def aclose(self) -> None:
        """Close every file the attempts opened."""
        while self._open:
            await self._open.pop().aclose()


class FileChunks:
    """The bytes of a file, `CHUNK` at a time: opened on the first read, closed at its end or
    by `aclose()`, whichever comes first, and never left open.

    Opening, reading and closing run in worker threads. aiohttp cancels its writer task with
    a plain asyncio cancel, which no cancel scope holds back, so a file opened by a thread
    whose caller was cancelled must still be found: the thread registers it under a lock,
    or closes it itself when `aclose()` has already run.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._closed = False

    def __aiter__(self) -> FileChunks:
        return self

    async def __anext__(self) -> bytes:
        file = self._file or await anyio.to_thread.run_sync(self._open)
        if file is None:
            raise StopAsyncIteration
        try:
            chunk = await anyio.to_thread.run_sync(file.read, CHUNK)
        except ValueError:  # "read of closed file": aclose() ran first
            if self._closed:
                raise StopAsyncIteration from None
            raise
        if not chunk:
            await self.aclose()
            raise StopAsyncIteration
        return chunk

    def _open(self) -> BinaryIO | None:
        with self._lock:
            if self._closed:
                return None
            if self._file is None:
                self._file = open(self._path, "rb")  # noqa: SIM115 - closed by aclose()
            return self._file

    async def aclose(self) -> None:
        with self._lock:
            self._closed = True
            file, self._file = self._file, None
        if file is not None:
            await anyio.to_thread.run_sync(file.close)


async def checked_chunks(source: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """The caller's chunks, each checked to be bytes, empty ones skipped."""
    async for chunk in source:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"csv chunks must be bytes, got {type(chunk).__name__}")
        if chunk:
            yield bytes(chunk)
