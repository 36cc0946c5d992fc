"""The multipart body of a CSV upload, streamed from a file, from bytes, or from the caller.

Rules of this file:
1. A file is read in `CHUNK`-sized pieces while the request is written, never whole, and the
   reads run in a worker thread (anyio) so the event loop never blocks on the disk.
2. Each attempt gets a fresh body (`CsvUpload` is the client's `body_factory`), so a path or
   bytes can be sent again after a token refresh. An async iterable can be read only once:
   `replayable` is False for it and a second body is refused.
3. Every file opened for an attempt is closed when the request is over (`aclose`), whether
   or not the body was written to the end.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, Mapping
from typing import Union

import aiohttp
import anyio

CHUNK = 64 * 1024

CsvSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, AsyncIterable[bytes]]


class CsvUpload:
    """`upload()` builds `fields` plus the CSV under `file_field` as `multipart/form-data`."""

    def __init__(self, fields: Mapping[str, str], source: CsvSource, *, file_field: str) -> None:
        self._fields = dict(fields)
        self._file_field = file_field
        self._open: list[AsyncGenerator[bytes, None]] = []
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
            chunks = read_file(source)
            self._open.append(chunks)
            return chunks
        if self._used:
            raise RuntimeError(
                "the csv async iterable was already sent once and cannot be replayed; "
                "pass a path or bytes for an upload the client may resend"
            )
        self._used = True
        chunks = checked_chunks(source)
        self._open.append(chunks)
        return chunks

    async def aclose(self) -> None:
        """Close every file (and chunk generator) the attempts opened."""
        while self._open:
            await self._open.pop().aclose()


async def read_file(path: str) -> AsyncGenerator[bytes, None]:
    """The bytes of `path`, `CHUNK` at a time; the file opens on the first read."""
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(CHUNK):
            yield chunk


async def checked_chunks(source: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """The caller's chunks, each checked to be bytes, empty ones skipped."""
    async for chunk in source:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"csv chunks must be bytes, got {type(chunk).__name__}")
        if chunk:
            yield bytes(chunk)
