"""The fault matrix: every fault crossed with every read endpoint and each export type.

Each cell ends one of two ways, never a third: the exact result of a clean run (compared by
count and checksum), or a typed error raised promptly that says what is needed to resume.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from nudgescribe_async import (
    Client,
    NudgescribeError,
    QuotaExceededError,
    RetryPolicy,
)
from nudgescribe_async.testing import Emulator

FETCH = "/v1/messages/fetch"
PROMPT = 10.0  # seconds: no cell may hang


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # the endpoint the fault is injected into ("*" ends a prefix)
    call: Callable[[Client, Emulator], Awaitable[Any]]
    normalize: Callable[[Any], Any] = lambda result: result


def digest(result: Any) -> tuple[int, str]:
    """Count and checksum of a result, independent of order."""
    items = result if isinstance(result, list) else [result]
    lines = sorted(repr(item) for item in items)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def _stream(client: Client, emu: Emulator, export_type: str, ordered: bool) -> list[Any]:
    cid = emu.campaign_id("Spring Sale")
    async with client.messages.stream(
        cid,
        export_type=export_type,
        ordered=ordered,
        concurrency=2,  # type: ignore[arg-type]
    ) as records:
        return [r async for r in records]


def _spring(emu: Emulator) -> str:
    return emu.campaign_id("Spring Sale")


def _loyalty(emu: Emulator) -> str:
    return emu.campaign_id("Loyalty Nudges")


async def _fields(client: Client) -> list[Any]:
    await client.profile_fields.list()  # sign in before the fault, so it hits the read
    return await client.profile_fields.list()


async def _customers(client: Client, emu: Emulator) -> list[Any]:
    group = _group(emu, "Loyal Customers")
    async with client.customers.list(group, page_size=2, concurrency=2) as customers:
        return [c async for c in customers]


def _group(emu: Emulator, name: str) -> str:
    return next(g.customer_group_id for g in emu.state.groups.values() if g.name == name)


TARGETS = [
    Target("campaigns.list", "/v1/campaign/all", lambda c, e: c.campaigns.list()),
    Target("messages.count_files", "/v1/messages/pages",
           lambda c, e: c.messages.count_files(_spring(e))),
    Target("messages.fetch_file utf8", FETCH, lambda c, e: c.messages.fetch_file(_spring(e), 1)),
    Target("messages.fetch_file json", FETCH,
           lambda c, e: c.messages.fetch_file(_spring(e), 1, export_type="json")),
    Target("messages.fetch_file url", "/storage/*",
           lambda c, e: c.messages.fetch_file(_spring(e), 1, export_type="url")),
    # A fresh link differs in its expiry and signature; what must match is the file it names.
    Target("messages.file_url", FETCH, lambda c, e: c.messages.file_url(_spring(e), 0),
           lambda link: link.url.split("?")[0]),
    Target("reruns.history", "/v1/campaign/rerun/history",
           lambda c, e: c.reruns.history(_loyalty(e))),
    Target("reruns.messages", "/v1/campaign/rerun/messages",
           lambda c, e: c.reruns.messages(_loyalty(e), run_number=1)),
    Target("customer_groups.list", "/v1/cg", lambda c, e: c.customer_groups.list()),
    Target("profile_fields.list", "/v1/cpf", lambda c, e: _fields(c)),
    Target("customers.count_pages", "/v1/customer/pages",
           lambda c, e: c.customers.count_pages(_group(e, "Loyal Customers"), page_size=2)),
    Target("customers.list", "/v1/customer", lambda c, e: _customers(c, e)),
    Target("stream utf8 ordered", FETCH, lambda c, e: _stream(c, e, "utf8", True)),
    Target("stream utf8 unordered", FETCH, lambda c, e: _stream(c, e, "utf8", False)),
    Target("stream json", FETCH, lambda c, e: _stream(c, e, "json", True)),
    Target("stream url", "/storage/*", lambda c, e: _stream(c, e, "url", False)),
]  # fmt: skip

FAULTS: dict[str, Callable[[Emulator, str], None]] = {
    "500 burst": lambda e, p: e.faults.fail(p, 500, times=3),
    "502 burst": lambda e, p: e.faults.fail(p, 502, times=3),
    "503 burst": lambda e, p: e.faults.fail(p, 503, times=3),
    "504 burst": lambda e, p: e.faults.fail(p, 504, times=3),
    "429 with Retry-After": lambda e, p: e.faults.fail(p, 429, times=2, retry_after=0),
    "reset before response": lambda e, p: e.faults.drop(p, times=2),
    "body cut midway": lambda e, p: e.faults.truncate(p, times=2),
    "slower than the timeout": lambda e, p: e.faults.slow(p, 1.0, times=1),
}


def _client(emu: Emulator) -> Client:
    return emu.client(retry=RetryPolicy(attempts=5, initial_wait=0, jitter=0), timeout=0.4)


async def _clean(emu: Emulator, target: Target) -> Any:
    async with _client(emu) as client:
        return await target.call(client, emu)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
async def test_transient_fault_gives_the_exact_result(
    emulator: Emulator, target: Target, fault: str
) -> None:
    expected = digest(target.normalize(await _clean(emulator, target)))
    FAULTS[fault](emulator, target.path)
    with anyio.fail_after(PROMPT):
        async with _client(emulator) as client:
            got = digest(target.normalize(await target.call(client, emulator)))
    assert got == expected
    assert all(rule.fired for rule in emulator.faults.rules)  # the fault did happen


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
async def test_quota_exceeded_is_a_prompt_typed_error(emulator: Emulator, target: Target) -> None:
    emulator.faults.fail(target.path, 503, message="Quota Exceeded", times=None)
    with anyio.fail_after(PROMPT), pytest.raises(QuotaExceededError) as caught:
        async with _client(emulator) as client:
            await target.call(client, emulator)
    rule = emulator.faults.rules[0]
    if target.name.startswith(("stream", "customers.list")):
        assert rule.fired <= 2  # each file or page in the window of 2 tried once, no retry
    else:
        assert rule.fired == 1  # not retried
    if target.name.startswith("stream"):
        assert caught.value.completed_files == frozenset()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
async def test_persistent_outage_is_a_prompt_typed_error(
    emulator: Emulator, target: Target
) -> None:
    emulator.faults.fail(target.path, 503, times=None)
    with anyio.fail_after(PROMPT), pytest.raises(NudgescribeError) as caught:
        async with _client(emulator) as client:
            await target.call(client, emulator)
    if target.name.startswith("stream"):
        assert caught.value.completed_files == frozenset()


@pytest.mark.parametrize("export_type", ["utf8", "json", "url"])
async def test_token_expiring_mid_export_loses_nothing(
    emulator: Emulator, export_type: str
) -> None:
    cid = emulator.add_campaign("Token Expiry", files=12, rows=50)
    expected = None
    async with _client(emulator) as client:
        async with client.messages.stream(cid, export_type=export_type) as records:  # type: ignore[arg-type]
            expected = [r async for r in records]
        got = []
        async with client.messages.stream(cid, export_type=export_type, concurrency=3) as records:  # type: ignore[arg-type]
            async for r in records:
                got.append(r)
                if len(got) == 100:
                    emulator.clock.advance(emulator.token_lifetime + 1)
    assert digest(got) == digest(expected)
    assert emulator.count("/v1/auth", "GET") == 1


async def test_presigned_url_expiring_mid_export_loses_nothing(emulator: Emulator) -> None:
    cid = emulator.add_campaign("URL Expiry", files=10, rows=50)
    async with _client(emulator) as client:
        async with client.messages.stream(cid) as records:
            expected = [r async for r in records]
    emulator.faults.slow("/storage/*", 0.05)
    async with _client(emulator) as client:
        got = []
        async with client.messages.stream(cid, export_type="url", concurrency=2) as records:
            async for r in records:
                got.append(r)
                if len(got) == 120:
                    emulator.clock.advance(3600)  # links already handed out now expire
    assert digest(got) == digest(expected)
    assert emulator.count(FETCH) > 10  # some links were replaced


async def test_growing_file_count_never_yields_a_partial_export(emulator: Emulator) -> None:
    cid = emulator.add_campaign("Growing", files=8, rows=20, published=False)
    emulator.state.publish_spread = 0.5
    emulator.state.publish_ready_after = 0.0
    async with _client(emulator) as client:
        await client.messages.publish(cid)
        async with client.messages.stream(cid) as early:
            early_rows = [r async for r in early]
        assert len(early_rows) == early.files_total * 20  # whole files only
        assert {r.file_num for r in early_rows} == set(range(early.files_total))
        total = await client.messages.wait_for_export(
            cid, poll_interval=0.02, settle_time=0.3, timeout=10
        )
        async with client.messages.stream(cid) as full:
            rows = [r async for r in full]
    assert total == 8
    assert len(rows) == 160
    assert len({(r.file_num, r.row) for r in rows}) == 160


NON_IDEMPOTENT = [
    ("publish", "/v1/messages/publish",
     lambda c, e: c.messages.publish(e.campaign_id("Summer Preview"))),
    ("reruns.initiate", "/v1/campaign/rerun/initiate",
     lambda c, e: c.reruns.initiate(_loyalty(e), _group(e, "New Signups"))),
    ("customers.check", "/v1/customer/check",
     lambda c, e: c.customers.check(_group(e, "Loyal Customers"),
                                    customers=[{"first_name": "Ana"}])),
    ("customers.check csv", "/v1/customer/check",
     lambda c, e: c.customers.check(_group(e, "Loyal Customers"),
                                    csv=b"first_name\r\nAna\r\n")),
    ("customer_groups.create", "/v1/cg", lambda c, e: c.customer_groups.create("New")),
    ("customer_groups.update", "/v1/cg",
     lambda c, e: c.customer_groups.update(_group(e, "Loyal Customers"), name="Renamed")),
    ("customer_groups.delete", "/v1/cg",
     lambda c, e: c.customer_groups.delete(_group(e, "Loyal Customers"))),
    ("profile_fields.create", "/v1/cpf",
     lambda c, e: c.profile_fields.create("nickname", "string")),
    ("customers.update", "/v1/customer",
     lambda c, e: c.customers.update([{"customer_id": "x", "first_name": "B"}])),
    ("customers.delete", "/v1/customer", lambda c, e: c.customers.delete(["x"])),
]  # fmt: skip


@pytest.mark.parametrize("fault", ["500", "502", "503", "504", "reset", "slow"])
@pytest.mark.parametrize(
    ("name", "path", "call"), NON_IDEMPOTENT, ids=[n[0] for n in NON_IDEMPOTENT]
)
async def test_non_idempotent_calls_are_never_replayed(
    emulator: Emulator, name: str, path: str, call: Any, fault: str
) -> None:
    if fault == "reset":
        emulator.faults.drop(path, times=None)
    elif fault == "slow":
        emulator.faults.slow(path, 1.0, times=None)
    else:
        emulator.faults.fail(path, int(fault), times=None)
    async with _client(emulator) as client:
        await client.campaigns.list()  # signed in: the fault meets the write itself
        before = emulator.count(path)
        with anyio.fail_after(PROMPT), pytest.raises(NudgescribeError):
            await call(client, emulator)
    assert emulator.count(path) - before == 1
