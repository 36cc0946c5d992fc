"""A campaign's message export as a Dask DataFrame: `read_messages`.

```python
from nudgescribe_async.dask import read_messages

df = read_messages(campaign_id, files_per_partition=16, concurrency=16)
df.to_parquet("messages/")
```

Rules of this file:
1. Nothing secret enters the task graph: partitions carry the campaign, the export options,
   their file numbers and where a worker finds credentials (its `NUDGESCRIBE_*` environment, or
   a file path), never the credentials themselves.
2. The file count is asked once, here, on the calling machine; every argument is checked before
   any partition runs, and a bad one raises `ValueError`.
3. Partitions are exact (see `_dask_io`): a task returns every record of its files once, or
   fails with the SDK's typed error, so `compute(retries=n)` stays exact too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

try:
    import dask.dataframe as dd
    import pandas as pd  # noqa: F401 - checked here so the message below names the extra
    import pyarrow  # noqa: F401
except ImportError as exc:
    raise ImportError(
        f"nudgescribe_async.dask needs the dask extra ({exc.name or exc} is missing): "
        "pip install 'nudgescribe-async[dask]'"
    ) from exc

from . import _sync
from ._dask_io import (
    ClientSource,
    PartitionReader,
    absolute_path,
    check_extra_columns,
    count_files,
    frame,
)
from ._export import ExportType, _check_file_nums, _resolve_file_nums, check_export_args
from .resources._base import check_id

__all__ = ["read_messages"]

# Dask's constructors are not annotated; their types as this module uses them.
_from_map: Callable[..., dd.DataFrame] = dd.from_map
_from_pandas: Callable[..., dd.DataFrame] = dd.from_pandas


def read_messages(
    campaign_id: str,
    *,
    export_type: ExportType = "utf8",
    run_number: int | None = None,
    file_nums: Iterable[int] | None = None,
    files_per_partition: int = 1,
    concurrency: int = 4,
    extra_columns: Iterable[str] = (),
    base_url: str | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
) -> dd.DataFrame:
    """The campaign's exported messages as a Dask DataFrame, `files_per_partition` files each.

    Columns: `customer_id`, `message` (strings), `file_num`, `row` (int64), then each name in
    `extra_columns` as a string column (null where a file lacks that CSV column). Partitions
    take `file_nums` (all files by default) in ascending order, `files_per_partition` at a
    time, so `npartitions` is known at once; rows come in file and row order within each.
    A partition reads up to `concurrency` of its files at a time.

    Each process that reads a partition uses one client for these settings, authenticated
    once and reused: credentials come from that process's `NUDGESCRIBE_*` variables, or from
    `credentials_file`, a JSON object with `email`, `password`, `api_key`, `api_code` and
    optionally `base_url` and `client_ip`, at a path every worker can read. Only the path
    enters the task graph. `base_url` wins over the file's and the environment's.

    The file count is asked here, once. Raises `ValueError` for a bad argument (including
    file numbers beyond the count) and the SDK's errors if the count cannot be read.
    """
    check_export_args(export_type, run_number)
    _check_positive("files_per_partition", files_per_partition)
    _check_positive("concurrency", concurrency)
    cid = check_id(campaign_id)
    wanted = _check_file_nums(file_nums)
    extras = check_extra_columns(extra_columns)
    source = ClientSource(base_url, absolute_path(credentials_file))
    nums = _resolve_file_nums(wanted, _sync.run(count_files(source, cid, run_number)))
    meta = frame([], extras)
    if not nums:
        return _from_pandas(meta, npartitions=1)
    reader = PartitionReader(cid, export_type, run_number, concurrency, extras, source)
    step = files_per_partition
    parts = [tuple(nums[i : i + step]) for i in range(0, len(nums), step)]
    return _from_map(reader, parts, meta=meta, label="read-messages")


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
