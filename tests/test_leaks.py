"""Cancellation at random points of an export and of a watch leaves nothing behind: no task,
no open connection, no warning (warnings are errors in this suite)."""

from __future__ import annotations

import asyncio
import random

import anyio
import pytest
from _helpers import client_tasks

from nudgescribe_async import Client
from nudgescribe_async.testing import Emulator

FETCH = "/v1/messages/fetch"


def assert_no_connections(client: Client) -> None:
    connector = client.session.connector
    assert connector is not None
    assert not connector._acquired  # nothing handed out and not given back


@pytest.mark.parametrize("seed", range(12))
async def test_export_cancelled_at_a_random_point_leaves_nothing(
    emulator: Emulator, seed: int
) -> None:
    rng = random.Random(seed)
    export_type = rng.choice(["utf8", "url", "json"])
    ordered = rng.random() < 0.5
    cid = emulator.add_campaign("Cancel Me", files=30, rows=200)
    emulator.faults.slow(FETCH, rng.uniform(0.0, 0.03))
    before = client_tasks()
    async with emulator.client() as client:
        with anyio.move_on_after(rng.uniform(0.0, 0.4)):
            async with client.messages.stream(
                cid, export_type=export_type, ordered=ordered, concurrency=rng.randint(1, 8)
            ) as records:
                async for _ in records:
                    if rng.random() < 0.001:
                        break
        await asyncio.sleep(0)
        assert_no_connections(client)
    assert client_tasks() - before == set()


@pytest.mark.parametrize("seed", range(6))
async def test_watch_cancelled_at_a_random_point_leaves_nothing(
    emulator: Emulator, seed: int
) -> None:
    rng = random.Random(seed)
    ids = [emulator.add_campaign(f"Watched {n}", files=1, rows=1) for n in range(20)]
    emulator.faults.slow("/v1/campaign/rerun/history", rng.uniform(0.0, 0.02))
    before = client_tasks()
    async with emulator.client() as client:
        with anyio.move_on_after(rng.uniform(0.0, 0.3)):
            async with client.reruns.watch(ids, poll_interval=0.01, concurrency=4) as updates:
                async for _ in updates:
                    if rng.random() < 0.02:
                        break
        await asyncio.sleep(0)
        assert_no_connections(client)
    assert client_tasks() - before == set()
