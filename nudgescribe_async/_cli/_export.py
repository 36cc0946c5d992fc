"""`nudgescribe export`: a campaign's messages to a file, to stdout, or to Parquet (`--dask`).

The Parquet export runs on a Dask cluster whose workers sign in with their own credentials
(`_cli_dask`, `nudgescribe_async.dask`), so the options that shape a local export or carry this
process's credentials are refused with `--dask` rather than silently ignored.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from .. import _config as cfg
from .._client import Client
from .._export import check_export_args
from ._common import (
    EXIT_OK,
    Context,
    UsageError,
    open_client,
    positive_float,
    positive_int,
    status,
    stderr_console,
)
from ._pipeline import ExportOptions, export_to_file, export_to_stream

if TYPE_CHECKING:
    from rich.console import Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("campaign_id", metavar="CAMPAIGN_ID")
    parser.add_argument("--out", metavar="FILE", help="write here (atomically); default stdout")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument(
        "--export-type",
        choices=("utf8", "url", "json"),
        default="utf8",
        help="how files are fetched (default utf8)",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=8,
        metavar="N",
        help="files downloaded at once (default 8)",
    )
    parser.add_argument(
        "--run-number", type=positive_int, metavar="N", help="export this run of the campaign"
    )
    parser.add_argument(
        "--publish", action="store_true", help="publish the messages first, then wait for the files"
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait until the file count stops changing first"
    )
    parser.add_argument(
        "--wait-timeout",
        type=positive_float,
        default=600.0,
        metavar="SECONDS",
        help="give up waiting after this long (default 600)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_float,
        default=2.0,
        metavar="SECONDS",
        help="how often to count the files while waiting (default 2)",
    )
    parser.add_argument(
        "--settle-time",
        type=positive_float,
        default=6.0,
        metavar="SECONDS",
        help="how long the file count must hold still (default 6)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted export into --out"
    )
    parser.add_argument(
        "--raw", action="store_true", help="CSV: do not escape cells that look like formulas"
    )
    dask = parser.add_argument_group("Parquet through a Dask cluster (the dask extra)")
    dask.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="write a Parquet dataset into the directory --out through the Dask scheduler at "
        "ADDRESS ('local': a cluster on this machine)",
    )
    dask.add_argument(
        "--files-per-partition",
        type=positive_int,
        default=1,
        metavar="N",
        help="export files per Dask partition (default 1)",
    )
    dask.add_argument(
        "--credentials-file",
        metavar="PATH",
        help="JSON credentials every worker can read (default: their NUDGESCRIBE_* variables)",
    )


async def cmd_export(ctx: Context) -> int:
    args = ctx.args
    _check_arguments(args)
    if args.dask is not None:
        return await export_with_dask(args)
    opts = ExportOptions(
        args.campaign_id,
        fmt=args.format,
        export_type=args.export_type,
        run_number=args.run_number,
        concurrency=args.concurrency,
        raw=args.raw,
    )
    console = stderr_console()
    async with open_client(args) as client:
        await _prepare(client, args, console)
        if args.out is None:
            await export_to_stream(client, opts, sys.stdout, console=console)
        else:
            await export_to_file(
                client, opts, Path(args.out), ctx, resume=args.resume, console=console
            )
    return EXIT_OK


async def _prepare(client: Client, args: argparse.Namespace, console: Console) -> None:
    """`--publish` and `--wait`: make sure the export files are there and complete."""
    if args.publish:
        with status(console, "publishing"):
            await client.messages.publish(args.campaign_id)
    if args.publish or args.wait:
        with status(console, "waiting for the export files to settle"):
            await client.messages.wait_for_export(
                args.campaign_id,
                timeout=args.wait_timeout,
                poll_interval=args.poll_interval,
                settle_time=args.settle_time,
            )


async def export_with_dask(args: argparse.Namespace) -> int:
    """Parquet through a cluster: `_cli_dask` does the work and reports its own errors."""
    if args.publish or args.wait:
        async with open_client(args) as client:
            await _prepare(client, args, stderr_console())
    from .._cli_dask import export_to_parquet

    run = functools.partial(
        export_to_parquet,
        args.campaign_id,
        address=args.dask,
        out=args.out,
        export_type=args.export_type,
        run_number=args.run_number,
        concurrency=args.concurrency,
        files_per_partition=args.files_per_partition,
        base_url=args.base_url,
        credentials_file=args.credentials_file,
    )
    # It blocks until the dataset is written, and dask's client wants no running loop.
    return await anyio.to_thread.run_sync(run)


def _check_arguments(args: argparse.Namespace) -> None:
    if args.resume and args.out is None:
        raise UsageError("--resume needs --out FILE: a stream to stdout cannot be resumed")
    try:
        check_export_args(args.export_type, args.run_number)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.dask is None:
        if args.credentials_file is not None:
            raise UsageError("--credentials-file is for the workers of --dask")
        return
    problem = dask_problem(args)
    if problem is not None:
        raise UsageError(f"--dask {problem}")


def dask_problem(args: argparse.Namespace) -> str | None:
    """What in `args` a Parquet export through a cluster cannot honour, if anything."""
    if args.out is None:
        return "needs --out DIR, the directory of the Parquet dataset"
    if args.emulator:
        return "cannot reach an embedded emulator's made-up credentials from the workers"
    unused = [
        flag
        for flag, given in (
            ("--format", args.format != "jsonl"),
            ("--resume", args.resume),
            ("--raw", args.raw),
            ("--email", args.email is not None),
            ("--api-code", args.api_code is not None),
            ("--password-env", args.password_env != cfg.ENV_PASSWORD),
            ("--api-key-env", args.api_key_env != cfg.ENV_API_KEY),
        )
        if given
    ]
    if unused:
        return (
            f"writes Parquet with the workers' own credentials (NUDGESCRIBE_* variables or "
            f"--credentials-file); drop {', '.join(unused)}"
        )
    return None
