"""POST /v1/campaign/all."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._http import account, body, state
from .._state import iso

routes = web.RouteTableDef()


@routes.post("/v1/campaign/all")
async def all_campaigns(request: web.Request) -> web.Response:
    st, acct, data = state(request), account(request), body(request)
    start, end = data.get("start_date"), data.get("end_date")
    workspaces: list[dict[str, Any]] = []
    for ws in st.workspaces_of(acct.account_id):
        items = []
        for c in st.campaigns.values():
            if c.workspace_id != ws.workspace_id:
                continue
            published = iso(c.published_at)[:10] if c.published_at else None
            if (start or end) and (
                published is None
                or (start and published < str(start))
                or (end and published > str(end))
            ):
                continue
            items.append(
                {
                    "campaign_id": c.campaign_id,
                    "campaign_name": c.name,
                    "status": c.status,
                    "stage": c.stage,
                    "start_date": c.start_date,
                    "end_date": c.end_date,
                    "published_at": iso(c.published_at) if c.published_at else None,
                }
            )
        workspaces.append(
            {"workspace_id": ws.workspace_id, "workspace_name": ws.name, "campaigns": items}
        )
    return web.json_response({"workspaces": workspaces})
