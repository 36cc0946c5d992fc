"""Message export: the SDK's record stream against the loops people write by hand.

    python benchmarks/export.py                        # every scenario, a few minutes
    python benchmarks/export.py --scenario throughput  # latency | throughput | memory | first
    python benchmarks/export.py --quick                # smaller and one round: a smoke test

Prints a table per scenario and writes `benchmarks/results/export.json` (`--quick`:
`export-quick.json`). The emulator runs in its own process (`_server.py`) and serves every
contender of a scenario; contenders take turns round by round, so noise on this shared machine
hits them alike, and ratios are only ever taken between numbers of the same run.

Contenders (wall time from creating the client or session, sign-in included, to the last row):
    sdk ordered|unordered  `client.messages.stream(..., concurrency=N)`, `async for rec in ...`
    sequential             aiohttp by hand: sign in, then per file POST fetch + `csv.reader`
    gather                 `asyncio.gather` of every fetch (whole bodies held), then `csv.reader`
    minimal                a sliding window of N tasks: fetch a whole body + `csv.reader`, count
    raw                    a sliding window of N tasks: read the bodies and drop them, no parsing
The SDK also asks the server for the file count (one more small request); the hand-written
loops are told it.

Memory: each measurement runs in a fresh child process and reports its peak RSS (`ru_maxrss`).
First record: time to the first record, from the call on a fresh client (sign-in and file
count included) and from entering the stream on a signed-in client.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import gc
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the package next to this file, not an installed copy
sys.path.insert(1, str(ROOT / "benchmarks"))

import aiohttp  # noqa: E402
from _server import emulator_process  # noqa: E402

from nudgescribe_async import Client  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
AUTH = "/v1/auth"
FETCH = "/v1/messages/fetch"
FILE_LATENCY = 0.05
CONCURRENCIES = (1, 4, 16)

Info = dict[str, Any]
Runner = Callable[[Info, int], Awaitable[int]]  # (emulator info, files) -> data rows read


# -- contenders --------------------------------------------------------------------------


def sdk(ordered: bool, concurrency: int) -> Runner:
    async def run(info: Info, files: int) -> int:
        n = 0
        async with client_for(info) as client:
            stream = client.messages.stream(
                info["campaign_id"],
                concurrency=concurrency,
                ordered=ordered,
                file_nums=range(files),
            )
            async with stream as records:
                async for _ in records:
                    n += 1
        return n

    return run


def client_for(info: Info) -> Client:
    keys = ("email", "password", "api_key", "api_code")
    return Client(info["base_url"], **{k: info[k] for k in keys})


async def sign_in(session: aiohttp.ClientSession, info: Info) -> dict[str, str]:
    """POST /v1/auth with the headers the SDK sends; the headers of every later call."""
    context = json.dumps({"api_access": True, "api_code": info["api_code"]}, separators=(",", ":"))
    headers = {
        "x-auth-context": context,
        "x-ip": "127.0.0.1",
        "content-type": "application/json",
        "x-api-key": info["api_key"],
    }
    body = {"email": info["email"], "password": info["password"]}
    async with session.post(info["base_url"] + AUTH, json=body, headers=headers) as resp:
        resp.raise_for_status()
        token = (await resp.json())["access_token"]
    return {**headers, "authorization": f"Bearer {token}"}


def fetch_body(info: Info, file_num: int) -> str:
    return json.dumps({"campaign_id": info["campaign_id"], "file_num": file_num})


async def fetch(session: aiohttp.ClientSession, info: Info, headers: Any, file_num: int) -> bytes:
    url = info["base_url"] + FETCH
    async with session.post(url, data=fetch_body(info, file_num), headers=headers) as resp:
        resp.raise_for_status()
        return await resp.read()


def count_rows(body: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1  # less the header


async def sequential(info: Info, files: int) -> int:
    n = 0
    async with aiohttp.ClientSession() as session:
        headers = await sign_in(session, info)
        for file_num in range(files):
            n += count_rows(await fetch(session, info, headers, file_num))
    return n


async def gather_then_parse(info: Info, files: int) -> int:
    async with aiohttp.ClientSession() as session:
        headers = await sign_in(session, info)
        bodies = await asyncio.gather(*(fetch(session, info, headers, f) for f in range(files)))
        return sum(count_rows(body) for body in bodies)


async def sliding_window(
    nums: Iterable[int], concurrency: int, one: Callable[[int], Awaitable[int]]
) -> int:
    """`concurrency` tasks share one iterator: the next file starts as soon as any finishes."""
    todo = iter(nums)

    async def worker() -> int:
        n = 0  # per task: `total += await ...` on a shared total would lose updates
        for file_num in todo:
            n += await one(file_num)
        return n

    return sum(await asyncio.gather(*(worker() for _ in range(concurrency))))


def minimal(concurrency: int) -> Runner:
    async def run(info: Info, files: int) -> int:
        async with aiohttp.ClientSession() as session:
            headers = await sign_in(session, info)

            async def one(file_num: int) -> int:
                return count_rows(await fetch(session, info, headers, file_num))

            return await sliding_window(range(files), concurrency, one)

    return run


def raw(concurrency: int) -> Runner:
    async def run(info: Info, files: int) -> int:
        url = info["base_url"] + FETCH
        async with aiohttp.ClientSession() as session:
            headers = await sign_in(session, info)

            async def one(file_num: int) -> int:
                body = fetch_body(info, file_num)
                async with session.post(url, data=body, headers=headers) as resp:
                    resp.raise_for_status()
                    async for _ in resp.content.iter_any():
                        pass
                return 0

            await sliding_window(range(files), concurrency, one)
            return -1  # rows not counted

    return run


def contenders(loops: Iterable[str]) -> list[tuple[str, int | None, Runner]]:
    """(name, concurrency, runner) for the named hand-written loops and every SDK mode."""
    out: list[tuple[str, int | None, Runner]] = []
    if "sequential" in loops:
        out.append(("sequential", 1, sequential))
    if "gather" in loops:
        out.append(("gather, then parse", None, gather_then_parse))
    for c in CONCURRENCIES:
        out.append(("sdk ordered", c, sdk(True, c)))
        out.append(("sdk unordered", c, sdk(False, c)))
        if "minimal" in loops:
            out.append(("minimal aiohttp+csv", c, minimal(c)))
        out.append(("raw (no parsing)", c, raw(c)))
    return out


# -- timing ------------------------------------------------------------------------------


async def time_all(
    info: Info, files: int, rows: int, entries: list[tuple[str, int | None, Runner]], rounds: int
) -> list[dict[str, Any]]:
    """Each contender once per round, round after round; every time kept."""
    times: list[list[float]] = [[] for _ in entries]
    for _ in range(rounds):
        for i, (name, _c, runner) in enumerate(entries):
            gc.collect()
            started = time.perf_counter()
            got = await runner(info, files)
            times[i].append(time.perf_counter() - started)
            if got not in (-1, files * rows):
                raise AssertionError(f"{name}: {got} rows, expected {files * rows}")
    return [
        {
            "name": name,
            "concurrency": c,
            "times": [round(t, 4) for t in ts],
            "best": min(ts),
            "median": statistics.median(ts),
            "records_per_s": files * rows / min(ts),
        }
        for (name, c, _), ts in zip(entries, times, strict=True)
    ]


def find(results: list[dict[str, Any]], name: str, c: int | None) -> dict[str, Any]:
    return next(r for r in results if r["name"] == name and r["concurrency"] == c)


def target(what: str, value: float, wanted: str, passed: bool) -> dict[str, Any]:
    return {"target": what, "value": round(value, 3), "wanted": wanted, "pass": passed}


def add_ratios(results: list[dict[str, Any]], reference: Callable[[dict[str, Any]], float]) -> None:
    for r in results:
        r["speed_vs_ref"] = reference(r) / r["best"]


# -- scenarios ---------------------------------------------------------------------------


async def latency_scenario(q: bool, rounds: int) -> dict[str, Any]:
    files, rows = (16 if q else 64), 1000
    with emulator_process(
        files=files, rows=rows, file_latency=FILE_LATENCY, prerender=True
    ) as info:
        entries = contenders(["sequential", "gather", "minimal"])
        results = await time_all(info, files, rows, entries, rounds)
    seq = find(results, "sequential", 1)["best"]
    add_ratios(results, lambda r: seq)
    speedup = seq / find(results, "sdk unordered", 16)["best"]
    speedup_o = seq / find(results, "sdk ordered", 16)["best"]
    return {
        "params": {"files": files, "rows": rows, "file_latency_s": FILE_LATENCY, "rounds": rounds},
        "reference": "sequential",
        "results": results,
        "targets": [
            target("sdk ordered c16 vs sequential (x faster)", speedup_o, ">= 10", speedup_o >= 10),
            target("sdk unordered c16 vs sequential (x faster)", speedup, ">= 10", speedup >= 10),
        ],
    }


async def throughput_scenario(q: bool, rounds: int) -> dict[str, Any]:
    files, rows = (50 if q else 200), 1000
    with emulator_process(files=files, rows=rows, message_length=150, prerender=True) as info:
        entries = contenders(["sequential", "gather", "minimal"])
        results = await time_all(info, files, rows, entries, rounds)
    minimal_at = {c: find(results, "minimal aiohttp+csv", c)["best"] for c in CONCURRENCIES}
    add_ratios(results, lambda r: minimal_at.get(r["concurrency"], float("nan")))
    checks = []
    for mode in ("ordered", "unordered"):
        for c in CONCURRENCIES:
            ratio = find(results, f"sdk {mode}", c)["speed_vs_ref"]
            checks.append(
                target(f"sdk {mode} c{c} records/s vs minimal c{c}", ratio, ">= 0.8", ratio >= 0.8)
            )
    return {
        "params": {"files": files, "rows": rows, "message_length": 150, "rounds": rounds},
        "reference": "minimal aiohttp+csv at the same concurrency",
        "results": results,
        "targets": checks,
    }


# -- memory: one child process per measurement --------------------------------------------


async def child_main(spec: dict[str, Any]) -> None:
    info, files, mode = spec["info"], spec["files"], spec["mode"]
    started = time.perf_counter()
    if mode == "idle":
        async with client_for(info) as client:
            await client.messages.count_files(info["campaign_id"])
        got = 0
    elif mode == "gather":
        got = await gather_then_parse(info, files)
    else:
        got = await sdk(mode == "sdk ordered", spec["concurrency"])(info, files)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    print(json.dumps({"rows": got, "seconds": seconds, "peak_mb": peak_kb / 1024}))


def measure_child(info: Info, mode: str, files: int, concurrency: int = 16) -> dict[str, Any]:
    spec = {"info": info, "mode": mode, "files": files, "concurrency": concurrency}
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def memory_scenario(q: bool, rounds: int) -> dict[str, Any]:
    rows = 1000
    small, large = 10, (100 if q else 1000)
    plan = [("idle", 0)]
    plan += [(m, f) for m in ("sdk ordered", "sdk unordered") for f in (small, large)]
    plan += [("gather", f) for f in sorted({small, 100, large})]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {p: [] for p in plan}
    with emulator_process(files=large, rows=rows, prerender=True) as info:
        for _ in range(rounds):
            for mode, files in plan:
                runs[(mode, files)].append(measure_child(info, mode, files))
    results = []
    for (mode, files), got in runs.items():
        if any(g["rows"] != files * rows for g in got):
            raise AssertionError(f"{mode}: wrong row count {got}")
        results.append(
            {
                "name": mode,
                "concurrency": 16 if mode.startswith("sdk") else None,
                "records": files * rows,
                "peak_mb": [round(g["peak_mb"], 1) for g in got],
                "median_peak_mb": statistics.median(g["peak_mb"] for g in got),
                "median_seconds": statistics.median(g["seconds"] for g in got),
            }
        )
    checks = []
    for mode in ("sdk ordered", "sdk unordered"):
        grow = _peak(results, mode, large * rows) - _peak(results, mode, small * rows)
        wanted = f"<= 30 MB ({large * rows:,} vs {small * rows:,} records)"
        checks.append(target(f"{mode} c16 peak RSS growth", grow, wanted, grow <= 30))
    grow = _peak(results, "gather", large * rows) - _peak(results, "gather", small * rows)
    checks.append(
        target("gather peak RSS growth (for contrast)", grow, "grows with the export", grow > 30)
    )
    return {
        "params": {
            "rows_per_file": rows,
            "small_files": small,
            "large_files": large,
            "rounds": rounds,
        },
        "results": results,
        "targets": checks,
    }


def _peak(results: list[dict[str, Any]], mode: str, records: int) -> float:
    return float(
        next(r["median_peak_mb"] for r in results if r["name"] == mode and r["records"] == records)
    )


# -- first record ------------------------------------------------------------------------


async def first_sdk(info: Info, *, ordered: bool, fresh: bool) -> float:
    """Seconds to the first record: from the call (fresh client) or from entering the stream."""
    started = time.perf_counter()
    async with client_for(info) as client:
        if not fresh:
            await client.messages.count_files(info["campaign_id"])  # signed in, pool warm
            started = time.perf_counter()
        async with client.messages.stream(
            info["campaign_id"], concurrency=16, ordered=ordered
        ) as records:
            async for _ in records:
                return time.perf_counter() - started
    raise AssertionError("no records")


async def first_sequential(info: Info) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        headers = await sign_in(session, info)
        body = await fetch(session, info, headers, 0)
        reader = csv.reader(io.StringIO(body.decode("utf-8")))
        next(reader)  # the header
        next(reader)
        return time.perf_counter() - started


async def first_scenario(q: bool, rounds: int) -> dict[str, Any]:
    files, repeats = 64, (3 if q else max(5, rounds))
    probes: list[tuple[str, Callable[[Info], Awaitable[float]]]] = [
        ("sdk ordered c16, from the call", lambda i: first_sdk(i, ordered=True, fresh=True)),
        ("sdk unordered c16, from the call", lambda i: first_sdk(i, ordered=False, fresh=True)),
        (
            "sdk ordered c16, from entering the stream",
            lambda i: first_sdk(i, ordered=True, fresh=False),
        ),
        (
            "sdk unordered c16, from entering the stream",
            lambda i: first_sdk(i, ordered=False, fresh=False),
        ),
        ("sequential by hand, from the call", first_sequential),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in probes}
    with emulator_process(
        files=files, rows=1000, file_latency=FILE_LATENCY, prerender=True
    ) as info:
        for _ in range(repeats):
            for name, probe in probes:
                times[name].append(await probe(info))
    results = [
        {
            "name": name,
            "times": [round(t, 4) for t in ts],
            "best": min(ts),
            "median": statistics.median(ts),
        }
        for name, ts in times.items()
    ]
    limit = 1.5 * FILE_LATENCY
    checks = [
        target(f"{r['name']}: median seconds", r["median"], f"<= {limit:.3f}", r["median"] <= limit)
        for r in results
        if r["name"].startswith("sdk")
    ]
    return {
        "params": {
            "files": files,
            "rows": 1000,
            "file_latency_s": FILE_LATENCY,
            "repeats": repeats,
        },
        "results": results,
        "targets": checks,
    }


# -- output ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


def print_timed(title: str, scenario: dict[str, Any]) -> None:
    print(f"\n## {title} {scenario['params']}")
    head = ("contender", "conc", "best s", "median s", "records/s", "x ref")
    print("{:<22} {:>4} {:>8} {:>9} {:>11} {:>7}".format(*head))
    for r in scenario["results"]:
        c = "all" if r["concurrency"] is None else r["concurrency"]
        print(
            f"{r['name']:<22} {c:>4} {r['best']:>8.3f} {r['median']:>9.3f} "
            f"{r['records_per_s']:>11,.0f} {r['speed_vs_ref']:>7.2f}"
        )
    print(f"(x ref: speed relative to {scenario['reference']}, best times)")


def print_memory(scenario: dict[str, Any]) -> None:
    print(f"\n## memory {scenario['params']}")
    print(f"{'contender':<16} {'records':>10} {'peak RSS MB (median)':>21} {'runs':>22} {'s':>6}")
    for r in scenario["results"]:
        print(
            f"{r['name']:<16} {r['records']:>10,} {r['median_peak_mb']:>21.1f} "
            f"{' '.join(f'{p:.0f}' for p in r['peak_mb']):>22} {r['median_seconds']:>6.2f}"
        )


def print_first(scenario: dict[str, Any]) -> None:
    print(f"\n## first record {scenario['params']}")
    print(f"{'probe':<44} {'best ms':>8} {'median ms':>10}")
    for r in scenario["results"]:
        print(f"{r['name']:<44} {r['best'] * 1e3:>8.1f} {r['median'] * 1e3:>10.1f}")


def print_targets(scenario: dict[str, Any]) -> None:
    for t in scenario["targets"]:
        verdict = "PASS" if t["pass"] else "FAIL"
        print(f"  [{verdict}] {t['target']}: {t['value']} (wanted {t['wanted']})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario", choices=["latency", "throughput", "memory", "first", "all"], default="all"
    )
    parser.add_argument("--quick", action="store_true", help="smaller exports, one round")
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds per contender (default 3, quick 1)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child_main(json.loads(args.child)))
        return
    rounds = args.rounds or (1 if args.quick else 3)
    wanted = (
        ["latency", "throughput", "memory", "first"] if args.scenario == "all" else [args.scenario]
    )
    out: dict[str, Any] = {"machine": machine(), "quick": args.quick, "scenarios": {}}
    path = RESULTS / ("export-quick.json" if args.quick else "export.json")
    if path.exists():
        out["scenarios"] = json.loads(path.read_text()).get("scenarios", {})
    for name in wanted:
        if name == "latency":
            scenario = asyncio.run(latency_scenario(args.quick, rounds))
            print_timed("latency-bound", scenario)
        elif name == "throughput":
            scenario = asyncio.run(throughput_scenario(args.quick, rounds))
            print_timed("throughput-bound", scenario)
        elif name == "memory":
            scenario = memory_scenario(args.quick, rounds)
            print_memory(scenario)
        else:
            scenario = asyncio.run(first_scenario(args.quick, rounds))
            print_first(scenario)
        print_targets(scenario)
        out["scenarios"][name] = {**scenario, "machine": out["machine"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
