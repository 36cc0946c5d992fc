"""Message export through Dask against the single-process record stream.

    python benchmarks/dask_export.py                  # both scenarios, about a minute
    python benchmarks/dask_export.py --scenario latency --rounds 5
    python benchmarks/dask_export.py --quick          # smaller and one round: a smoke test

Prints a table per scenario and writes `benchmarks/results/dask_export.json` (`--quick`:
`dask_export-quick.json`). The emulator runs in its own process (`_server.py`); contenders take
turns round by round so noise on this shared machine hits them alike, and ratios are only taken
between numbers of the same run.

Scenarios:
    latency      128 files x 1000 rows, 50 ms added to every file fetch
    throughput   200 files x 1000 rows, no added latency

Contenders (wall time from the call to the last record):
    stream c16   `client.messages.stream(..., concurrency=16, ordered=False)` in this process,
                 `async for` over every record; a fresh client each round (sign-in included)
    dask 1w/2w   `len(read_messages(...))` on a LocalCluster of 1 or 2 worker processes (one
                 thread each): every partition is read and built on a worker
    parquet 1w/2w  `read_messages(...).to_parquet(dir)` on the same clusters (the read-back
                 that checks the row count is not timed)
The Dask contenders ask the file count from this process (one small request) and reuse each
worker's signed-in client, as a long-lived cluster does; a warm-up round signs in and imports
first. `overhead` compares dask 1w with the stream, median against median.

Reading the numbers: the emulator renders its files once at start-up, so its CPU does not bound
the scenarios and the client side is what is compared. On a 2-core machine the one-worker path
shares those cores with its scheduler and the emulator; results swing by a third from run to
run with the machine's other load: compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the package next to this file, not an installed copy
sys.path.insert(1, str(ROOT / "benchmarks"))
# Dask's worker processes, started later, must import that same package.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

import distributed  # noqa: E402
import pandas as pd  # noqa: E402
from _server import emulator_process  # noqa: E402

from nudgescribe_async import Client  # noqa: E402
from nudgescribe_async.dask import read_messages  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
STREAM_CONCURRENCY = 16
SCENARIOS: dict[str, dict[str, Any]] = {
    # Each worker thread reads 16 files at a time, the stream's window. Partitions of half the
    # export: two workers split it evenly, and one worker's window drains only once, at the
    # end of the first partition (every partition end costs a half-empty window).
    "latency": {
        "files": 128,
        "rows": 1000,
        "file_latency": 0.05,
        "files_per_partition": 64,
        "concurrency": 16,
    },
    "throughput": {
        "files": 200,
        "rows": 1000,
        "file_latency": 0.0,
        "files_per_partition": 100,
        "concurrency": 16,
    },
}
QUICK = {"files": 24, "rows": 200, "files_per_partition": 6}

Info = dict[str, Any]
Contender = Callable[[], tuple[float, int]]  # -> (seconds, records read or written)


# -- contenders --------------------------------------------------------------------------


def stream(info: Info) -> Contender:
    async def read() -> int:
        n = 0
        async with Client(info["base_url"], **credentials(info)) as client:
            records = client.messages.stream(
                info["campaign_id"], concurrency=STREAM_CONCURRENCY, ordered=False
            )
            async with records:
                async for _ in records:
                    n += 1
        return n

    def run() -> tuple[float, int]:
        start = time.perf_counter()
        n = asyncio.run(read())
        return time.perf_counter() - start, n

    return run


def dask_read(info: Info, cluster: distributed.Client, options: dict[str, Any]) -> Contender:
    def run() -> tuple[float, int]:
        with cluster.as_current():
            start = time.perf_counter()
            n = len(read_messages(info["campaign_id"], **options))
            return time.perf_counter() - start, n

    return run


def dask_parquet(
    info: Info, cluster: distributed.Client, options: dict[str, Any], tmp: Path
) -> Contender:
    def run() -> tuple[float, int]:
        out = tmp / f"parquet-{time.monotonic_ns()}"
        with cluster.as_current():
            start = time.perf_counter()
            read_messages(info["campaign_id"], **options).to_parquet(out, write_index=False)
            elapsed = time.perf_counter() - start
        return elapsed, len(pd.read_parquet(out, columns=["row"]))

    return run


# -- running -----------------------------------------------------------------------------


def credentials(info: Info) -> dict[str, str]:
    return {k: info[k] for k in ("email", "password", "api_key", "api_code")}


def write_credentials_file(info: Info, path: Path) -> Path:
    path.write_text(json.dumps({**credentials(info), "base_url": info["base_url"]}))
    path.chmod(0o600)
    return path


def local_cluster(workers: int) -> distributed.LocalCluster:
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )


def run_scenario(name: str, spec: dict[str, Any], rounds: int) -> dict[str, Any]:
    expected = spec["files"] * spec["rows"]
    with (
        # Files rendered once at start-up, as in export.py: the emulator shares these two
        # cores, and rendering on every request would make its CPU the thing measured.
        emulator_process(
            files=spec["files"],
            rows=spec["rows"],
            file_latency=spec["file_latency"],
            prerender=True,
        ) as info,
        tempfile.TemporaryDirectory() as tmp_name,
        local_cluster(1) as one,
        local_cluster(2) as two,
        distributed.Client(one) as c1,
        distributed.Client(two) as c2,
    ):
        tmp = Path(tmp_name)
        options = {
            "files_per_partition": spec["files_per_partition"],
            "concurrency": spec["concurrency"],
            "credentials_file": write_credentials_file(info, tmp / "credentials.json"),
        }
        contenders: dict[str, Contender] = {
            f"stream c{STREAM_CONCURRENCY}": stream(info),
            "dask 1w": dask_read(info, c1, options),
            "dask 2w": dask_read(info, c2, options),
            "parquet 1w": dask_parquet(info, c1, options, tmp),
            "parquet 2w": dask_parquet(info, c2, options, tmp),
        }
        times: dict[str, list[float]] = {label: [] for label in contenders}
        for round_ in range(rounds + 1):  # round 0 warms up: sign-ins, imports, caches
            for label, contender in contenders.items():
                seconds, n = contender()
                if n != expected:
                    raise SystemExit(f"{name} / {label}: {n} records, expected {expected}")
                if round_:
                    times[label].append(seconds)
    return summarise(spec, expected, times)


def summarise(spec: dict[str, Any], records: int, times: dict[str, list[float]]) -> dict[str, Any]:
    contenders = {
        label: {
            "seconds": [round(t, 4) for t in ts],
            "median_s": round(statistics.median(ts), 4),
            "best_s": round(min(ts), 4),
            "records_per_s": round(records / statistics.median(ts)),
        }
        for label, ts in times.items()
    }
    stream_s = contenders[f"stream c{STREAM_CONCURRENCY}"]["median_s"]
    overhead = contenders["dask 1w"]["median_s"] / stream_s - 1
    return {**spec, "records": records, "contenders": contenders, "overhead_1w": round(overhead, 3)}


def print_table(name: str, result: dict[str, Any]) -> None:
    size = f"{result['files']} files x {result['rows']} rows, +{result['file_latency']:g}s/file"
    sizing = f"files_per_partition={result['files_per_partition']}"
    print(f"\n{name}: {size}, {sizing}, concurrency={result['concurrency']}")
    print(f"  {'contender':<12} {'median s':>9} {'best s':>8} {'records/s':>11}")
    for label, c in result["contenders"].items():
        print(f"  {label:<12} {c['median_s']:>9.3f} {c['best_s']:>8.3f} {c['records_per_s']:>11,}")
    print(f"  overhead of dask 1w over the stream: {result['overhead_1w']:+.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="small files, one round")
    args = parser.parse_args()
    names = args.scenario or list(SCENARIOS)
    results = {}
    for name in names:
        spec = {**SCENARIOS[name], **(QUICK if args.quick else {})}
        results[name] = run_scenario(name, spec, 1 if args.quick else args.rounds)
        print_table(name, results[name])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("dask_export-quick.json" if args.quick else "dask_export.json")
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "distributed": distributed.__version__,
        "rounds": 1 if args.quick else args.rounds,
    }
    path.write_text(json.dumps({"meta": meta, "scenarios": results}, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
