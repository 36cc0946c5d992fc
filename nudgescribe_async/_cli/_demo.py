"""`nudgescribe demo`: the main job end to end on an embedded emulator, checked.

Seed a campaign whose messages are not published yet, publish it, wait for the export files
to settle, stream them to a JSON lines file with the export command's own machinery, then
read the file back: the command succeeds only if it holds every message exactly once.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import attrs

from ._common import EXIT_ERROR, EXIT_OK, Context, positive_int, status, stderr_console
from ._pipeline import ExportOptions, export_to_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        metavar="FILE",
        default="messages.jsonl",
        help="where to write the messages (default ./messages.jsonl)",
    )
    parser.add_argument(
        "--files", type=positive_int, default=200, help="export files to seed (default 200)"
    )
    parser.add_argument(
        "--rows", type=positive_int, default=1000, help="messages per file (default 1000)"
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=8,
        metavar="N",
        help="files downloaded at once (default 8)",
    )


@attrs.frozen
class Verdict:
    """What the output file holds, against what it should."""

    expected: int
    records: int
    distinct_rows: int  # distinct (file_num, row) pairs, all within the seeded grid
    distinct_customers: int
    unreadable: int  # lines that are not a JSON record

    @property
    def ok(self) -> bool:
        counts = (self.records, self.distinct_rows, self.distinct_customers)
        return self.unreadable == 0 and all(n == self.expected for n in counts)


def verify_jsonl(path: Path, *, files: int, rows: int) -> Verdict:
    """Read `path` back and count its records, distinct positions and distinct customers."""
    positions: set[tuple[int, int]] = set()
    customers: set[str] = set()
    records = unreadable = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            records += 1
            try:
                rec = json.loads(line)
                position = (rec["file_num"], rec["row"])
                customers.add(rec["customer_id"])
            except (ValueError, KeyError, TypeError):
                unreadable += 1
                continue
            if 0 <= position[0] < files and 0 <= position[1] < rows:
                positions.add(position)
    return Verdict(files * rows, records, len(positions), len(customers), unreadable)


async def cmd_demo(ctx: Context) -> int:
    from ..testing import Emulator

    args = ctx.args
    out = Path(args.out)
    console = stderr_console()
    print(f"nudgescribe demo: {args.files} files x {args.rows:,} messages on an embedded emulator")
    started = time.perf_counter()
    async with Emulator(publish_ready_after=0.2, publish_spread=1.0) as emu:
        campaign_id = emu.add_campaign(
            "Demo", files=args.files, rows=args.rows, message_length=120, published=False
        )
        async with emu.client() as client:
            with status(console, "publishing, then waiting for the export files to settle"):
                await client.messages.publish(campaign_id)
                files = await client.messages.wait_for_export(
                    campaign_id, timeout=60, poll_interval=0.1, settle_time=0.5
                )
            ready = time.perf_counter() - started
            print(f"  published; {files} export files ready after {ready:.1f} s")
            opts = ExportOptions(campaign_id, concurrency=args.concurrency)
            result = await export_to_file(client, opts, out, ctx, resume=False, console=console)
    peak = _peak_rss_mb()  # before reading the file back, which holds sets of its own
    verdict = verify_jsonl(out, files=args.files, rows=args.rows)
    _summary(out, result.records, result.seconds, verdict, peak)
    if not verdict.ok:
        print(
            f"nudgescribe: demo: {out} does not hold every message exactly once "
            f"({verdict}) — please report it",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


def _summary(out: Path, records: int, seconds: float, verdict: Verdict, peak_mb: float) -> None:
    size = out.stat().st_size / 1e6
    print(
        f"  exported {records:,} records to {out} ({size:.1f} MB) in {seconds:.2f} s: "
        f"{records / max(seconds, 1e-9):,.0f} records/s"
    )
    print(
        f"  read back: {verdict.records:,} records, {verdict.distinct_rows:,} distinct "
        f"(file_num, row), {verdict.distinct_customers:,} distinct customers "
        f"-> {'every message exactly once' if verdict.ok else 'MISMATCH'}"
    )
    print(f"  peak memory (emulator included): {peak_mb:.0f} MB")


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB
