"""Campaign reruns: POST /v1/campaign/rerun/history, /messages and /initiate.

The engine (comparison, archiving, the processing job) lives in `_reruns.py`; these handlers
check the request, find the campaign and group in the caller's account, and answer.
"""

from __future__ import annotations

from aiohttp import web

from .. import _reruns as engine
from .._http import HTTPError, account, body, int_arg, state
from .._state import Campaign

routes = web.RouteTableDef()


def _campaign(request: web.Request, campaign_id: object) -> Campaign:
    found = state(request).campaign(account(request).account_id, campaign_id)
    if found is None:
        raise HTTPError(404, "Campaign not found")
    return found


@routes.post("/v1/campaign/rerun/history")
async def history(request: web.Request) -> web.Response:
    campaign = _campaign(request, body(request, "campaign_id")["campaign_id"])
    runs = sorted(campaign.runs.values(), key=lambda r: r.run_number, reverse=True)
    return web.json_response([engine.history_entry(campaign, run) for run in runs])


@routes.post("/v1/campaign/rerun/messages")
async def run_messages(request: web.Request) -> web.Response:
    data = body(request, "campaign_id")
    run_number = int_arg(data, "run_number")
    campaign = _campaign(request, data["campaign_id"])
    if run_number is None:
        messages = engine.active_messages(campaign)
    elif run_number in campaign.runs:
        messages = engine.run_messages(campaign, run_number)
    else:
        raise HTTPError(404, "Run not found")
    return web.json_response([engine.message_json(m) for m in messages])


@routes.post("/v1/campaign/rerun/initiate")
async def initiate(request: web.Request) -> web.Response:
    data = body(request, "campaign_id", "new_customer_group_id")
    campaign = _campaign(request, data["campaign_id"])
    acct = account(request)
    group = state(request).group(acct.account_id, data["new_customer_group_id"])
    if group is None:
        raise HTTPError(404, "Customer group not found")
    problem = engine.precondition_failure(campaign)
    if problem is not None:
        raise HTTPError(400, problem)
    return web.json_response(
        engine.start_rerun(state(request), campaign, group, created_by=acct.email)
    )
