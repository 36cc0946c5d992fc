"""Polling engines for reruns: wait for one run, watch the latest run of many campaigns.

Rules of this file:
1. Decisions (delays, what changed) are the pure functions of `_polling.py`; this file only
   sleeps, calls and forwards.
2. `RunWatch` owns its task group inside `__aenter__`/`__aexit__`, never inside an async
   generator (anyio forbids yielding from one while a task group is open).
3. Polling is bounded: one `CapacityLimiter` for every campaign of a watch, so hundreds of
   campaigns keep at most `concurrency` requests in flight; updates reach the caller through
   a memory object stream sized for one full round, so a round never waits on the reader.
4. One campaign failing is an update for that campaign, never the end of the watch; a failing
   campaign is polled with growing delays. Leaving the block cancels and awaits every task.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._errors import NudgescribeError, WaitTimeoutError
from .._polling import Watched, find_run, latest_run, observe, poll_delay
from ..models.reruns import RunHistoryEntry, RunUpdate

FetchHistory = Callable[[str], Awaitable[list[RunHistoryEntry]]]

DEFAULT_WATCH_CONCURRENCY = 32
FAILING_BACKOFF = 8.0  # a failing campaign is polled at most this many intervals apart
TASK_NAME = "nudgescribe-watch"


async def wait_for_run(
    fetch: FetchHistory,
    campaign_id: str,
    run_number: int,
    *,
    timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
    rng: Callable[[], float] = random.random,
) -> RunHistoryEntry:
    """Poll the history until run `run_number` is finished; `WaitTimeoutError` at the deadline."""
    last: RunHistoryEntry | None = None
    with anyio.move_on_after(timeout):
        attempt = 0
        while True:
            last = find_run(await fetch(campaign_id), run_number)
            if last is not None and last.is_finished:
                return last
            delay = poll_delay(attempt, initial=poll_interval, maximum=max_poll_interval, rng=rng)
            await anyio.sleep(delay)
            attempt += 1
    seen = "not in the history yet" if last is None else f"last status {last.status!s}"
    raise WaitTimeoutError(
        f"campaign {campaign_id}: run {run_number} did not finish within {timeout}s ({seen})"
    )


class RunWatch:
    """`async with client.reruns.watch(ids) as updates: async for update in updates: ...`

    Built by `client.reruns.watch()`; usable once.
    """

    def __init__(
        self,
        fetch: FetchHistory,
        campaign_ids: Sequence[str],
        *,
        poll_interval: float,
        concurrency: int,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._fetch = fetch
        self._ids = tuple(campaign_ids)
        self._interval = poll_interval
        self._concurrency = concurrency
        self._rng = rng
        self._task_group: TaskGroup | None = None
        self._streams: (
            tuple[MemoryObjectSendStream[RunUpdate], MemoryObjectReceiveStream[RunUpdate]] | None
        ) = None

    def __repr__(self) -> str:
        return (
            f"<RunWatch of {len(self._ids)} campaigns, every {self._interval}s, "
            f"concurrency={self._concurrency}>"
        )

    async def __aenter__(self) -> AsyncIterator[RunUpdate]:
        if self._streams is not None:
            raise RuntimeError("this watch was already started; call watch() again")
        send, receive = anyio.create_memory_object_stream[RunUpdate](max(1, len(self._ids)))
        self._streams = (send, receive)
        limiter = anyio.CapacityLimiter(self._concurrency)
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        for campaign_id in self._ids:
            task_group.start_soon(
                self._follow, campaign_id, limiter, send, name=f"{TASK_NAME} {campaign_id}"
            )
        return receive

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        assert self._streams is not None
        self._task_group.cancel_scope.cancel()
        try:
            if exc is None or isinstance(exc, anyio.get_cancelled_exc_class()):
                return await self._task_group.__aexit__(exc_type, exc, tb)
            # The caller's own error: stop the pollers, then let it propagate as it is
            # (not wrapped in an ExceptionGroup by the task group).
            await self._task_group.__aexit__(None, None, None)
            return None
        finally:
            for stream in self._streams:
                stream.close()

    async def _follow(
        self,
        campaign_id: str,
        limiter: anyio.CapacityLimiter,
        send: MemoryObjectSendStream[RunUpdate],
    ) -> None:
        seen = Watched()
        while True:
            async with limiter:
                result = await self._poll(campaign_id)
            seen, update = observe(campaign_id, seen, result)
            if update is not None:
                await send.send(update)
            await anyio.sleep(
                poll_delay(
                    seen.failures,
                    initial=self._interval,
                    maximum=self._interval * (FAILING_BACKOFF if seen.failures else 1.1),
                    rng=self._rng,
                )
            )

    async def _poll(self, campaign_id: str) -> RunHistoryEntry | NudgescribeError | None:
        try:
            return latest_run(await self._fetch(campaign_id))
        except NudgescribeError as exc:
            return exc
