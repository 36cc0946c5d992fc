"""Customers: POST /v1/customer/check (JSON or multipart CSV), /v1/customer/pages, and
POST | PATCH | DELETE /v1/customer.

A check writes nothing when any row is invalid. More rows than the emulator's
`check_queue_threshold` are queued and written `check_queue_delay` seconds later (on the
emulator's clock). Customers of another account are never found.
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import BodyPartReader, web

from .._content import (
    CUSTOMER_ID,
    CsvRows,
    RowError,
    fields_in,
    queue_import,
    row_errors,
    settle_imports,
    upsert,
)
from .._http import HTTPError, account, body, emulator, int_arg, state
from .._state import Customer, CustomerGroup, State

routes = web.RouteTableDef()

CHUNK = 64 * 1024
GROUP_ID = "customer_group_id"


def settled(request: web.Request) -> State:
    """The state, with every queued import that is due written first."""
    st = state(request)
    settle_imports(st)
    return st


def find_group(request: web.Request, group_id: Any) -> CustomerGroup:
    found = settled(request).group(account(request).account_id, group_id)
    if found is None:
        raise HTTPError(404, "Customer group not found")
    return found


# -- check -----------------------------------------------------------------------------------


@routes.post("/v1/customer/check")
async def check(request: web.Request) -> web.Response:
    if request.content_type == "multipart/form-data":
        group, rows, errors = await _from_multipart(request)
    else:
        data = body(request, GROUP_ID)
        group, rows, errors = find_group(request, data[GROUP_ID]), _json_rows(data), []
    if not rows:
        raise HTTPError(400, "No customers to check")
    fields = fields_in(state(request), group.account_id, group.workspace_id)
    for number, row in enumerate(rows, 1):
        if row is not None:
            errors.extend(row_errors(number, row, fields))
    if errors:
        errors.sort(key=lambda e: e["row"])
        return _result(valid=False, errors=errors, counts=(0, 0))
    checked = [row for row in rows if row is not None]
    emu = emulator(request)
    if len(checked) > emu.check_queue_threshold:
        job = queue_import(state(request), group, checked, emu.check_queue_delay)
        return _result(valid=True, queued=True, job_uid=job)
    return _result(valid=True, counts=upsert(group, checked))


def _json_rows(data: dict[str, Any]) -> list[dict[str, Any] | None]:
    rows = data.get("customers")
    if rows is None:
        raise HTTPError(401, "Missing required fields")
    if not isinstance(rows, list):
        raise HTTPError(400, "customers must be a list")
    if not all(isinstance(row, dict) for row in rows):
        raise HTTPError(400, "each customer must be an object")
    return list(rows)


async def _from_multipart(
    request: web.Request,
) -> tuple[CustomerGroup, list[dict[str, Any] | None], list[RowError]]:
    group: CustomerGroup | None = None
    parsed: CsvRows | None = None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise HTTPError(400, "Nested multipart bodies are not supported")
        if part.name == GROUP_ID:
            group = find_group(request, (await part.text()).strip())
        elif part.name == "file":
            parsed = await _read_csv(part)
        else:
            await part.release()
    if group is None or parsed is None:
        raise HTTPError(401, "Missing required fields")
    return group, list(parsed.rows), parsed.errors


async def _read_csv(part: BodyPartReader) -> CsvRows:
    parsed = CsvRows()
    try:
        while chunk := await part.read_chunk(CHUNK):
            parsed.feed(chunk)
        parsed.close()
    except UnicodeDecodeError as exc:
        raise HTTPError(400, "The file is not UTF-8 text") from exc
    if parsed.header is None:
        raise HTTPError(400, "The file has no header row")
    return parsed


def _result(
    *,
    valid: bool,
    errors: list[RowError] | None = None,
    queued: bool = False,
    job_uid: str | None = None,
    counts: tuple[int, int] | None = None,
) -> web.Response:
    created, updated = counts if counts is not None else (None, None)
    return web.json_response(
        {
            "valid": valid,
            "errors": errors or [],
            "queued": queued,
            "job_uid": job_uid,
            "created_count": created,
            "updated_count": updated,
        }
    )


# -- pages and listing -----------------------------------------------------------------------


def _group_and_size(request: web.Request, data: dict[str, Any]) -> tuple[CustomerGroup, int]:
    size = int_arg(data, "page_size")
    if size is not None and size < 1:
        raise HTTPError(400, "page_size must be at least 1")
    group = find_group(request, data[GROUP_ID])
    return group, size or emulator(request).customer_page_size


@routes.post("/v1/customer/pages")
async def pages(request: web.Request) -> web.Response:
    group, size = _group_and_size(request, body(request, GROUP_ID))
    total = len(group.customers)
    return web.json_response({"pages": -(-total // size), "total_customers": total})


@routes.post("/v1/customer")
async def list_customers(request: web.Request) -> web.Response:
    data = body(request, GROUP_ID)
    page = int_arg(data, "page", required=True)
    assert page is not None
    if page < 1:
        raise HTTPError(400, "page must be at least 1 (pages are numbered from 1)")
    group, size = _group_and_size(request, data)
    chunk = itertools.islice(group.customers.values(), (page - 1) * size, page * size)
    return web.json_response(
        {"customers": [{"customer_id": c.customer_id, "profile": c.profile} for c in chunk]}
    )


# -- update and delete -----------------------------------------------------------------------


def _customers_of_account(request: web.Request) -> dict[str, list[tuple[CustomerGroup, Customer]]]:
    owner = account(request).account_id
    found: dict[str, list[tuple[CustomerGroup, Customer]]] = {}
    for group in settled(request).groups.values():
        if group.account_id == owner:
            for customer in group.customers.values():
                found.setdefault(customer.customer_id, []).append((group, customer))
    return found


@routes.patch("/v1/customer")
async def update_customers(request: web.Request) -> web.Response:
    rows = [row for row in _json_rows(body(request)) if row is not None]
    known = _customers_of_account(request)
    for number, row in enumerate(rows, 1):
        customer_id = row.get(CUSTOMER_ID)
        if not isinstance(customer_id, str) or customer_id not in known:
            raise HTTPError(404, "Customer not found")
        for group, _ in known[customer_id]:
            _check_update(request, group, number, row)
    for row in rows:
        for _, customer in known[row[CUSTOMER_ID]]:
            _apply(customer.profile, row)
    return web.json_response({"updated_count": len(rows)})


def _check_update(
    request: web.Request, group: CustomerGroup, number: int, row: dict[str, Any]
) -> None:
    fields = fields_in(state(request), group.account_id, group.workspace_id)
    problems = row_errors(number, row, fields, partial=True)
    if problems:
        first = problems[0]
        raise HTTPError(400, f"Row {number}, {first['field']}: {first['message']}")


def _apply(profile: dict[str, Any], row: dict[str, Any]) -> None:
    for name, value in row.items():
        if name == CUSTOMER_ID:
            continue
        if value is None or value == "":
            profile.pop(name, None)
        else:
            profile[name] = value


@routes.delete("/v1/customer")
async def delete_customers(request: web.Request) -> web.Response:
    ids = body(request, "customer_ids")["customer_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise HTTPError(400, "customer_ids must be a list of strings")
    known = _customers_of_account(request)
    deleted = 0
    for customer_id in dict.fromkeys(ids):
        for group, _ in known.get(customer_id, []):
            del group.customers[customer_id]
            deleted += 1
    return web.json_response({"deleted_count": deleted})
