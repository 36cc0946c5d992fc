"""`client.campaigns`: the account's campaigns across workspaces."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .._convert import expect_mapping, pick, structure, unwrap_list
from .._errors import ResponseDecodeError
from .._wire import (
    CAMPAIGN_END_DATE,
    CAMPAIGN_START_DATE,
    WORKSPACE_CAMPAIGNS_KEYS,
    WORKSPACES_KEYS,
)
from ..models.campaigns import Campaign
from ._base import Resource

PATH_ALL = "/v1/campaign/all"


class Campaigns(Resource):
    async def list(
        self, *, start_date: dt.date | None = None, end_date: dt.date | None = None
    ) -> list[Campaign]:
        """Every campaign of the account, each carrying its `workspace_id`/`workspace_name`.

        With `start_date`/`end_date`, only campaigns published in that window.
        """
        body: dict[str, Any] = {}
        if start_date is not None:
            body[CAMPAIGN_START_DATE] = _iso_date(start_date, "start_date")
        if end_date is not None:
            body[CAMPAIGN_END_DATE] = _iso_date(end_date, "end_date")
        if start_date and end_date and end_date < start_date:
            raise ValueError("end_date is before start_date")
        data = await self._read(PATH_ALL, body)
        return flatten_workspaces(data)


def _iso_date(value: dt.date, name: str) -> str:
    if not isinstance(value, dt.date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")
    return value.isoformat() if not isinstance(value, dt.datetime) else value.date().isoformat()


def flatten_workspaces(data: Any) -> list[Campaign]:
    """`{"workspaces": [{..., "campaigns": [...]}]}` (or a bare list of them) to campaigns."""
    campaigns: list[Campaign] = []
    for workspace in unwrap_list(data, WORKSPACES_KEYS, endpoint=PATH_ALL):
        ws = expect_mapping(workspace, endpoint=PATH_ALL)
        items = pick(ws, WORKSPACE_CAMPAIGNS_KEYS, [])
        if not isinstance(items, list):
            raise ResponseDecodeError("a workspace's campaigns is not a list", endpoint=PATH_ALL)
        for item in items:
            row = dict(expect_mapping(item, endpoint=PATH_ALL))
            row.setdefault("workspace_id", ws.get("workspace_id"))
            row.setdefault("workspace_name", ws.get("workspace_name"))
            campaigns.append(structure(row, Campaign, endpoint=PATH_ALL))
    return campaigns
