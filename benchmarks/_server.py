"""Run the emulator in its own process, so its CPU time is not the benchmark's.

    python benchmarks/_server.py --files 64 --rows 1000 --file-latency 0.05

prints one JSON line (base_url, credentials, campaign id) and serves until stdin closes.
`emulator_process(...)` does the same from a benchmark and cleans up after itself.

`--prerender` renders every file of the benchmark campaign once at start-up, so serving a file
costs the server only the copy to the socket. The emulator renders each request's CSV (about
4 ms for 1000 rows; its cache keeps 64 files), which would otherwise cap what any client can
read from it at about 250 k rows/s on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Run as a script, this file's folder heads sys.path: import the package next to it, not an
# installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FETCH = "/v1/messages/fetch"


async def serve(args: argparse.Namespace) -> None:
    from nudgescribe_async.testing import Emulator

    # Benchmarks leave streams early on purpose; the client hanging up mid-response is no news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)

    emu = Emulator(latency=args.latency, publish_ready_after=0, publish_spread=0)
    if args.file_latency:
        emu.path_latency[FETCH] = args.file_latency
    if args.chaos:  # random faults on every file download, for soak runs
        p = args.chaos
        emu.faults.fail(FETCH, 503, times=None, probability=p)
        emu.faults.fail(FETCH, 429, times=None, probability=p, retry_after=0)
        emu.faults.drop(FETCH, times=None, probability=p)
        emu.faults.truncate(FETCH, times=None, probability=p)
        emu.faults.truncate("/storage/*", times=None, probability=p)
    async with emu:
        campaign_id = emu.add_campaign(
            "Benchmark",
            files=args.files,
            rows=args.rows,
            message_length=args.message_length,
            tricky=False,
        )
        if args.prerender:
            prerender(emu, campaign_id)
        extra = [emu.add_campaign(f"Watch {i}", files=1, rows=1) for i in range(args.campaigns)]
        info = {
            "base_url": emu.base_url,
            **emu.credentials.as_kwargs(),
            "campaign_id": campaign_id,
            "campaign_ids": extra,
        }
        print(json.dumps(info), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin


def prerender(emu: Any, campaign_id: str) -> None:
    """Serve the campaign's files from memory, rendered once (the export's own files)."""
    run = emu.state.campaigns[campaign_id].run()
    export = run.export
    files = [export.csv_bytes(n) for n in range(export.num_files)]
    export.csv_bytes = files.__getitem__  # the handlers call export.csv_bytes(file_num)


@contextlib.contextmanager
def emulator_process(
    *,
    files: int = 1,
    rows: int = 1000,
    message_length: int = 150,
    latency: float = 0.0,
    file_latency: float = 0.0,
    campaigns: int = 0,
    chaos: float = 0.0,
    prerender: bool = False,
) -> Iterator[dict[str, Any]]:
    """Start the emulator in a child process; yield its JSON line as a dict."""
    cmd = [
        sys.executable, __file__,
        "--files", str(files), "--rows", str(rows), "--message-length", str(message_length),
        "--latency", str(latency), "--file-latency", str(file_latency),
        "--campaigns", str(campaigns), "--chaos", str(chaos),
        *(["--prerender"] if prerender else []),
    ]  # fmt: skip
    root = str(Path(__file__).resolve().parents[1])  # serve this checkout, not an installed copy
    env = {**os.environ, "PYTHONPATH": root}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process did not start")
        yield json.loads(line)
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--message-length", type=int, default=150)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--file-latency", type=float, default=0.0)
    parser.add_argument("--campaigns", type=int, default=0, help="extra one-file campaigns")
    parser.add_argument("--chaos", type=float, default=0.0, help="chance of a fault per download")
    parser.add_argument(
        "--prerender", action="store_true", help="render the benchmark files once at start-up"
    )
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
