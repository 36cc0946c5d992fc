"""`nudgescribe export`: a campaign's messages to a file or to stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


async def cmd_export(ctx: Context) -> int:
    args = ctx.args
    if args.resume and args.out is None:
        raise UsageError("--resume needs --out FILE: a stream to stdout cannot be resumed")
    try:
        check_export_args(args.export_type, args.run_number)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
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
        if args.publish:
            with status(console, "publishing"):
                await client.messages.publish(opts.campaign_id)
        if args.publish or args.wait:
            with status(console, "waiting for the export files to settle"):
                await client.messages.wait_for_export(
                    opts.campaign_id,
                    timeout=args.wait_timeout,
                    poll_interval=args.poll_interval,
                    settle_time=args.settle_time,
                )
        if args.out is None:
            await export_to_stream(client, opts, sys.stdout, console=console)
        else:
            await export_to_file(
                client, opts, Path(args.out), ctx, resume=args.resume, console=console
            )
    return EXIT_OK
