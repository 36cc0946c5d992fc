"""`nudgescribe export CAMPAIGN_ID --dask ADDRESS --out DIR`: Parquet written by a Dask cluster.

Rules of this file:
1. Only the command's work lives here; `_cli.py` parses the flags and calls `export_to_parquet`.
2. `ADDRESS` is a scheduler address, or `local` for a `LocalCluster` sized to this machine that
   lives as long as the export. Workers find credentials as `read_messages` says: their
   `NUDGESCRIBE_*` environment or `credentials_file`; nothing secret is sent to the cluster.
3. Progress goes to stderr while the cluster works; stdout stays clean. Errors are one line on
   stderr and the exit codes of `_cli`, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any, cast

from ._errors import NudgescribeError
from ._export import ExportType

LOCAL = "local"
CONNECT_TIMEOUT = "10s"


def export_to_parquet(
    campaign_id: str,
    *,
    address: str,
    out: str,
    export_type: str,
    run_number: int | None,
    concurrency: int,
    files_per_partition: int,
    base_url: str | None,
    credentials_file: str | None,
) -> int:
    """Write the campaign's export to `out` as Parquet through the cluster at `address`; the
    process exit code. Blocks until the export is written (call it outside a running loop, or
    from a thread)."""
    # Imported here: `_cli` imports this module, and exit codes are defined there once.
    from ._cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, exit_code_for

    try:
        import distributed
    except ImportError as exc:
        _say(_missing_extra(exc))
        return EXIT_USAGE
    try:
        from .dask import read_messages
    except ImportError as exc:  # its message names the extra
        _say(str(exc))
        return EXIT_USAGE
    started = time.monotonic()
    try:
        with _dask_client(distributed, address) as client:
            df: Any = read_messages(  # Any: dask's DataFrame methods are not annotated
                campaign_id,
                export_type=cast("ExportType", export_type),  # read_messages checks it
                run_number=run_number,
                files_per_partition=files_per_partition,
                concurrency=concurrency,
                base_url=base_url,
                credentials_file=credentials_file,
            )
            _say(f"exporting {df.npartitions} partitions of campaign {campaign_id} to {out}")
            future = client.compute(df.to_parquet(out, write_index=False, compute=False))
            with contextlib.redirect_stdout(sys.stderr):  # the progress bar prints to stdout
                distributed.progress(future, notebook=False)  # type: ignore[no-untyped-call]
            future.result()
    except ValueError as exc:
        _say(str(exc))
        return EXIT_USAGE
    except NudgescribeError as exc:
        _say(str(exc))
        return exit_code_for(exc)
    except OSError as exc:
        _say(f"{type(exc).__name__}: {exc}")
        return EXIT_ERROR
    _say(f"wrote {df.npartitions} partitions to {out} in {time.monotonic() - started:.1f}s")
    return EXIT_OK


@contextlib.contextmanager
def _dask_client(distributed: Any, address: str) -> Iterator[Any]:
    if address != LOCAL:
        with distributed.Client(address, timeout=CONNECT_TIMEOUT) as client:
            yield client
        return
    # The command reports errors itself, in one line, so the cluster's own logs stay quiet;
    # its HTTP server takes a free loopback port rather than failing on a busy 8787.
    cluster = distributed.LocalCluster(
        processes=True, dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _missing_extra(exc: ImportError) -> str:
    return (
        f"the --dask export needs the dask extra ({exc.name or exc} is missing): "
        "pip install 'nudgescribe-async[dask]'"
    )


def _say(text: str) -> None:
    print(f"nudgescribe: {text}", file=sys.stderr, flush=True)
