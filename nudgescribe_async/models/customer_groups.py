"""Customer groups: named sets of customers that campaigns target."""

from __future__ import annotations

import datetime as dt

import attrs

__all__ = ["CustomerGroup"]


@attrs.frozen
class CustomerGroup:
    """One customer group of a workspace."""

    customer_group_id: str
    name: str | None = None
    description: str | None = None
    customer_count: int | None = None
    created_at: dt.datetime | None = None
    workspace_id: str | None = None
