from __future__ import annotations

from typing import Any

import pytest

from nudgescribe_async import (
    CURRENCY_CODES,
    DATE_FORMATS,
    BadRequestError,
    Client,
    FieldType,
    InvalidWorkspaceError,
    NotFoundError,
    ProfileField,
)
from nudgescribe_async.models.profile_fields import check_field_format
from nudgescribe_async.resources.profile_fields import PATH, field_from
from nudgescribe_async.testing import Emulator

UNKNOWN_WORKSPACE = "7d3f0b4e-0000-4000-8000-000000000000"


async def test_field_is_created_listed_updated_and_deleted(client: Client) -> None:
    field = await client.profile_fields.create(
        "birthday", FieldType.DATE, field_format="dd/MM/yyyy", required=True
    )
    assert field.field_type is FieldType.DATE
    assert (field.field_name, field.field_format, field.required) == (
        "birthday",
        "dd/MM/yyyy",
        True,
    )
    assert field in await client.profile_fields.list()
    assert field in await client.profile_fields.list(workspace_id=field.workspace_id)

    renamed = await client.profile_fields.update(field.field_id, field_name="date_of_birth")
    assert (renamed.field_name, renamed.required, renamed.field_format) == (
        "date_of_birth",
        True,
        "dd/MM/yyyy",
    )
    relaxed = await client.profile_fields.update(field.field_id, required=False)
    assert (relaxed.field_name, relaxed.required) == ("date_of_birth", False)

    await client.profile_fields.delete(field.field_id)
    assert await client.profile_fields.list() == []
    with pytest.raises(NotFoundError):
        await client.profile_fields.delete(field.field_id)


async def _profiles(client: Client, group_id: str) -> list[dict[str, Any]]:
    async with client.customers.list(group_id) as customers:
        return [c.profile async for c in customers]


async def test_a_rename_moves_stored_values_and_a_delete_removes_them(client: Client) -> None:
    group = await client.customer_groups.create("Members")
    tier = await client.profile_fields.create("tier", "string")
    await client.profile_fields.create("city", "string")
    rows = [{"tier": "gold", "city": "Oslo"}, {"tier": "silver", "city": "Lima"}]
    await client.customers.check(group.customer_group_id, customers=rows)

    await client.profile_fields.update(tier.field_id, field_name="level")
    assert await _profiles(client, group.customer_group_id) == [
        {"level": "gold", "city": "Oslo"},
        {"level": "silver", "city": "Lima"},
    ]
    await client.profile_fields.delete(tier.field_id)
    assert await _profiles(client, group.customer_group_id) == [{"city": "Oslo"}, {"city": "Lima"}]


async def test_options_are_set_and_removed(client: Client) -> None:
    tier = await client.profile_fields.create("tier", "string", options=["gold", "silver"])
    assert tier.options == ("gold", "silver")
    same = await client.profile_fields.update(tier.field_id, field_name="level")
    assert same.options == ("gold", "silver")
    cleared = await client.profile_fields.update(tier.field_id, options=None)
    assert cleared.options is None


@pytest.mark.parametrize("date_format", DATE_FORMATS)
async def test_every_documented_date_format_is_accepted(client: Client, date_format: str) -> None:
    field = await client.profile_fields.create("day", "Date", field_format=date_format)
    assert field.field_format == date_format


@pytest.mark.parametrize("kind", ["string", "number", "char", FieldType.STRING, FieldType.CHAR])
async def test_types_without_a_format_are_created_from_enum_or_exact_string(
    client: Client, kind: FieldType | str
) -> None:
    field = await client.profile_fields.create("value", kind)
    assert field.field_type == FieldType(kind)
    assert field.field_format is None


async def test_a_currency_field_takes_an_iso_4217_code(client: Client) -> None:
    field = await client.profile_fields.create("spend", FieldType.CURRENCY, field_format="AED")
    assert (field.field_type, field.field_format) == (FieldType.CURRENCY, "AED")
    assert {"AED", "AUD", "EUR", "USD", "JPY"} <= CURRENCY_CODES


@pytest.mark.parametrize(
    ("kind", "fmt", "names"),
    [
        ("Date", None, DATE_FORMATS),
        ("Date", "YYYY-MM-DD", DATE_FORMATS),
        ("currency", None, ("ISO-4217", "'USD'")),
        ("currency", "usd", ("ISO-4217", "did you mean 'USD'")),
        ("currency", "US", ("ISO-4217",)),
        ("currency", "ABC", ("ISO-4217",)),
        ("string", "dd/MM/yyyy", ("takes no field_format",)),
        ("number", "USD", ("takes no field_format",)),
        ("date", "yyyy-MM-dd", ("'Date'", "did you mean 'Date'")),
        ("text", None, ("'string'", "'number'", "'char'", "'Date'", "'currency'")),
    ],
)
async def test_a_bad_type_and_format_is_refused_before_sending(
    client: Client, emulator: Emulator, kind: str, fmt: str | None, names: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="field_") as caught:
        await client.profile_fields.create("x", kind, field_format=fmt)
    for name in names:
        assert name in str(caught.value)
    assert emulator.count(PATH) == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.profile_fields.create("", "string"), ValueError),
        (lambda c: c.profile_fields.create("x", 5), TypeError),
        (lambda c: c.profile_fields.create("x", "string", required="yes"), TypeError),
        (lambda c: c.profile_fields.create("x", "string", options="gold"), TypeError),
        (lambda c: c.profile_fields.create("x", "Date", field_format=7), TypeError),
        (lambda c: c.profile_fields.update("f"), ValueError),
        (lambda c: c.profile_fields.update("f", required=1), TypeError),
        (lambda c: c.profile_fields.delete(""), ValueError),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    client: Client, emulator: Emulator, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await call(client)
    assert emulator.count(PATH) == 0


async def test_an_unknown_workspace_is_an_invalid_workspace_error(client: Client) -> None:
    with pytest.raises(InvalidWorkspaceError, match="Invalid Workspace") as caught:
        await client.profile_fields.list(workspace_id=UNKNOWN_WORKSPACE)
    assert isinstance(caught.value, BadRequestError)
    assert caught.value.status == 401


async def test_the_server_refuses_a_second_field_of_the_same_name(client: Client) -> None:
    await client.profile_fields.create("email", "string")
    with pytest.raises(BadRequestError, match="already exists"):
        await client.profile_fields.create("email", "string")


async def test_the_server_checks_type_and_format_too(client: Client) -> None:
    """What a client that skips the checks would hear (sent through the raw send path)."""
    for body in (
        {"field_name": "a", "field_type": "date", "field_format": "yyyy-MM-dd"},
        {"field_name": "a", "field_type": "Date"},
        {"field_name": "a", "field_type": "currency", "field_format": "usd"},
        {"field_name": "a", "field_type": "string", "field_format": "USD"},
        {"field_name": "a", "field_type": "string", "required": "yes"},
    ):
        with pytest.raises(BadRequestError) as caught:
            await client.request_json("PUT", PATH, body, idempotent=False)
        assert caught.value.status == 400
    with pytest.raises(BadRequestError, match="Missing required fields"):
        await client.request_json("PUT", PATH, {"field_name": "a"}, idempotent=False)


async def test_another_account_can_neither_see_nor_change_a_field(
    client: Client, other_client: Client
) -> None:
    mine = await client.profile_fields.create("secret", "string")
    assert await other_client.profile_fields.list() == []
    with pytest.raises(InvalidWorkspaceError):
        await other_client.profile_fields.list(workspace_id=mine.workspace_id)
    with pytest.raises(NotFoundError):
        await other_client.profile_fields.update(mine.field_id, field_name="taken")
    with pytest.raises(NotFoundError):
        await other_client.profile_fields.delete(mine.field_id)
    theirs = await other_client.profile_fields.create("secret", "number")
    assert theirs.workspace_id != mine.workspace_id
    assert await client.profile_fields.list() == [mine]


# -- pure --------------------------------------------------------------------------------------


def test_check_field_format_returns_the_enum() -> None:
    assert check_field_format("Date", "MMMM dd, yyyy") is FieldType.DATE
    assert check_field_format(FieldType.NUMBER, None) is FieldType.NUMBER
    assert str(FieldType.DATE) == "Date"


def test_an_unknown_server_field_type_is_kept_as_a_string() -> None:
    field = field_from({"field_id": "f", "field_type": "boolean", "required": None})
    assert field == ProfileField(field_id="f", field_type="boolean")
