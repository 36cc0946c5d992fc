from __future__ import annotations

import json
import os
import sys
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

import nudgescribe_async
from nudgescribe_async import (
    AuthenticationError,
    BadRequestError,
    CheckResult,
    Client,
    Customer,
    NotFoundError,
    ResponseDecodeError,
    RetryPolicy,
    RowError,
    ServerError,
)
from nudgescribe_async.resources.customers import (
    PATH,
    PATH_CHECK,
    PATH_PAGES,
    check_result,
    customers_of,
)
from nudgescribe_async.testing import Emulator


@pytest.fixture
async def group_id(client: Client) -> str:
    """A new group, in a workspace with a required Date field and an optional number field."""
    await client.profile_fields.create("signup", "Date", field_format="dd/MM/yyyy", required=True)
    await client.profile_fields.create("score", "number")
    await client.profile_fields.create("tier", "char", options=["A", "B"])
    return (await client.customer_groups.create("Imports")).customer_group_id


async def everyone(client: Client, group: str, **kwargs: Any) -> list[Customer]:
    async with client.customers.list(group, **kwargs) as customers:
        return [c async for c in customers]


# -- check ---------------------------------------------------------------------------------------


async def test_valid_rows_are_written_and_listed(client: Client, group_id: str) -> None:
    rows = [{"signup": "01/02/2024", "score": 3}, {"signup": "28/02/2025", "tier": "B"}]
    result = await client.customers.check(group_id, customers=rows)
    assert result == CheckResult(valid=True, created_count=2, updated_count=0)
    listed = await everyone(client, group_id)
    assert [c.profile for c in listed] == rows

    again = [{"customer_id": listed[0].customer_id, "signup": "01/02/2024", "score": 4}]
    result = await client.customers.check(group_id, customers=again)
    assert (result.created_count, result.updated_count) == (0, 1)
    assert (await everyone(client, group_id))[0].profile["score"] == 4


async def test_invalid_rows_are_reported_per_row_and_nothing_is_written(
    client: Client, group_id: str
) -> None:
    rows = [
        {"signup": "01/02/2024"},
        {"signup": "2024-02-01", "score": "many"},
        {"score": 1},
        {"signup": "01/02/2024", "tier": "C"},
    ]
    result = await client.customers.check(group_id, customers=rows)
    assert not result.valid
    assert result.errors == (
        RowError(2, "signup", "expected a date in the format dd/MM/yyyy"),
        RowError(2, "score", "expected a number"),
        RowError(3, "signup", "required field is missing"),
        RowError(4, "tier", "expected one of A, B"),
    )
    assert await client.customers.count_pages(group_id) == 0


async def test_a_csv_from_bytes_is_checked_with_rows_numbered_after_the_header(
    client: Client, group_id: str
) -> None:
    bad = b"signup,score\n01/02/2024,1\n31/02/2024,2\n01/03/2024\n"
    result = await client.customers.check(group_id, csv=bad)
    assert result.errors == (
        RowError(2, "signup", "expected a date in the format dd/MM/yyyy"),
        RowError(3, None, "expected 2 columns, got 1"),
    )
    good = '\ufeffsignup,score,note\r\n01/02/2024,,"Hello, ""world""\nbye"\r\n'.encode()
    result = await client.customers.check(group_id, csv=good)
    assert (result.valid, result.created_count) == (True, 1)
    [customer] = await everyone(client, group_id)
    assert customer.profile == {"signup": "01/02/2024", "note": 'Hello, "world"\nbye'}


async def test_a_csv_streamed_in_one_byte_chunks_arrives_intact(
    client: Client, group_id: str
) -> None:
    text = 'signup,note\n01/02/2024,"日本語, ✓\n🎉"\n02/02/2024,plain\n'

    async def one_byte_at_a_time() -> AsyncIterator[bytes]:
        for byte in text.encode():
            yield bytes([byte])

    result = await client.customers.check(group_id, csv=one_byte_at_a_time())
    assert result.created_count == 2
    notes = [c.profile["note"] for c in await everyone(client, group_id)]
    assert notes == ["日本語, ✓\n🎉", "plain"]


async def test_a_csv_path_is_uploaded_from_disk(
    client: Client, group_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("signup,score\n01/01/2020,1\n02/01/2020,2\n", encoding="utf-8")
    result = await client.customers.check(group_id, csv=path)
    assert result.created_count == 2
    result = await client.customers.check(group_id, csv=str(path))
    assert result.created_count == 2
    assert len(await everyone(client, group_id)) == 4


async def test_a_large_upload_is_queued_and_its_rows_appear_later() -> None:
    async with Emulator(check_queue_threshold=10, check_queue_delay=60) as emu:
        async with emu.client() as client:
            group = await client.customer_groups.create("Later")
            rows = [{"n": i} for i in range(11)]
            result = await client.customers.check(group.customer_group_id, customers=rows)
            assert result.valid
            assert result.queued
            assert result.job_uid
            assert result.created_count is None
            assert await client.customers.count_pages(group.customer_group_id) == 0
            emu.clock.advance(61)
            listed = await everyone(client, group.customer_group_id)
            assert [c.profile["n"] for c in listed] == list(range(11))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "exactly one"),
        ({"customers": [{"a": 1}], "csv": b"a\n1\n"}, ValueError, "exactly one"),
        ({"customers": []}, ValueError, "must not be empty"),
        ({"customers": {"a": 1}}, TypeError, "list of mappings"),
        ({"customers": [{"a": 1}, "row"]}, TypeError, r"customers\[1\]"),
        ({"customers": [{1: "a"}]}, TypeError, "key that is not a str"),
        ({"csv": b""}, ValueError, "csv is empty"),
        ({"csv": 42}, TypeError, "csv must be a path"),
        ({"csv": "/no/such/file.csv"}, FileNotFoundError, "no such file"),
    ],
)
async def test_bad_check_arguments_are_refused_before_sending(
    client: Client, emulator: Emulator, kwargs: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        await client.customers.check("some-group", **kwargs)
    assert emulator.count(PATH_CHECK) == 0


@pytest.mark.parametrize("csv", [None, b"signup\n01/01/2020\n"])
async def test_check_is_never_retried_on_a_500(
    client: Client, emulator: Emulator, group_id: str, csv: bytes | None
) -> None:
    emulator.faults.fail(PATH_CHECK, 500, times=None)
    kwargs: dict[str, Any] = {"csv": csv} if csv else {"customers": [{"signup": "01/01/2020"}]}
    with pytest.raises(ServerError):
        await client.customers.check(group_id, **kwargs)
    assert emulator.count(PATH_CHECK) == 1


async def test_a_rejected_token_replays_a_file_upload_but_not_a_one_shot_stream(
    client: Client, emulator: Emulator, tmp_path: Path
) -> None:
    group = (await client.customer_groups.create("Replays")).customer_group_id
    path = tmp_path / "one.csv"
    path.write_bytes(b"n\n1\n")
    async with emulator.client(access_token="revoked") as fresh_looking:
        result = await fresh_looking.customers.check(group, csv=path)
    assert result.created_count == 1
    assert emulator.count(PATH_CHECK) == 2

    async def once() -> AsyncIterator[bytes]:
        yield b"n\n2\n"

    async with emulator.client(access_token="revoked") as fresh_looking:
        with pytest.raises(AuthenticationError, match="auth error"):
            await fresh_looking.customers.check(group, csv=once())
        assert emulator.count(PATH_CHECK) == 3
        result = await fresh_looking.customers.check(group, csv=b"n\n3\n")
    assert result.created_count == 1
    assert [c.profile["n"] for c in await everyone(client, group)] == ["1", "3"]


# -- pages and listing ---------------------------------------------------------------------------


async def test_ten_thousand_customers_are_listed_in_order_exactly_once(
    client: Client, emulator: Emulator
) -> None:
    group = await client.customer_groups.create("Ten thousand")
    rows = [{"seq": i} for i in range(10_000)]
    assert (await client.customers.check(group.customer_group_id, customers=rows)).queued
    emulator.clock.advance(1)
    assert await client.customers.count_pages(group.customer_group_id, page_size=100) == 100
    listed = await everyone(client, group.customer_group_id, page_size=100, concurrency=4)
    assert [c.profile["seq"] for c in listed] == list(range(10_000))
    assert len({c.customer_id for c in listed}) == 10_000
    assert emulator.count(PATH) == 100


async def test_the_default_page_size_is_the_servers(client: Client, emulator: Emulator) -> None:
    loyal = next(g for g in await client.customer_groups.list() if g.name == "Loyal Customers")
    assert await client.customers.count_pages(loyal.customer_group_id) == 1
    assert await client.customers.count_pages(loyal.customer_group_id, page_size=2) == 5
    assert len(await everyone(client, loyal.customer_group_id, page_size=2)) == 9


async def test_leaving_the_block_early_stops_fetching_pages(
    client: Client, emulator: Emulator
) -> None:
    loyal = next(g for g in await client.customer_groups.list() if g.name == "Loyal Customers")
    async with client.customers.list(loyal.customer_group_id, page_size=1, concurrency=2) as it:
        async for _ in it:
            break
    assert emulator.count(PATH) <= 3
    with pytest.raises(RuntimeError, match="async with"):
        await it.__anext__()


async def test_a_failing_page_raises_its_error_from_the_loop(
    client: Client, emulator: Emulator
) -> None:
    loyal = next(g for g in await client.customer_groups.list() if g.name == "Loyal Customers")
    emulator.faults.fail(
        PATH, 404, times=None, message="Customer group not found", when={"page": 3}
    )
    seen: list[Customer] = []
    with pytest.raises(NotFoundError, match="Customer group not found"):
        await collect_into(seen, client, loyal.customer_group_id)
    assert len(seen) == 4


async def collect_into(seen: list[Customer], client: Client, group: str) -> None:
    async with client.customers.list(group, page_size=2) as customers:
        async for customer in customers:
            seen.append(customer)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"page_size": 0}, ValueError),
        ({"concurrency": 0}, ValueError),
        ({"page_size": "9"}, TypeError),
    ],
)
async def test_bad_paging_arguments_are_refused_before_sending(
    client: Client, emulator: Emulator, kwargs: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        client.customers.list("g", **kwargs)
    if "page_size" in kwargs:
        with pytest.raises(error):
            await client.customers.count_pages("g", page_size=kwargs["page_size"])
    assert emulator.count(PATH_PAGES) == 0


# -- update and delete ---------------------------------------------------------------------------


async def test_customers_are_updated_and_deleted(client: Client, group_id: str) -> None:
    await client.customers.check(group_id, customers=[{"signup": "01/02/2024"}] * 3)
    first, second, third = await everyone(client, group_id)
    assert await client.customers.update([{"customer_id": first.customer_id, "score": 9}]) == 1
    assert (await everyone(client, group_id))[0].profile == {"signup": "01/02/2024", "score": 9}

    with pytest.raises(BadRequestError, match="expected a number"):
        await client.customers.update([{"customer_id": second.customer_id, "score": "x"}])
    with pytest.raises(NotFoundError):
        await client.customers.update([{"customer_id": "00000000-0000-4000-8000-000000000000"}])

    deleted = await client.customers.delete([first.customer_id, third.customer_id, "unknown"])
    assert deleted == 2
    assert await everyone(client, group_id) == [second]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.customers.update([{"score": 1}]), ValueError),
        (lambda c: c.customers.update([]), ValueError),
        (lambda c: c.customers.delete([]), ValueError),
        (lambda c: c.customers.delete("one-id"), TypeError),
        (lambda c: c.customers.delete(["ok", ""]), ValueError),
    ],
)
async def test_bad_update_and_delete_arguments_are_refused_before_sending(
    client: Client, emulator: Emulator, call: Any, error: type
) -> None:
    with pytest.raises(error):
        await call(client)
    assert emulator.count(PATH) == 0


# -- isolation -----------------------------------------------------------------------------------


async def test_another_account_cannot_touch_a_groups_customers(
    client: Client, other_client: Client
) -> None:
    loyal = next(g for g in await client.customer_groups.list() if g.name == "Loyal Customers")
    gid = loyal.customer_group_id
    before = await everyone(client, gid)
    with pytest.raises(NotFoundError, match="Customer group not found"):
        await other_client.customers.check(gid, customers=[{"first_name": "Eve"}])
    with pytest.raises(NotFoundError):
        await other_client.customers.check(gid, csv=b"first_name\nEve\n")
    with pytest.raises(NotFoundError):
        await other_client.customers.count_pages(gid)
    with pytest.raises(NotFoundError):
        await everyone(other_client, gid)
    with pytest.raises(NotFoundError):
        await other_client.customers.update([{"customer_id": before[0].customer_id, "x": "y"}])
    assert await other_client.customers.delete([c.customer_id for c in before]) == 0
    assert await everyone(client, gid) == before


# -- a 50,000-row upload in constant memory --------------------------------------------------

PACKAGE_ROOT = str(Path(nudgescribe_async.__file__).resolve().parents[1])
CHILD = """
import json, sys
import anyio
from nudgescribe_async.testing import Emulator

async def main() -> None:
    async with Emulator(check_queue_delay=0) as emu:
        print(json.dumps({"base_url": emu.base_url, **emu.credentials.as_kwargs()}), flush=True)
        await anyio.to_thread.run_sync(sys.stdin.read)

anyio.run(main)
"""


@pytest.fixture
async def remote_emulator() -> AsyncIterator[dict[str, str]]:
    """An emulator in its own process: this process's memory is then the client's alone."""
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    async with await anyio.open_process([sys.executable, "-c", CHILD], env=env) as process:
        assert process.stdout is not None
        line = await BufferedByteReceiveStream(process.stdout).receive_until(b"\n", 65536)
        yield json.loads(line)


@pytest.fixture
def big_csv(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "customers.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,first_name,signup,score\n")
        for i in range(50_000):
            out.write(f"customer{i}@example.com,Name {i},2024-{i % 12 + 1:02d}-15,{i % 97}\n")
    return path, path.stat().st_size


@pytest.mark.slow
async def test_a_50000_row_csv_uploads_in_constant_memory(
    remote_emulator: dict[str, str], big_csv: tuple[Path, int], tmp_path: Path
) -> None:
    path, size = big_csv
    small_csv = tmp_path / "small.csv"
    small_csv.write_bytes(b"email,score\nfirst@example.com,1\n")
    async with Client(**remote_emulator, retry=RetryPolicy.no_wait()) as client:
        await client.profile_fields.create("signup", "Date", field_format="yyyy-MM-dd")
        await client.profile_fields.create("score", "number", required=True)
        group = await client.customer_groups.create("Fifty thousand")
        # A first small upload loads the modules an upload uses: their code is not the upload's.
        await client.customers.check(group.customer_group_id, csv=small_csv)
        tracemalloc.start()
        try:
            result = await client.customers.check(group.customer_group_id, csv=path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < size / 4, f"peak {peak} bytes for a {size}-byte file"
        assert (result.valid, result.queued) == (True, True)
        pages = await client.customers.count_pages(group.customer_group_id, page_size=1000)
        assert pages == 51  # the 50,000 rows and the first one


# -- lenient decoding (no network) ----------------------------------------------------------------


def test_check_results_in_other_shapes_are_understood() -> None:
    data = {
        "is_valid": False,
        "row_errors": [{"row_number": 2, "column": "x", "error": "bad"}, "whole file"],
        "job_id": None,
    }
    assert check_result(data) == CheckResult(
        valid=False, errors=(RowError(2, "x", "bad"), RowError(None, None, "whole file"))
    )
    assert check_result({"queued": True, "job_id": "j"}) == CheckResult(
        True, queued=True, job_uid="j"
    )


def test_customers_without_a_profile_object_keep_their_other_keys() -> None:
    page = customers_of([{"customer_id": "c", "email": "a@b.c"}])
    assert page == [Customer("c", {"email": "a@b.c"})]


@pytest.mark.parametrize(
    "data", [{"valid": "maybe"}, {"errors": "many"}, [], {"errors": [{"row": "x"}]}]
)
def test_an_unusable_check_result_is_a_decode_error(data: object) -> None:
    with pytest.raises(ResponseDecodeError, match="/v1/customer/check"):
        check_result(data)
