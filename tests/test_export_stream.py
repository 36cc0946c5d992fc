"""The export stream: order, exactly-once under faults, back-pressure, resume, clean exit."""

from __future__ import annotations

import asyncio
from collections import Counter

import anyio
import pytest
from _helpers import client_tasks
from aioresponses import aioresponses

from nudgescribe_async import (
    Client,
    NudgescribeError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
)
from nudgescribe_async.testing import Emulator

FETCH = "/v1/messages/fetch"


def all_rows(emulator: Emulator, campaign_id: str) -> list[tuple[str, str, int, int]]:
    run = emulator.state.campaigns[campaign_id].run()
    assert run is not None and run.export is not None
    return [
        (cid, msg, n, row)
        for n in range(run.export.num_files)
        for row, (cid, msg) in enumerate(run.export.rows_for(n))
    ]


async def collect(
    client: Client, campaign_id: str, **kwargs: object
) -> list[tuple[str, str, int, int]]:
    async with client.messages.stream(campaign_id, **kwargs) as records:  # type: ignore[arg-type]
        return [(r.customer_id, r.message, r.file_num, r.row) async for r in records]


@pytest.mark.parametrize("export_type", ["utf8", "json", "url"])
@pytest.mark.parametrize("concurrency", [1, 3])
async def test_ordered_stream_yields_every_record_in_file_and_row_order(
    client: Client, emulator: Emulator, export_type: str, concurrency: int
) -> None:
    cid = emulator.add_campaign("Ordered", files=7, rows=40)
    got = await collect(client, cid, export_type=export_type, concurrency=concurrency)
    assert got == all_rows(emulator, cid)


async def test_unordered_stream_yields_the_same_multiset(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.add_campaign("Unordered", files=9, rows=60)
    emulator.faults.slow(FETCH, 0.05, when={"file_num": 0})  # file 0 arrives last
    got = await collect(client, cid, ordered=False, concurrency=4)
    assert Counter(got) == Counter(all_rows(emulator, cid))
    assert got[0][2] != 0


@pytest.mark.parametrize("export_type", ["utf8", "url"])
@pytest.mark.parametrize("ordered", [True, False])
async def test_files_cut_midway_are_retried_without_loss_or_duplicates(
    client: Client, emulator: Emulator, export_type: str, ordered: bool
) -> None:
    cid = emulator.add_campaign("Flaky", files=6, rows=300, message_length=200)
    path = FETCH
    if export_type == "url":
        account = emulator.credentials.account_id
        path = f"/storage/{account}/{cid}/1/2.csv"
    emulator.faults.truncate(
        path, times=2, after_bytes=20_000, when={"file_num": 2} if export_type == "utf8" else None
    )
    emulator.faults.drop(FETCH, times=1, when={"file_num": 4})
    got = await collect(client, cid, export_type=export_type, ordered=ordered, concurrency=3)
    assert Counter(got) == Counter(all_rows(emulator, cid))
    assert len(got) == 6 * 300


async def test_persistent_failure_reports_completed_files_and_resume_is_exact(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.add_campaign("Broken", files=8, rows=25)
    rule = emulator.faults.fail(FETCH, 500, times=None, when={"file_num": 5})
    got: list[tuple[str, str, int, int]] = []
    with pytest.raises(ServerError) as caught:
        async with client.messages.stream(cid, concurrency=2) as records:
            async for r in records:
                got.append((r.customer_id, r.message, r.file_num, r.row))
    completed = caught.value.completed_files
    assert completed == {0, 1, 2, 3, 4}
    assert {row[2] for row in got} == completed
    rule.times = 0  # the outage ends: resume where it stopped
    remaining = [n for n in range(8) if n not in completed]
    got += await collect(client, cid, file_nums=remaining)
    assert Counter(got) == Counter(all_rows(emulator, cid))


async def test_unordered_failure_counts_only_fully_yielded_files(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.add_campaign("Broken Unordered", files=6, rows=10)
    emulator.faults.fail(FETCH, 404, times=None, message="File not found.", when={"file_num": 3})
    seen: Counter[int] = Counter()
    with pytest.raises(NudgescribeError) as caught:
        async with client.messages.stream(cid, ordered=False, concurrency=2) as records:
            async for r in records:
                seen[r.file_num] += 1
    completed = caught.value.completed_files
    assert completed is not None
    assert 3 not in completed
    assert all(seen[n] == 10 for n in completed)


async def test_a_file_that_does_not_decode_ends_the_stream_with_completed_files() -> None:
    base = "https://api.example.test"
    with aioresponses() as mock:
        mock.post(base + "/v1/auth", payload={"access_token": "t"})
        mock.post(base + "/v1/messages/pages", payload={"num_files": 2})
        mock.post(base + FETCH, body=b"customer_id,message\r\nc1,hi\r\n", content_type="text/csv")
        mock.post(base + FETCH, body=b"customer_id,message\r\nc2,a,b\r\n", content_type="text/csv")
        client = Client(base, email="e", password="pw", api_code="c", retry=RetryPolicy.no_wait())
        got = []
        async with client:
            with pytest.raises(ResponseDecodeError, match="file 1: row 0 has 3 fields") as caught:
                async with client.messages.stream("camp-1", concurrency=1) as records:
                    async for r in records:
                        got.append(r.customer_id)
    assert got == ["c1"]
    assert caught.value.completed_files == {0}


async def test_after_a_file_fails_to_decode_the_loop_can_go_on_with_the_next_files() -> None:
    base = "https://api.example.test"
    bodies = [b"customer_id,message\r\nc0,hi\r\n", b"customer_id\r\nc1\r\n"]
    bodies.append(b"customer_id,message\r\nc2,yo\r\n")
    with aioresponses() as mock:
        mock.post(base + "/v1/auth", payload={"access_token": "t"})
        mock.post(base + "/v1/messages/pages", payload={"num_files": 3})
        for body in bodies:
            mock.post(base + FETCH, body=body, content_type="text/csv")
        client = Client(base, email="e", password="pw", api_code="c", retry=RetryPolicy.no_wait())
        async with client, client.messages.stream("camp-1", concurrency=1) as records:
            got = []
            with pytest.raises(ResponseDecodeError, match="file 1: the CSV has no message"):
                async for r in records:
                    got.append(r.customer_id)
            got += [r.customer_id async for r in records]
    assert got == ["c0", "c2"]
    assert records.completed_files == {0, 2}
    with pytest.raises(RuntimeError, match="inside `async with`"):
        await records.__anext__()


async def test_a_second_task_reading_the_same_stream_is_refused_and_loses_nothing(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.add_campaign("One reader", files=3, rows=5)
    emulator.faults.slow(FETCH, 0.2, when={"file_num": 0})
    async with client.messages.stream(cid) as records:
        async with anyio.create_task_group() as tg:
            tg.start_soon(records.__anext__)  # waits for file 0
            await anyio.sleep(0.05)
            with pytest.raises(RuntimeError, match="another task is already reading"):
                await records.__anext__()
            with pytest.raises(RuntimeError, match="another task is already reading"):
                await records.batches()
        rest = [(r.customer_id, r.message, r.file_num, r.row) async for r in records]
    assert rest == all_rows(emulator, cid)[1:]  # the first record went to the first task


async def test_shards_cover_the_export_exactly_once(client: Client, emulator: Emulator) -> None:
    cid = emulator.add_campaign("Sharded", files=10, rows=20)
    shards = [await collect(client, cid, file_nums=range(w, 10, 3)) for w in range(3)]
    merged = [row for shard in shards for row in shard]
    assert Counter(merged) == Counter(all_rows(emulator, cid))
    assert {row[2] for row in shards[1]} == {1, 4, 7}


async def test_file_nums_out_of_range_is_a_value_error(client: Client, emulator: Emulator) -> None:
    cid = emulator.campaign_id("Spring Sale")
    with pytest.raises(ValueError, match="out of range"):
        async with client.messages.stream(cid, file_nums=[0, 3]):
            pass
    with pytest.raises(ValueError, match="twice"):
        client.messages.stream(cid, file_nums=[1, 1])
    with pytest.raises(ValueError, match="concurrency"):
        client.messages.stream(cid, concurrency=0)


async def test_progress_counters_follow_the_stream(client: Client, emulator: Emulator) -> None:
    cid = emulator.add_campaign("Progress", files=4, rows=30)
    async with client.messages.stream(cid, concurrency=2) as records:
        assert records.files_total == 4
        async for _ in records:
            pass
        assert records.files_done == 4
        assert records.records == 120
        assert records.bytes > 120 * 50
        assert records.completed_files == {0, 1, 2, 3}


async def test_records_and_batches_can_be_mixed_without_loss_or_miscount(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.add_campaign("Mixed", files=2, rows=300)
    async with client.messages.stream(cid) as records:
        first = await records.__anext__()
        assert records.records == 1
        rest = await records.batches()
        assert rest is not None and rest[0].row == 1
        assert records.records == 1 + len(rest)
        remaining = [r async for r in records]
        assert records.records == 600
        assert await records.batches() is None
    got = [first, *rest, *remaining]
    assert [(r.file_num, r.row) for r in got] == [(f, n) for f in range(2) for n in range(300)]


async def test_batches_hand_over_whole_decoded_chunks(client: Client, emulator: Emulator) -> None:
    cid = emulator.add_campaign("Batches", files=3, rows=500)
    sizes = []
    async with client.messages.stream(cid) as records:
        while (batch := await records.batches()) is not None:
            sizes.append(len(batch))
    assert sum(sizes) == 1500
    assert max(sizes) > 1


@pytest.mark.parametrize("ordered", [True, False])
async def test_slow_consumer_pauses_the_downloads(
    client: Client, emulator: Emulator, ordered: bool
) -> None:
    cid = emulator.add_campaign("Backpressure", files=40, rows=200)
    async with client.messages.stream(cid, concurrency=2, ordered=ordered) as records:
        await records.__anext__()
        await anyio.sleep(0.3)  # give runaway downloads time to show themselves
        started = emulator.count(FETCH)
    assert started <= 6  # a window of 2 plus a couple of buffered batches, not 40


@pytest.mark.parametrize("ordered", [True, False])
async def test_leaving_early_cancels_downloads_and_releases_connections(
    emulator: Emulator, ordered: bool
) -> None:
    cid = emulator.add_campaign("Leave Early", files=30, rows=400)
    emulator.faults.slow(FETCH, 0.05)
    before = client_tasks()
    async with emulator.client() as client:
        async with client.messages.stream(cid, concurrency=6, ordered=ordered) as records:
            async for r in records:
                if r.row == 10:
                    break
        connector = client.session.connector
        assert connector is not None
        await asyncio.sleep(0)
        assert not connector._acquired  # every connection was given back or closed
    assert client_tasks() - before == set()


async def test_cancelling_the_consumer_leaves_nothing_running(emulator: Emulator) -> None:
    cid = emulator.add_campaign("Cancelled", files=20, rows=300)
    emulator.faults.slow(FETCH, 0.2)
    before = client_tasks()
    async with emulator.client() as client:
        with anyio.move_on_after(0.3):
            async with client.messages.stream(cid, concurrency=4) as records:
                async for _ in records:
                    pass
        assert not client.session.connector._acquired  # type: ignore[union-attr]
    assert client_tasks() - before == set()


@pytest.mark.parametrize("export_type", ["utf8", "json", "url"])
async def test_a_failing_file_is_tried_exactly_as_often_as_the_policy_says(
    client: Client, emulator: Emulator, export_type: str
) -> None:
    cid = emulator.campaign_id("Spring Sale")
    emulator.faults.fail(FETCH, 502, times=None)
    with pytest.raises(ServerError):
        await client.messages.fetch_file(cid, 0, export_type=export_type)  # type: ignore[arg-type]
    assert emulator.count(FETCH) == client.retry.attempts  # retries are never nested
