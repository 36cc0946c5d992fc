"""Pure decisions for waiting on and watching reruns: the next delay, the latest run, changes.

Rules of this file:
1. No I/O and no clock: plain values in, plain values out, tested without a network.
2. Delays grow geometrically from `initial` to `maximum`, with symmetric jitter so hundreds
   of pollers drift apart instead of hitting the server in lockstep; never above `maximum`.
3. A campaign's latest run has changed when its run number, its status (case-folded) or its
   completion time differs from what was seen last.
4. A failure streak yields one error update; the first success after it is always reported.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from ._errors import NudgescribeError
from .models.reruns import RunHistoryEntry, RunUpdate

_MAX_EXPONENT = 64  # 1.5 ** 64 is far past any cap; avoids float overflow on long waits


def jittered(seconds: float, *, jitter: float, rng: Callable[[], float] = random.random) -> float:
    """`seconds` moved up or down by at most `jitter` (a fraction), never below zero."""
    return max(0.0, seconds * (1.0 + jitter * (2.0 * rng() - 1.0)))


def poll_delay(
    attempt: int,
    *,
    initial: float,
    maximum: float,
    factor: float = 1.5,
    jitter: float = 0.1,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to sleep after poll number `attempt` (0 for the first poll)."""
    base = min(initial * factor ** min(max(attempt, 0), _MAX_EXPONENT), maximum)
    return min(maximum, jittered(base, jitter=jitter, rng=rng))


def latest_run(entries: Iterable[RunHistoryEntry]) -> RunHistoryEntry | None:
    """The run with the highest number (whatever order the server used)."""
    return max(entries, key=lambda e: e.run_number, default=None)


def find_run(entries: Iterable[RunHistoryEntry], run_number: int) -> RunHistoryEntry | None:
    return next((e for e in entries if e.run_number == run_number), None)


def change_key(entry: RunHistoryEntry | None) -> tuple[Any, ...] | None:
    """What identifies a campaign's latest run for change detection."""
    if entry is None:
        return None
    status = None if entry.status is None else str(entry.status).strip().casefold()
    return (entry.run_number, status, entry.completed_at)


@attrs.frozen
class Watched:
    """What a watch knows about one campaign: the last good entry and the current streak."""

    entry: RunHistoryEntry | None = None
    failures: int = 0


def observe(
    campaign_id: str, seen: Watched, result: RunHistoryEntry | NudgescribeError | None
) -> tuple[Watched, RunUpdate | None]:
    """Fold one poll result (the latest run, or the error) into `seen`; the update to emit."""
    last = seen.entry
    last_status = None if last is None else last.status
    last_run = None if last is None else last.run_number
    if isinstance(result, NudgescribeError):
        update = None
        if seen.failures == 0:
            update = RunUpdate(campaign_id, last_run, last_status, last_status, last, result)
        return Watched(last, seen.failures + 1), update
    if seen.failures == 0 and change_key(result) == change_key(last):
        return Watched(result), None
    run_number = None if result is None else result.run_number
    new_status = None if result is None else result.status
    return Watched(result), RunUpdate(campaign_id, run_number, last_status, new_status, result)
