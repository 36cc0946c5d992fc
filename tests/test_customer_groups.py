from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from nudgescribe_async import (
    BadRequestError,
    Client,
    CustomerGroup,
    InvalidWorkspaceError,
    NotFoundError,
    ResponseDecodeError,
)
from nudgescribe_async.resources.customer_groups import PATH, group_from
from nudgescribe_async.testing import Emulator


async def _names(client: Client, **kwargs: Any) -> set[str | None]:
    return {g.name for g in await client.customer_groups.list(**kwargs)}


async def test_group_is_created_listed_updated_and_deleted(client: Client) -> None:
    group = await client.customer_groups.create("VIP", description="Spent over 1k")
    assert group.name == "VIP"
    assert group.customer_count == 0
    assert group.created_at is not None
    assert group in await client.customer_groups.list()

    renamed = await client.customer_groups.update(group.customer_group_id, name="VIP 2026")
    assert renamed.name == "VIP 2026"
    assert renamed.description == "Spent over 1k"
    cleared = await client.customer_groups.update(group.customer_group_id, description=None)
    assert cleared.name == "VIP 2026"
    assert cleared.description is None

    await client.customer_groups.delete(group.customer_group_id)
    assert "VIP 2026" not in await _names(client)
    with pytest.raises(NotFoundError, match="Customer group not found"):
        await client.customer_groups.delete(group.customer_group_id)
    with pytest.raises(NotFoundError):
        await client.customer_groups.update(group.customer_group_id, name="back")


async def test_seeded_groups_are_listed_with_their_customer_counts(client: Client) -> None:
    by_name = {g.name: g for g in await client.customer_groups.list()}
    assert by_name["Loyal Customers"].customer_count == 9
    assert by_name["New Signups"].customer_count == 9


async def test_groups_are_scoped_to_a_workspace(client: Client) -> None:
    travel = next(
        c.workspace_id
        for c in await client.campaigns.list()
        if c.workspace_id and c.workspace_name == "Acme Travel"
    )
    group = await client.customer_groups.create("Travellers", workspace_id=travel)
    assert group.workspace_id == travel
    assert await _names(client, workspace_id=travel) == {"Travellers"}
    assert "Travellers" not in await _names(
        client,
        workspace_id=next(
            g.workspace_id
            for g in await client.customer_groups.list()
            if g.name == "Loyal Customers"
        ),
    )


async def test_an_unknown_workspace_is_an_invalid_workspace_error(
    client: Client, emulator: Emulator
) -> None:
    with pytest.raises(InvalidWorkspaceError) as caught:
        await client.customer_groups.create(
            "Lost", workspace_id="7d3f0b4e-0000-4000-8000-000000000000"
        )
    assert isinstance(caught.value, BadRequestError)
    with pytest.raises(InvalidWorkspaceError):
        await client.customer_groups.list(workspace_id="7d3f0b4e-0000-4000-8000-000000000000")
    assert "Lost" not in await _names(client)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.customer_groups.create(""), ValueError),
        (lambda c: c.customer_groups.create(42), TypeError),
        (lambda c: c.customer_groups.create("ok", description=3), TypeError),
        (lambda c: c.customer_groups.update("some-id"), ValueError),
        (lambda c: c.customer_groups.update("some-id", name=""), ValueError),
        (lambda c: c.customer_groups.update("", name="x"), ValueError),
        (lambda c: c.customer_groups.delete(None), TypeError),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    client: Client, emulator: Emulator, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await call(client)
    assert emulator.count(PATH) == 0


async def test_another_account_can_neither_see_nor_change_a_group(
    client: Client, other_client: Client
) -> None:
    mine = await client.customer_groups.create("Mine")
    assert "Mine" not in await _names(other_client)
    assert "Loyal Customers" not in await _names(other_client)
    with pytest.raises(NotFoundError):
        await other_client.customer_groups.update(mine.customer_group_id, name="Theirs")
    with pytest.raises(NotFoundError):
        await other_client.customer_groups.delete(mine.customer_group_id)
    with pytest.raises(InvalidWorkspaceError):
        await other_client.customer_groups.list(workspace_id=mine.workspace_id)
    with pytest.raises(InvalidWorkspaceError):
        await other_client.customer_groups.create("Sneaky", workspace_id=mine.workspace_id)
    assert mine in await client.customer_groups.list()


# -- the exact wire body ---------------------------------------------------------------------
# aioresponses 0.7.9 cannot build responses for aiohttp 3.14, so the bytes are read from
# aiohttp's own request tracing, on a session handed to the client.


@pytest.fixture
async def wire(emulator: Emulator) -> AsyncIterator[tuple[Client, list[tuple[str, bytes]]]]:
    sent: list[tuple[str, bytes]] = []

    async def on_chunk(_: object, __: object, params: aiohttp.TraceRequestChunkSentParams) -> None:
        sent.append((params.method, params.chunk))

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(on_chunk)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        async with emulator.client(session=session) as client:
            yield client, sent


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"name": "N"}, {"name": "N"}),
        ({"description": "D"}, {"description": "D"}),
        ({"description": None}, {"description": None}),
        ({"name": "N", "description": "D"}, {"name": "N", "description": "D"}),
    ],
)
async def test_update_sends_only_the_arguments_passed(
    wire: tuple[Client, list[tuple[str, bytes]]], kwargs: dict[str, Any], body: dict[str, Any]
) -> None:
    client, sent = wire
    group = await client.customer_groups.create("Before", description="Old")
    await client.customer_groups.update(group.customer_group_id, **kwargs)
    [patch] = [json.loads(chunk) for method, chunk in sent if method == "PATCH"]
    assert patch == {"customer_group_id": group.customer_group_id, **body}


# -- lenient decoding (no network) --------------------------------------------------------------


def test_a_wrapped_group_with_nulls_and_unknown_keys_is_accepted() -> None:
    group = group_from({"customer_group": {"customer_group_id": "g", "name": None, "new": 1}})
    assert group == CustomerGroup(customer_group_id="g")


@pytest.mark.parametrize(
    "data", [[], {"name": "no id"}, {"customer_group_id": "g", "customer_count": "many"}]
)
def test_an_unusable_group_is_a_decode_error_naming_the_endpoint(data: object) -> None:
    with pytest.raises(ResponseDecodeError, match="/v1/cg"):
        group_from(data)
