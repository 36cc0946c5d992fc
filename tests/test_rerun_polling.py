"""Waiting for a rerun and watching many campaigns: the engines and their pure decisions."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nudgescribe_async import (
    CampaignStatus,
    Client,
    NotFoundError,
    RetryPolicy,
    RunHistoryEntry,
    RunUpdate,
    ServerError,
    WaitTimeoutError,
)
from nudgescribe_async._polling import Watched, latest_run, observe, poll_delay
from nudgescribe_async.resources._rerun_watch import TASK_NAME
from nudgescribe_async.testing import Emulator

HISTORY = "/v1/campaign/rerun/history"


def group_id(emulator: Emulator, name: str) -> str:
    return next(g.customer_group_id for g in emulator.state.groups.values() if g.name == name)


def watch_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith(TASK_NAME)]


# -- wait ---------------------------------------------------------------------------------------


@pytest.fixture
async def slow_emulator() -> AsyncIterator[Emulator]:
    async with Emulator(rerun_delay=3600) as emu:
        yield emu


async def test_wait_past_its_timeout_raises_wait_timeout_error(slow_emulator: Emulator) -> None:
    cid = slow_emulator.campaign_id("Loyalty Nudges")
    async with slow_emulator.client(retry=RetryPolicy.no_wait()) as client:
        started = await client.reruns.initiate(cid, group_id(slow_emulator, "New Signups"))
        with pytest.raises(WaitTimeoutError, match="run 2 did not finish") as caught:
            await client.reruns.wait(cid, started.run_number, timeout=0.2, poll_interval=0.01)
    assert isinstance(caught.value, TimeoutError)
    assert slow_emulator.count(HISTORY) >= 2


async def test_wait_follows_the_emulator_clock(slow_emulator: Emulator) -> None:
    cid = slow_emulator.campaign_id("Loyalty Nudges")
    async with slow_emulator.client(retry=RetryPolicy.no_wait()) as client:
        started = await client.reruns.initiate(cid, group_id(slow_emulator, "Loyal Subset"))
        slow_emulator.clock.advance(3600)
        done = await client.reruns.wait(cid, started.run_number, timeout=5, poll_interval=0.01)
    assert done.status is CampaignStatus.READY_TO_PUBLISH
    assert slow_emulator.count(HISTORY) == 1


async def test_wait_for_a_finished_run_returns_after_one_call(
    client: Client, emulator: Emulator
) -> None:
    entry = await client.reruns.wait(emulator.campaign_id("Spring Sale"), 1)
    assert entry.run_number == 1
    assert emulator.count(HISTORY) == 1


async def test_wait_raises_the_error_of_a_failing_history(
    client: Client, emulator: Emulator
) -> None:
    with pytest.raises(NotFoundError):
        await client.reruns.wait("no-such-campaign", 1, timeout=5)


def test_poll_delay_grows_geometrically_up_to_its_cap() -> None:
    delays = [poll_delay(n, initial=1.0, maximum=5.0, jitter=0.0) for n in range(6)]
    assert delays == [1.0, 1.5, 2.25, 3.375, 5.0, 5.0]


def test_poll_delay_jitter_spreads_both_ways_but_never_past_the_cap() -> None:
    low = poll_delay(1, initial=1.0, maximum=10.0, jitter=0.1, rng=lambda: 0.0)
    high = poll_delay(1, initial=1.0, maximum=10.0, jitter=0.1, rng=lambda: 1.0)
    assert (low, high) == pytest.approx((1.35, 1.65))
    assert poll_delay(50, initial=1.0, maximum=10.0, jitter=0.5, rng=lambda: 1.0) == 10.0


@given(
    attempt=st.integers(min_value=-5, max_value=100_000),
    initial=st.floats(min_value=0.001, max_value=100),
    maximum=st.floats(min_value=0.001, max_value=1000),
    jitter=st.floats(min_value=0, max_value=1),
    draw=st.floats(min_value=0, max_value=1),
)
def test_poll_delay_stays_between_zero_and_the_cap(
    attempt: int, initial: float, maximum: float, jitter: float, draw: float
) -> None:
    delay = poll_delay(attempt, initial=initial, maximum=maximum, jitter=jitter, rng=lambda: draw)
    assert 0.0 <= delay <= maximum


# -- watch: pure decisions ----------------------------------------------------------------------


def entry(run: int, status: str, completed: bool = True) -> RunHistoryEntry:
    when = dt.datetime(2026, 3, 9, tzinfo=dt.timezone.utc) if completed else None
    return RunHistoryEntry("c", run, status=status, completed_at=when)


def test_latest_run_is_the_highest_number_whatever_the_order() -> None:
    assert latest_run([entry(2, "Published"), entry(3, "Processing"), entry(1, "x")]) == entry(
        3, "Processing"
    )
    assert latest_run([]) is None


def test_first_observation_is_a_change_from_none_and_repeats_are_quiet() -> None:
    first = entry(1, "Published")
    seen, update = observe("c", Watched(), first)
    assert update == RunUpdate("c", 1, None, "Published", first)
    assert observe("c", seen, entry(1, "PUBLISHED")) == (Watched(entry(1, "PUBLISHED")), None)


def test_new_run_and_completion_are_changes() -> None:
    seen = Watched(entry(1, "Published"))
    seen, update = observe("c", seen, entry(2, "Processing", completed=False))
    assert update is not None
    assert (update.run_number, update.old_status, update.new_status) == (
        2,
        "Published",
        "Processing",
    )
    _, update = observe("c", seen, entry(2, "Ready for review"))
    assert update is not None
    assert (update.old_status, update.new_status) == ("Processing", "Ready for review")


def test_a_failure_streak_is_reported_once_and_the_recovery_always() -> None:
    good = entry(1, "Published")
    error = ServerError(500, "boom", endpoint=HISTORY)
    seen, update = observe("c", Watched(good), error)
    assert update == RunUpdate("c", 1, "Published", "Published", good, error)
    seen, update = observe("c", seen, ServerError(502, "again", endpoint=HISTORY))
    assert update is None
    assert seen.failures == 2
    seen, update = observe("c", seen, good)
    assert update == RunUpdate("c", 1, "Published", "Published", good)
    assert seen == Watched(good)


# -- watch: against the emulator ----------------------------------------------------------------


async def test_watch_of_fifty_campaigns_survives_one_failing_and_reports_changes(
    client: Client, emulator: Emulator
) -> None:
    ids = [emulator.add_campaign(f"Watched {n}", files=1, rows=1) for n in range(50)]
    bad, changing = ids[17], ids[0]
    fault = emulator.faults.fail(HISTORY, 500, times=None, when={"campaign_id": bad})
    firsts: dict[str, RunUpdate] = {}
    errors: list[RunUpdate] = []
    changes: list[RunUpdate] = []

    async with client.reruns.watch(ids, poll_interval=0.05, concurrency=8) as updates:
        with anyio.fail_after(10):
            async for update in updates:
                if update.error is not None:
                    errors.append(update)
                else:
                    firsts.setdefault(update.campaign_id, update)
                if len(firsts) == 49 and errors:
                    break
            await client.reruns.initiate(changing, group_id(emulator, "Loyal Customers"))
            async for update in updates:
                (errors if update.error is not None else changes).append(update)
                if update.new_status is CampaignStatus.READY_TO_PUBLISH:
                    break
        assert watch_tasks()

    assert set(firsts) == set(ids) - {bad}
    assert all(u.old_status is None for u in firsts.values())
    assert all(u.new_status is CampaignStatus.PUBLISHED for u in firsts.values())
    assert all(u.entry is not None and u.entry.run_number == 1 for u in firsts.values())
    assert [(u.campaign_id, type(u.error)) for u in errors] == [(bad, ServerError)]
    assert fault.fired >= 8  # the bad campaign was polled again (4 tries a poll), unreported
    assert {u.campaign_id for u in changes} == {changing}
    assert changes[0].run_number == 2
    assert changes[0].old_status is CampaignStatus.PUBLISHED
    assert changes[-1].old_status is CampaignStatus.PROCESSING
    assert changes[-1].entry is not None
    assert changes[-1].entry.is_finished
    assert watch_tasks() == []


async def test_watch_reports_the_recovery_of_a_failing_campaign(emulator: Emulator) -> None:
    cid = emulator.campaign_id("Spring Sale")
    emulator.faults.fail(HISTORY, 503, times=1)
    async with emulator.client(retry=RetryPolicy.disabled()) as client:
        async with client.reruns.watch([cid], poll_interval=0.01) as updates:
            with anyio.fail_after(10):
                failed = await updates.__anext__()
                recovered = await updates.__anext__()
    assert isinstance(failed.error, ServerError)
    assert failed.run_number is None
    assert recovered.error is None
    assert recovered.new_status is CampaignStatus.PUBLISHED


async def test_an_error_in_the_watch_block_propagates_unwrapped_and_stops_polling(
    client: Client, emulator: Emulator
) -> None:
    async def use_and_fail() -> None:
        async with client.reruns.watch([emulator.campaign_id("Spring Sale")]) as updates:
            await updates.__anext__()
            raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        await use_and_fail()
    assert watch_tasks() == []


async def test_a_watch_runs_once(client: Client, emulator: Emulator) -> None:
    watch = client.reruns.watch([emulator.campaign_id("Spring Sale")], poll_interval=60)
    async with watch:
        pass
    with pytest.raises(RuntimeError, match="already started"):
        async with watch:
            pass
