"""Message export: the SDK's record stream against the loops people write by hand.

    python benchmarks/export.py                        # every scenario, about three minutes
    python benchmarks/export.py --scenario throughput  # latency | throughput | memory | first
    python benchmarks/export.py --quick                # smaller and one round: a smoke test

Prints a table per scenario and writes `benchmarks/results/export.json` (`--quick`:
`export-quick.json`; a run of one scenario updates that scenario only). The emulator runs in its
own process (`_server.py`, files rendered once at start-up) and serves every contender of a
scenario; contenders take turns round by round, so the noise of a shared machine hits them
alike, and ratios are only ever taken between numbers of the same run.

Contenders. Time is wall time from creating the client or session (sign-in included) to the
last row; `cpu s` is this process's CPU time over the same span.
    sdk ordered|unordered  `client.messages.stream(..., concurrency=N)`, `async for rec in ...`
    sdk ordered, batches() the same ordered stream taken a list at a time with `batches()`
    sequential             aiohttp by hand: sign in, then per file POST fetch + `csv.reader`
    gather, then parse     `asyncio.gather` of every fetch (whole bodies held), then `csv.reader`
    minimal aiohttp+csv    a sliding window of N tasks: fetch a whole body, `csv.reader`, count
    minimal + records      the same, also building the `MessageRecord`s the SDK hands out
                           (for reference: it is no target)
    raw (no parsing)       a sliding window of N tasks: read the bodies and drop them
The SDK also asks the server for the file count (one more small request); the hand-written
loops are told it.

Memory: each measurement runs in a fresh child process, which reports its peak RSS (VmHWM).
First record: seconds to the first record, from the call on a fresh client (sign-in and file
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

from nudgescribe_async import Client, MessageRecord  # noqa: E402
from nudgescribe_async.models.messages import NO_EXTRA  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
AUTH = "/v1/auth"
FETCH = "/v1/messages/fetch"
FILE_LATENCY = 0.05
CONCURRENCIES = (1, 4, 16)
RSS_BOUND_MB = 30

Info = dict[str, Any]
Runner = Callable[[Info, int], Awaitable[int]]  # (emulator info, files) -> data rows read
Entry = tuple[str, int | None, Runner]  # (name, concurrency or None for "all at once", runner)
Result = dict[str, Any]


# -- the SDK -----------------------------------------------------------------------------


def client_for(info: Info) -> Client:
    keys = ("email", "password", "api_key", "api_code")
    return Client(info["base_url"], **{k: info[k] for k in keys})


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


def sdk_batches(concurrency: int) -> Runner:
    """The stream's `batches()`: the same records, a list at a time, no `async for` each."""

    async def run(info: Info, files: int) -> int:
        n = 0
        async with client_for(info) as client:
            stream = client.messages.stream(
                info["campaign_id"], concurrency=concurrency, file_nums=range(files)
            )
            async with stream as records:
                while (batch := await records.batches()) is not None:
                    for _ in batch:
                        n += 1
        return n

    return run


# -- by hand -----------------------------------------------------------------------------


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


def build_records(body: bytes, file_num: int) -> int:
    """What the SDK makes of a file, as cheaply as Python allows; the number of records."""
    rows = csv.reader(io.StringIO(body.decode("utf-8")))
    next(rows)  # the header: customer_id, message
    new = tuple.__new__
    records = [new(MessageRecord, (f[0], f[1], file_num, n, NO_EXTRA)) for n, f in enumerate(rows)]
    n = 0
    for _ in records:
        n += 1
    return n


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


def windowed(concurrency: int, parse: Callable[[bytes, int], int]) -> Runner:
    """A sliding window of fetches, each body handed whole to `parse`."""

    async def run(info: Info, files: int) -> int:
        async with aiohttp.ClientSession() as session:
            headers = await sign_in(session, info)

            async def one(file_num: int) -> int:
                return parse(await fetch(session, info, headers, file_num), file_num)

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


def contenders(*, records_loop: bool) -> list[Entry]:
    out: list[Entry] = [
        ("sequential", 1, sequential),
        ("gather, then parse", None, gather_then_parse),
    ]
    for c in CONCURRENCIES:
        out.append(("sdk ordered", c, sdk(True, c)))
        out.append(("sdk unordered", c, sdk(False, c)))
        out.append(("minimal aiohttp+csv", c, windowed(c, lambda body, _: count_rows(body))))
        if records_loop:
            out.append(("sdk ordered, batches()", c, sdk_batches(c)))
            out.append(("minimal + records", c, windowed(c, build_records)))
        out.append(("raw (no parsing)", c, raw(c)))
    return out


# -- timing ------------------------------------------------------------------------------


async def time_all(
    info: Info, files: int, rows: int, entries: list[Entry], rounds: int
) -> list[Result]:
    """Each contender once per round, round after round; every time kept."""
    walls: list[list[float]] = [[] for _ in entries]
    cpus: list[list[float]] = [[] for _ in entries]
    for _ in range(rounds):
        for i, (name, _c, runner) in enumerate(entries):
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            got = await runner(info, files)
            walls[i].append(time.perf_counter() - wall)
            cpus[i].append(time.process_time() - cpu)
            if got not in (-1, files * rows):
                raise AssertionError(f"{name}: {got} rows, expected {files * rows}")
    return [
        {
            "name": name,
            "concurrency": c,
            "times": [round(t, 4) for t in ts],
            "best": min(ts),
            "median": statistics.median(ts),
            "cpu_best": min(cs),
            "records_per_s": files * rows / min(ts),
        }
        for (name, c, _), ts, cs in zip(entries, walls, cpus, strict=True)
    ]


def find(results: list[Result], name: str, c: int | None) -> Result:
    return next(r for r in results if r["name"] == name and r["concurrency"] == c)


def target(what: str, value: float, wanted: str, passed: bool | None) -> Result:
    return {"target": what, "value": round(value, 3), "wanted": wanted, "pass": passed}


# -- scenarios ---------------------------------------------------------------------------


async def latency_scenario(quick: bool, rounds: int) -> Result:
    files, rows = (16 if quick else 64), 1000
    with emulator_process(
        files=files, rows=rows, file_latency=FILE_LATENCY, prerender=True
    ) as info:
        results = await time_all(info, files, rows, contenders(records_loop=False), rounds)
    seq = find(results, "sequential", 1)
    for r in results:
        r["vs_ref"] = seq["best"] / r["best"]
    checks = []
    for mode in ("ordered", "unordered"):
        r = find(results, f"sdk {mode}", 16)
        on_median = seq["median"] / r["median"]
        what = f"sdk {mode} c16 x faster than sequential (best; on medians {on_median:.1f})"
        checks.append(target(what, r["vs_ref"], ">= 10", r["vs_ref"] >= 10))
    return {
        "params": {"files": files, "rows": rows, "file_latency_s": FILE_LATENCY, "rounds": rounds},
        "reference": "sequential",
        "results": results,
        "targets": checks,
    }


async def throughput_scenario(quick: bool, rounds: int) -> Result:
    files, rows = (50 if quick else 200), 1000
    with emulator_process(files=files, rows=rows, message_length=150, prerender=True) as info:
        results = await time_all(info, files, rows, contenders(records_loop=True), rounds)
    minimal = {c: find(results, "minimal aiohttp+csv", c) for c in CONCURRENCIES}
    for r in results:
        ref = minimal.get(r["concurrency"])
        r["vs_ref"] = ref["best"] / r["best"] if ref else float("nan")
    checks = []
    for mode in ("sdk ordered", "sdk unordered", "sdk ordered, batches()"):
        for c in CONCURRENCIES:
            r = find(results, mode, c)
            on_median = minimal[c]["median"] / r["median"]
            what = f"{mode} c{c} records/s vs minimal c{c} (best; on medians {on_median:.2f})"
            checks.append(target(what, r["vs_ref"], ">= 0.8", r["vs_ref"] >= 0.8))
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
    print(json.dumps({"rows": got, "seconds": seconds, "peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: a child started by vfork + exec inherits
    its parent's peak in ru_maxrss, so the numbers would depend on what the parent did before."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure_child(info: Info, mode: str, files: int, concurrency: int = 16) -> Result:
    spec = {"info": info, "mode": mode, "files": files, "concurrency": concurrency}
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def memory_scenario(quick: bool, rounds: int) -> Result:
    rows, small, large = 1000, 10, (100 if quick else 1000)
    plan = [("idle", 0)]
    plan += [(m, f) for m in ("sdk ordered", "sdk unordered") for f in (small, large)]
    plan += [("gather", f) for f in sorted({small, 100, large})]
    runs: dict[tuple[str, int], list[Result]] = {p: [] for p in plan}
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

    def growth(mode: str) -> float:
        peak = {r["records"]: r["median_peak_mb"] for r in results if r["name"] == mode}
        return float(peak[large * rows] - peak[small * rows])

    span = f"{large * rows:,} vs {small * rows:,} records"
    checks = [
        target(f"{m} c16 peak RSS growth, MB ({span})", growth(m), f"<= {RSS_BOUND_MB}", None)
        for m in ("sdk ordered", "sdk unordered")
    ]
    for check in checks:
        check["pass"] = check["value"] <= RSS_BOUND_MB
    # The contrast: the gather loop holds the whole export. Judged at full size only.
    grown = growth("gather")
    wanted = f"> {RSS_BOUND_MB} (it grows with the export)"
    checks.append(
        target(
            f"gather peak RSS growth, MB ({span})",
            grown,
            wanted,
            None if quick else grown > RSS_BOUND_MB,
        )
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


# -- first record ------------------------------------------------------------------------


async def first_sdk(info: Info, *, ordered: bool, fresh: bool) -> float:
    """Seconds to the first record: from the call (fresh client) or from entering the stream."""
    started = time.perf_counter()
    async with client_for(info) as client:
        if not fresh:
            await client.messages.count_files(info["campaign_id"])  # signed in, pool warm
            started = time.perf_counter()
        stream = client.messages.stream(info["campaign_id"], concurrency=16, ordered=ordered)
        async with stream as records:
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


def first_probes() -> list[tuple[str, Callable[[Info], Awaitable[float]]]]:
    probes: list[tuple[str, Callable[[Info], Awaitable[float]]]] = []
    for fresh, when in ((False, "from entering the stream"), (True, "from the call")):
        for ordered in (True, False):
            mode = "ordered" if ordered else "unordered"

            async def probe(info: Info, ordered: bool = ordered, fresh: bool = fresh) -> float:
                return await first_sdk(info, ordered=ordered, fresh=fresh)

            probes.append((f"sdk {mode} c16, {when}", probe))
    probes.append(("sequential by hand, from the call", first_sequential))
    return probes


async def first_scenario(quick: bool, rounds: int) -> Result:
    files, repeats = 64, (3 if quick else max(7, rounds))
    probes = first_probes()
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
        target(f"{r['name']}: median s", r["median"], f"<= {limit:.3f}", r["median"] <= limit)
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
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": models[0] if models else platform.processor(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


def print_timed(title: str, scenario: Result) -> None:
    print(f"\n## {title} {scenario['params']}")
    head = ("contender", "conc", "best s", "median s", "cpu s", "records/s", "x ref")
    print("{:<20} {:>4} {:>7} {:>8} {:>6} {:>10} {:>6}".format(*head))
    for r in scenario["results"]:
        c = "all" if r["concurrency"] is None else r["concurrency"]
        print(
            f"{r['name']:<20} {c:>4} {r['best']:>7.3f} {r['median']:>8.3f} {r['cpu_best']:>6.3f} "
            f"{r['records_per_s']:>10,.0f} {r['vs_ref']:>6.2f}"
        )
    print(f"(x ref: speed relative to {scenario['reference']}, on best times)")


def print_memory(scenario: Result) -> None:
    print(f"\n## memory {scenario['params']}")
    print(f"{'contender':<14} {'records':>10} {'peak RSS MB':>12} {'runs':>16} {'s':>6}")
    for r in scenario["results"]:
        runs = " ".join(f"{p:.0f}" for p in r["peak_mb"])
        print(
            f"{r['name']:<14} {r['records']:>10,} {r['median_peak_mb']:>12.1f} {runs:>16} "
            f"{r['median_seconds']:>6.2f}"
        )
    print("(peak RSS: median of the runs; s: median seconds)")


def print_first(scenario: Result) -> None:
    print(f"\n## first record {scenario['params']}")
    print(f"{'probe':<44} {'best ms':>8} {'median ms':>10}")
    for r in scenario["results"]:
        print(f"{r['name']:<44} {r['best'] * 1e3:>8.1f} {r['median'] * 1e3:>10.1f}")


def print_targets(scenario: Result) -> None:
    for t in scenario["targets"]:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[t["pass"]]
        print(f"  [{verdict}] {t['target']}: {t['value']} (wanted {t['wanted']})")


def run_scenario(name: str, quick: bool, rounds: int) -> Result:
    if name == "latency":
        scenario = asyncio.run(latency_scenario(quick, rounds))
        print_timed("latency-bound", scenario)
    elif name == "throughput":
        scenario = asyncio.run(throughput_scenario(quick, rounds))
        print_timed("throughput-bound", scenario)
    elif name == "memory":
        scenario = memory_scenario(quick, rounds)
        print_memory(scenario)
    else:
        scenario = asyncio.run(first_scenario(quick, rounds))
        print_first(scenario)
    print_targets(scenario)
    return scenario


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    scenarios = ["latency", "throughput", "memory", "first"]
    parser.add_argument("--scenario", choices=[*scenarios, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="smaller exports, one round")
    parser.add_argument("--rounds", type=int, help="rounds per contender (default 3, quick 1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child_main(json.loads(args.child)))
        return
    rounds = args.rounds or (1 if args.quick else 3)
    path = RESULTS / ("export-quick.json" if args.quick else "export.json")
    out: dict[str, Any] = {"scenarios": {}}
    if path.exists():
        out = json.loads(path.read_text())
    for name in scenarios if args.scenario == "all" else [args.scenario]:
        out["scenarios"][name] = {**run_scenario(name, args.quick, rounds), "machine": machine()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
