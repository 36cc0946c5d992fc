"""One full poll round of many campaigns' rerun history: `watch()` against one by one.

    python benchmarks/reruns.py [--campaigns 500] [--latency 0.02] [--repeats 3]

The emulator runs in its own process (this file again, with `--serve`), so its CPU time is
not the client's; it adds `--latency` seconds to every request. Each repeat times, side by
side, sequential `history()` calls and the first full round of `client.reruns.watch()` (every
campaign's first observation is an update) at several concurrencies, the default included.
Prints a table and writes `benchmarks/results/reruns.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout, not an installed copy

from nudgescribe_async import Client, RetryPolicy  # noqa: E402
from nudgescribe_async.resources._rerun_watch import DEFAULT_WATCH_CONCURRENCY  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "reruns.json"


# -- the emulator process -----------------------------------------------------------------------


async def serve(port: int, latency: float, campaigns: int) -> None:
    """Child: start the emulator, seed `campaigns`, print one JSON line, serve until stdin ends."""
    from nudgescribe_async.testing import Emulator

    async with Emulator(port=port, latency=latency) as emu:
        ids = [emu.add_campaign(f"Rerun bench {n}", files=1, rows=1) for n in range(campaigns)]
        info = {"base_url": emu.base_url, "credentials": emu.credentials.as_kwargs(), "ids": ids}
        print(json.dumps(info), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def emulator_process(latency: float, campaigns: int) -> Iterator[dict[str, Any]]:
    cmd = [sys.executable, __file__, "--serve", "--port", str(free_port()),
           "--latency", str(latency), "--campaigns", str(campaigns)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process did not start")
        yield json.loads(line)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the two ways to poll -----------------------------------------------------------------------


async def one_by_one(client: Client, ids: list[str]) -> float:
    started = time.perf_counter()
    for campaign_id in ids:
        await client.reruns.history(campaign_id)
    return time.perf_counter() - started


async def watch_round(client: Client, ids: list[str], concurrency: int) -> float:
    started = time.perf_counter()
    seen: set[str] = set()
    async with client.reruns.watch(ids, poll_interval=3600, concurrency=concurrency) as updates:
        async for update in updates:
            if update.error is not None:
                raise update.error
            seen.add(update.campaign_id)
            if len(seen) == len(ids):
                break
    return time.perf_counter() - started


async def measure(info: dict[str, Any], repeats: int, levels: list[int]) -> dict[str, list[float]]:
    ids: list[str] = info["ids"]
    times: dict[str, list[float]] = {"sequential": []}
    times.update({f"watch/{n}": [] for n in levels})
    async with Client(
        info["base_url"], **info["credentials"], retry=RetryPolicy.disabled()
    ) as client:
        await client.reruns.history(ids[0])  # sign in and open a connection first
        for _ in range(repeats):
            times["sequential"].append(await one_by_one(client, ids))
            for n in levels:
                times[f"watch/{n}"].append(await watch_round(client, ids, n))
    return times


# -- report -------------------------------------------------------------------------------------


def report(times: dict[str, list[float]], args: argparse.Namespace) -> dict[str, Any]:
    base = statistics.median(times["sequential"])
    rows = []
    for mode, samples in times.items():
        wall = statistics.median(samples)
        concurrency = 1 if mode == "sequential" else int(mode.split("/")[1])
        rows.append(
            {
                "mode": "sequential history()" if concurrency == 1 else "watch() first round",
                "concurrency": concurrency,
                "default": concurrency == DEFAULT_WATCH_CONCURRENCY,
                "wall_s": round(wall, 4),
                "ms_per_campaign": round(wall / args.campaigns * 1e3, 3),
                "speedup": round(base / wall, 1),
                "samples_s": [round(s, 4) for s in samples],
            }
        )
    print(f"{args.campaigns} campaigns, {args.latency * 1e3:.0f} ms emulator latency, "
          f"median of {args.repeats}")  # fmt: skip
    print(f"{'mode':<22}{'concurrency':>12}{'wall s':>9}{'ms/campaign':>13}{'speedup':>9}")
    for row in rows:
        mark = " (default)" if row["default"] else ""
        print(f"{row['mode']:<22}{row['concurrency']:>12}{row['wall_s']:>9.3f}"
              f"{row['ms_per_campaign']:>13.2f}{row['speedup']:>8.1f}x{mark}")  # fmt: skip
    return {
        "benchmark": "reruns.poll_round",
        "campaigns": args.campaigns,
        "latency_s": args.latency,
        "repeats": args.repeats,
        "default_concurrency": DEFAULT_WATCH_CONCURRENCY,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "results": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[8, 32, 64])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.port, args.latency, args.campaigns))
        return
    levels = sorted({*args.concurrency, DEFAULT_WATCH_CONCURRENCY})
    with emulator_process(args.latency, args.campaigns) as info:
        times = asyncio.run(measure(info, args.repeats, levels))
    result = report(times, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
