"""What a Dask partition of a message export is, and how a worker reads one.

Rules of this file:
1. A `PartitionReader` is what the task graph carries: the campaign, the export options and a
   `ClientSource` (a base URL and a credentials file *path*). Never a credential or a token.
2. A worker reads credentials from its own `NUDGESCRIBE_*` environment, or from the file the
   path names, and keeps one client per `ClientSource` on its process's SDK loop (`_sync`).
3. A partition is all or nothing: its files are read with `FileReader` (retried per the
   client's policy; a retry starts the file afresh) and decoded once whole, each row exactly
   once, and the frame is built only when every file is complete.
   Otherwise the first error is raised, with `.completed_files` set, and nothing is returned.
4. Rows go straight into column lists as they are decoded (no MessageRecord each), and each
   complete file becomes Arrow columns at once, on the loop, while other files are still
   downloading; the partition's frame then only chains them. `frame(files, extra_columns)`
   builds partitions and `meta` alike, so their dtypes agree: strings are `string[pyarrow]`
   (what Dask converts strings to), numbers int64.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

import anyio
import attrs
import numpy as np
import pandas as pd
import pyarrow as pa

from . import _sync
from ._client import Client
from ._csv import Rows
from ._errors import NudgescribeError
from ._export import RESTART, FileDecoder, FileReader, Piece
from ._queue import Queue
from .models.messages import MessageRecord

STRING = pd.StringDtype("pyarrow")
ARROW_STRING = pa.large_string()  # what pandas keeps `string[pyarrow]` in
BASE_COLUMNS = ("customer_id", "message", "file_num", "row")
CREDENTIAL_KEYS = frozenset({"email", "password", "api_key", "api_code", "base_url", "client_ip"})


# -- credentials ---------------------------------------------------------------------------


def load_credentials_file(path: str) -> dict[str, str]:
    """A JSON object of `CREDENTIAL_KEYS` -> string values. Errors name keys, never values."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ValueError(f"cannot read the credentials file {path}: {exc.strerror}") from None
    position = ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # Not chained: the decode error holds the whole document, secrets included.
        position = f"line {exc.lineno} column {exc.colno}"
    if position:
        raise ValueError(f"the credentials file {path} is not valid JSON ({position})")
    if not isinstance(data, dict):
        raise ValueError(f"the credentials file {path} must hold a JSON object")
    unknown = sorted(set(data) - CREDENTIAL_KEYS)
    if unknown:
        allowed = ", ".join(sorted(CREDENTIAL_KEYS))
        raise ValueError(f"the credentials file {path} has unknown keys {unknown} ({allowed})")
    bad = sorted(k for k, v in data.items() if v is not None and not isinstance(v, str))
    if bad:
        raise ValueError(f"the credentials file {path}: {bad} must be strings")
    return {k: v for k, v in data.items() if v is not None}


@attrs.frozen
class ClientSource:
    """Where a process finds its client's settings: safe to pickle, the client cache's key.

    `credentials_file` is a path; without it, the process's `NUDGESCRIBE_*` variables. An
    explicit `base_url` wins over the file's, which wins over `NUDGESCRIBE_BASE_URL`.
    """

    base_url: str | None = None
    credentials_file: str | None = None

    def make_client(self) -> Client:
        options: dict[str, Any] = {}
        if self.credentials_file is not None:
            options = load_credentials_file(self.credentials_file)
        file_base_url = options.pop("base_url", None)
        return Client(self.base_url or file_base_url, **options)

    async def client(self) -> Client:
        """This process's client for these settings (on the SDK loop)."""
        return await _sync.shared_client(self, self.make_client)


async def count_files(source: ClientSource, campaign_id: str, run_number: int | None) -> int:
    client = await source.client()
    return await client.messages.count_files(campaign_id, run_number=run_number)


# -- partitions ----------------------------------------------------------------------------


FileColumns = dict[str, Any]  # column name -> an Arrow string array or an int64 ndarray


@attrs.frozen
class PartitionReader:
    """`reader(file_nums)` -> the DataFrame of those files' records, in file and row order."""

    campaign_id: str
    export_type: str
    run_number: int | None
    concurrency: int
    extra_columns: tuple[str, ...]
    source: ClientSource

    def __call__(self, file_nums: Sequence[int]) -> pd.DataFrame:
        return frame(_sync.run(self.read(file_nums)), self.extra_columns)

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return (type(self).__qualname__, *attrs.astuple(self, recurse=True))

    async def read(self, file_nums: Sequence[int]) -> list[FileColumns]:
        """The columns of every file, in `file_nums` order; or the first error, nothing else."""
        client = await self.source.client()
        reader = FileReader(
            client, self.campaign_id, export_type=self.export_type, run_number=self.run_number
        )
        return await _PartitionRead(self, reader, file_nums).run()

    def columns(self, file_num: int, pieces: list[Piece]) -> FileColumns:
        """One whole file's pieces (see `FileReader.read`) -> its columns."""
        builder = ColumnsBuilder(self.extra_columns)
        decoder = FileDecoder(self.campaign_id, file_num, into=builder)
        for piece in pieces:
            for batch in decoder.take(piece):
                builder.add_records(batch)
        for batch in decoder.finish():
            builder.add_records(batch)
        return builder.columns(file_num)


class _PartitionRead:
    """One partition's files: `concurrency` downloads in a sliding window hand whole files to
    one decoding task and go on to their next file at once (a download that decoded its own
    file would send its next request only after that, and with slow responses the waits would
    add up). At most `concurrency` downloaded files wait to be decoded. The first failure
    cancels the rest."""

    def __init__(
        self, partition: PartitionReader, reader: FileReader, file_nums: Sequence[int]
    ) -> None:
        self._partition = partition
        self._reader = reader
        self._nums = file_nums
        self._todo = iter(file_nums)  # shared by the downloads
        self._downloaded: Queue[tuple[int, list[Piece]]] = Queue(partition.concurrency)
        self._done: dict[int, FileColumns] = {}
        self._errors: list[Exception] = []
        self._scope = anyio.CancelScope()

    async def run(self) -> list[FileColumns]:
        with self._scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._decode)
                async with anyio.create_task_group() as downloads:
                    for _ in range(min(self._partition.concurrency, len(self._nums))):
                        downloads.start_soon(self._download)
                self._downloaded.end()
        if self._errors:
            error = self._errors[0]
            if isinstance(error, NudgescribeError):
                error.completed_files = frozenset(self._done)
            raise error
        return [self._done[n] for n in self._nums]

    def _fail(self, exc: Exception) -> None:
        self._errors.append(exc)
        self._scope.cancel()

    async def _download(self) -> None:
        for file_num in self._todo:
            pieces: list[Piece] = []

            async def put(piece: Piece, pieces: list[Piece] = pieces) -> None:
                if piece is RESTART:  # the file comes again from its first byte
                    pieces.clear()
                else:
                    pieces.append(piece)

            try:
                await self._reader.read(file_num, put)
            except Exception as exc:
                self._fail(exc)
                return
            await self._downloaded.put((file_num, pieces))

    async def _decode(self) -> None:
        while True:
            try:
                file_num, pieces = await self._downloaded.take()
            except anyio.EndOfStream:
                return
            try:
                self._done[file_num] = self._partition.columns(file_num, pieces)
            except Exception as exc:
                self._fail(exc)
                return
            await anyio.lowlevel.checkpoint()  # let the downloads send their requests


class ColumnsBuilder:
    """One file's rows, as they are decoded, -> its columns. Rows arrive whole and in order
    (rule 3), so `row` is 0..n-1 and `file_num` one value: neither is kept per row."""

    def __init__(self, extra_columns: Iterable[str]) -> None:
        self._cids: list[str] = []
        self._msgs: list[str] = []
        self._extra: dict[str, list[str | None]] = {name: [] for name in extra_columns}

    def add_rows(self, rows: Rows, cid: int, msg: int, extra: list[tuple[int, str]]) -> None:
        """Checked CSV rows (see `RecordDecoder`), no MessageRecord made of them."""
        self._cids += map(itemgetter(cid), rows)
        self._msgs += map(itemgetter(msg), rows)
        if self._extra:
            where = {name: i for i, name in extra}
            for name, values in self._extra.items():
                i = where.get(name)
                values += repeat(None, len(rows)) if i is None else map(itemgetter(i), rows)

    def add_records(self, batch: list[MessageRecord]) -> None:
        """Records the decoder made (the json export; rows next to a blank line or a retry)."""
        self._cids += [r[0] for r in batch]
        self._msgs += [r[1] for r in batch]
        for name, values in self._extra.items():
            values += [r[4].get(name) for r in batch]

    def columns(self, file_num: int) -> FileColumns:
        n = len(self._cids)
        out: FileColumns = {
            "customer_id": pa.array(self._cids, ARROW_STRING),
            "message": pa.array(self._msgs, ARROW_STRING),
            "file_num": np.full(n, file_num, dtype=np.int64),
            "row": np.arange(n, dtype=np.int64),
        }
        for name, values in self._extra.items():
            out[name] = pa.array(values, ARROW_STRING)
        return out


def frame(files: Sequence[FileColumns], extra_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Files' columns -> the partition's DataFrame; `frame([], extra)` is the meta."""
    data: dict[str, Any] = {}
    for name in (*BASE_COLUMNS, *extra_columns):
        parts = [f[name] for f in files]
        if name in ("file_num", "row"):
            data[name] = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        else:
            data[name] = pd.arrays.ArrowStringArray(pa.chunked_array(parts, ARROW_STRING))
    return pd.DataFrame(data)


def check_extra_columns(extra_columns: Iterable[str]) -> tuple[str, ...]:
    if isinstance(extra_columns, (str, bytes)):
        raise TypeError("extra_columns must be an iterable of column names, not one string")
    names = tuple(extra_columns)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"extra_columns must hold non-empty strings, got {name!r}")
        if name in BASE_COLUMNS:
            raise ValueError(f"{name!r} is always a column; do not list it in extra_columns")
    if len(set(names)) != len(names):
        raise ValueError("extra_columns names a column twice")
    return names


def absolute_path(path: str | os.PathLike[str] | None) -> str | None:
    """The credentials file as an absolute path (the workers' working directory may differ)."""
    return None if path is None else os.path.abspath(os.fspath(path))
