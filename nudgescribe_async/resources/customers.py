"""`client.customers`: upload and check customers, page through a group, update, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from .._convert import expect_mapping, int_field, pick, structure, unwrap_list
from .._errors import ResponseDecodeError
from .._paging import PageWalk, prefetch_pages
from .._upload import CsvSource, CsvUpload
from .._wire import (
    CHECK_ERRORS_KEYS,
    CHECK_FILE_FIELD,
    CHECK_JOB_KEYS,
    CHECK_QUEUED_KEYS,
    CHECK_ROWS,
    CHECK_VALID_KEYS,
    CREATED_COUNT_KEYS,
    CUSTOMER_GROUP_ID,
    CUSTOMER_ID,
    CUSTOMER_IDS,
    CUSTOMER_PAGES_KEYS,
    CUSTOMER_PROFILE_KEYS,
    CUSTOMERS_LIST_KEYS,
    DELETED_COUNT_KEYS,
    PAGE,
    PAGE_SIZE,
    ROW_ERROR_FIELD_KEYS,
    ROW_ERROR_MESSAGE_KEYS,
    ROW_ERROR_ROW_KEYS,
    UPDATED_COUNT_KEYS,
)
from ..models.customers import CheckResult, Customer
from ._args import id_list, mapping_list, positive_int, text, without_nulls
from ._base import Resource

PATH = "/v1/customer"
PATH_CHECK = "/v1/customer/check"
PATH_PAGES = "/v1/customer/pages"


class Customers(Resource):
    async def check(
        self,
        customer_group_id: str,
        *,
        customers: Sequence[Mapping[str, Any]] | None = None,
        csv: CsvSource | None = None,
    ) -> CheckResult:
        """Validate customers against the workspace's profile fields and write them to the group.

        Pass exactly one of `customers` (a list of profiles: field name -> value, with
        `customer_id` to update an existing customer) or `csv`: a path (`str` or
        `os.PathLike`), the CSV as `bytes`, or an async iterable of `bytes` chunks. A file is
        streamed from disk, never read whole. When any row is invalid nothing is written and
        `errors` says why; a large upload is `queued` and its rows show up shortly after.

        Never retried: the upload is not idempotent. An async iterable can be read only once,
        so if the server refuses the (fresh-looking) token it cannot be sent again: the client
        refreshes its token and raises `AuthenticationError`; a path or bytes is replayed.
        """
        group_id = text(customer_group_id, "customer_group_id")
        if (customers is None) == (csv is None):
            raise ValueError("pass exactly one of customers= (a list of mappings) or csv=")
        if customers is not None:
            body = {CUSTOMER_GROUP_ID: group_id, CHECK_ROWS: mapping_list(customers, "customers")}
            return check_result(await self._write("POST", PATH_CHECK, body))
        assert csv is not None
        return check_result(await self._upload(group_id, csv))

    async def _upload(self, group_id: str, csv: CsvSource) -> Any:
        upload = CsvUpload({CUSTOMER_GROUP_ID: group_id}, csv, file_field=CHECK_FILE_FIELD)
        await upload.check()
        try:
            return await self._client.request_json(
                "POST",
                PATH_CHECK,
                idempotent=False,
                body_factory=upload,
                replayable=upload.replayable,
            )
        finally:
            await upload.aclose()

    async def count_pages(self, customer_group_id: str, *, page_size: int | None = None) -> int:
        """How many pages of customers the group has (of `page_size`, or the server's default)."""
        return await self._count(_group_body(customer_group_id, page_size))

    def list(
        self, customer_group_id: str, *, page_size: int | None = None, concurrency: int = 4
    ) -> AbstractAsyncContextManager[AsyncIterator[Customer]]:
        """Every customer of the group, in page order, while up to `concurrency` pages load.

        ```python
        async with client.customers.list(group_id) as customers:
            async for customer in customers:
                ...
        ```

        The page count is taken on entering the block. Leaving the block early cancels the
        pages still loading. A page that fails (after the usual retries) raises its error
        from the loop. `page_size` goes with the count and with every page request, so the
        pages asked for are the pages counted.
        """
        body = _group_body(customer_group_id, page_size)
        return self._walk(body, positive_int(concurrency, "concurrency"))

    @asynccontextmanager
    async def _walk(
        self, body: dict[str, Any], concurrency: int
    ) -> AsyncIterator[PageWalk[Customer]]:
        pages = await self._count(body)

        async def fetch(page: int) -> Sequence[Customer]:
            return customers_of(await self._read(PATH, {**body, PAGE: page}))

        async with prefetch_pages(fetch, pages, concurrency=concurrency) as walk:
            yield walk

    async def _count(self, body: dict[str, Any]) -> int:
        data = await self._read(PATH_PAGES, body)
        return int_field(data, CUSTOMER_PAGES_KEYS, endpoint=PATH_PAGES)

    async def update(self, customers: Sequence[Mapping[str, Any]]) -> int:
        """Change stored profile values; each mapping needs a `customer_id`. Returns the count
        updated.

        The newest API docs leave this endpoint out (uploads through `check()` update
        customers too), so it may be legacy.
        """
        rows = mapping_list(customers, "customers")
        for i, row in enumerate(rows):
            if CUSTOMER_ID not in row:
                raise ValueError(f"customers[{i}] has no {CUSTOMER_ID!r}")
            text(row[CUSTOMER_ID], f"customers[{i}][{CUSTOMER_ID!r}]")
        data = await self._write("PATCH", PATH, {CHECK_ROWS: rows})
        return int_field(data, UPDATED_COUNT_KEYS, endpoint=PATH)

    async def delete(self, customer_ids: Sequence[str]) -> int:
        """Delete customers by id; returns how many the server deleted."""
        data = await self._write(
            "DELETE", PATH, {CUSTOMER_IDS: id_list(customer_ids, "customer_ids")}
        )
        return int_field(data, DELETED_COUNT_KEYS, endpoint=PATH)


def _group_body(customer_group_id: str, page_size: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {CUSTOMER_GROUP_ID: text(customer_group_id, "customer_group_id")}
    if page_size is not None:
        body[PAGE_SIZE] = positive_int(page_size, "page_size")
    return body


def customers_of(data: Any) -> list[Customer]:
    """A page of customers; a customer without a `profile` object has its other keys as one."""
    out = []
    for item in unwrap_list(data, CUSTOMERS_LIST_KEYS, endpoint=PATH):
        row = dict(expect_mapping(item, endpoint=PATH))
        profile = pick(row, CUSTOMER_PROFILE_KEYS)
        if not isinstance(profile, Mapping):
            profile = {k: v for k, v in row.items() if k != CUSTOMER_ID}
        out.append(
            structure(
                {CUSTOMER_ID: row.get(CUSTOMER_ID), "profile": profile}, Customer, endpoint=PATH
            )
        )
    return out


def check_result(data: Any) -> CheckResult:
    """`/v1/customer/check`'s answer, taking the alternative names too."""
    obj = expect_mapping(data, endpoint=PATH_CHECK)
    errors = pick(obj, CHECK_ERRORS_KEYS) or []
    if not isinstance(errors, list):
        raise ResponseDecodeError("errors is not a list", endpoint=PATH_CHECK)
    fields = {
        "valid": pick(obj, CHECK_VALID_KEYS, not errors),
        "errors": [_row_error(e) for e in errors],
        "queued": pick(obj, CHECK_QUEUED_KEYS),
        "job_uid": pick(obj, CHECK_JOB_KEYS),
        "created_count": pick(obj, CREATED_COUNT_KEYS),
        "updated_count": pick(obj, UPDATED_COUNT_KEYS),
    }
    return structure(without_nulls(fields), CheckResult, endpoint=PATH_CHECK)


def _row_error(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"row": None, "field": None, "message": item}
    error = expect_mapping(item, endpoint=PATH_CHECK)
    return {
        "row": pick(error, ROW_ERROR_ROW_KEYS),
        "field": pick(error, ROW_ERROR_FIELD_KEYS),
        "message": pick(error, ROW_ERROR_MESSAGE_KEYS) or "",
    }
