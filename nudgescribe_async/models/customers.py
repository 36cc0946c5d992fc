"""Customers of a group, and the outcome of an upload check."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["CheckResult", "Customer", "RowError"]


@attrs.frozen
class Customer:
    """One customer: its id and its profile (custom field name -> value)."""

    customer_id: str
    profile: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class RowError:
    """Why one uploaded row was refused.

    `row` numbers the data rows from 1 in upload order (a CSV's header row is not counted);
    `field` is None for a problem with the row as a whole.
    """

    row: int | None
    field: str | None
    message: str


@attrs.frozen
class CheckResult:
    """What `client.customers.check()` found and did.

    * `valid`: every row passed; when False nothing was written and `errors` says why.
    * `queued`: the upload was large, so the rows are written in the background under
      `job_uid`; they show up in `client.customers.list()` shortly after. The counts are
      then None.
    * `created_count` / `updated_count`: customers written (None when not reported).
    """

    valid: bool
    errors: tuple[RowError, ...] = ()
    queued: bool = False
    job_uid: str | None = None
    created_count: int | None = None
    updated_count: int | None = None
