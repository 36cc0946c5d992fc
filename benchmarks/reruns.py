"""One full poll round of many campaigns' rerun history: `watch()` against one by one.

    python benchmarks/reruns.py [--campaigns 500] [--latency 0.02] [--repeats 3]

The emulator runs in its own process (`_server.py`), so its CPU time is
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
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout, not an installed copy

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import emulator_process  # noqa: E402

from nudgescribe_async import Client, RetryPolicy  # noqa: E402
from nudgescribe_async.resources._rerun_watch import DEFAULT_WATCH_CONCURRENCY  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "reruns.json"


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
    ids: list[str] = info["campaign_ids"]
    times: dict[str, list[float]] = {"sequential": []}
    times.update({f"watch/{n}": [] for n in levels})
    credentials = {k: info[k] for k in ("email", "password", "api_key", "api_code")}
    async with Client(info["base_url"], **credentials, retry=RetryPolicy.disabled()) as client:
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
    args = parser.parse_args()
    levels = sorted({*args.concurrency, DEFAULT_WATCH_CONCURRENCY})
    with emulator_process(latency=args.latency, campaigns=args.campaigns, rows=1) as info:
        times = asyncio.run(measure(info, args.repeats, levels))
    result = report(times, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
