"""Soak: continuous exports under random faults; memory and open sockets must stay flat.

    python benchmarks/soak.py --minutes 20

The emulator runs in its own process and fails file downloads at random (503, 429, dropped
connections, bodies cut midway). This process runs exports back to back, in every export type
and both orders, checks each one is exact, and samples its peak RSS and open sockets. It
prints the curve and writes benchmarks/results/soak.json. Not part of CI.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import emulator_process

from nudgescribe_async import Client, NudgescribeError, RetryPolicy


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


async def soak(
    info: dict[str, object], minutes: float, files: int, rows: int, pause: float
) -> dict[str, object]:
    samples: list[dict[str, float]] = []
    deadline = time.monotonic() + minutes * 60
    started = time.monotonic()
    exports = failures = records = 0
    modes = [("utf8", True), ("utf8", False), ("url", False), ("json", True)]
    policy = RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.1, jitter=0.01)
    async with Client(
        str(info["base_url"]), email=str(info["email"]), password=str(info["password"]),
        api_key=str(info["api_key"]), api_code=str(info["api_code"]), retry=policy,
    ) as client:  # fmt: skip
        next_sample = 0.0
        while time.monotonic() < deadline:
            export_type, ordered = modes[exports % len(modes)]
            seen: set[tuple[int, int]] = set()
            try:
                async with client.messages.stream(
                    str(info["campaign_id"]), export_type=export_type,  # type: ignore[arg-type]
                    ordered=ordered, concurrency=8,
                ) as stream:  # fmt: skip
                    async for rec in stream:
                        key = (rec.file_num, rec.row)
                        if key in seen:
                            raise AssertionError(f"duplicate record {key}")
                        seen.add(key)
                if len(seen) != files * rows:
                    raise AssertionError(f"lost records: {len(seen)} of {files * rows}")
                records += len(seen)
            except NudgescribeError:
                failures += 1  # retries ran out under the chaos: allowed, typed, counted
            exports += 1
            if pause:
                await asyncio.sleep(pause)  # leave CPU to whatever else shares the machine
            now = time.monotonic() - started
            if now >= next_sample:
                gc.collect()
                sample = {"t": round(now, 1), "rss_mb": round(rss_mb(), 1),
                          "sockets": open_sockets(), "exports": exports}  # fmt: skip
                samples.append(sample)
                print(f"{sample['t']:>8.0f}s  rss {sample['rss_mb']:>7.1f} MB  "
                      f"sockets {sample['sockets']:>3}  exports {exports}", flush=True)  # fmt: skip
                next_sample = now + max(5.0, minutes * 60 / 40)
    return {"samples": samples, "exports": exports, "failed_exports": failures,
            "records": records}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--chaos", type=float, default=0.03)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between exports")
    args = parser.parse_args()
    with emulator_process(files=args.files, rows=args.rows, chaos=args.chaos) as info:
        result = asyncio.run(soak(info, args.minutes, args.files, args.rows, args.pause))
    samples = result["samples"]
    assert isinstance(samples, list)
    warm = samples[len(samples) // 4 :] or samples
    rss = [s["rss_mb"] for s in warm]
    socks = [s["sockets"] for s in warm]
    summary = {
        "minutes": args.minutes, "chaos": args.chaos, "pause": args.pause, **result,
        "rss_after_warmup_mb": {"min": min(rss), "max": max(rss)},
        "sockets_after_warmup": {"min": min(socks), "max": max(socks)},
    }  # fmt: skip
    print(
        f"\n{result['exports']} exports ({result['failed_exports']} ended in a typed error), "
        f"{result['records']:,} records; after warm-up RSS {min(rss):.1f}-{max(rss):.1f} MB, "
        f"sockets {min(socks)}-{max(socks)}"
    )
    out = Path(__file__).resolve().parent / "results" / "soak.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
