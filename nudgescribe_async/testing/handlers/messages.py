"""Message export: publish, pages, fetch (utf8 | json | url) and the storage route.

The storage route stands in for the cloud bucket: it serves a file for a URL signed with the
emulator's secret, answers 403 when the link is expired or tampered with, and records the
headers it saw so tests can check that no API credential reaches it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from urllib.parse import urlencode

from aiohttp import web

from .._faults import FaultRule
from .._http import TRUNCATE, HTTPError, account, body, emulator, int_arg, state
from .._state import Account, Campaign, Export, iso

routes = web.RouteTableDef()

JSON_ROW_LIMIT = 1000
CHUNK = 16 * 1024
URL_LIFETIME = 3600.0
EXPORT_TYPES = ("utf8", "json", "url")


def _spend_quota(acct: Account) -> None:
    if acct.quota is None:
        return
    if acct.quota <= 0:
        raise HTTPError(503, "Quota Exceeded")
    acct.quota -= 1


def _campaign(request: web.Request, data: dict[str, object]) -> Campaign:
    found = state(request).campaign(account(request).account_id, data.get("campaign_id"))
    if found is None:
        raise HTTPError(404, "Campaign not found.")
    return found


def _export(campaign: Campaign, run_number: int | None) -> Export | None:
    run = campaign.run(run_number)
    if run is None:
        raise HTTPError(404, "Campaign/details not found.")
    return run.export


@routes.post("/v1/messages/publish")
async def publish(request: web.Request) -> web.Response:
    data = body(request, "campaign_id")
    campaign = _campaign(request, data)
    _spend_quota(account(request))
    run = campaign.run()
    if run is None:
        raise HTTPError(404, "Campaign/details not found.")
    if run.due_at is not None:  # a rerun still processing has no messages to export yet
        raise HTTPError(400, "Campaign rerun is still processing")
    state(request).publish(campaign)
    return web.json_response(
        {
            "message": "Messages created successfully",
            "key": f"production/messages/{campaign.account_id}/{campaign.campaign_id}/*",
        }
    )


@routes.post("/v1/messages/pages")
async def pages(request: web.Request) -> web.Response:
    data = body(request, "campaign_id")
    run_number = int_arg(data, "run_number")
    campaign = _campaign(request, data)
    _spend_quota(account(request))
    export = _export(campaign, run_number)
    count = 0 if export is None else export.visible_files(state(request).clock.now())
    return web.json_response({"num_files": count})


@routes.post("/v1/messages/fetch")
async def fetch(request: web.Request) -> web.StreamResponse:
    data = body(request, "campaign_id")
    if data.get("file_num") is None:
        raise HTTPError(401, "Missing required fields")
    file_num = int_arg(data, "file_num", required=True)
    run_number = int_arg(data, "run_number")
    export_type = data.get("export_type", "utf8")
    if export_type not in EXPORT_TYPES:
        raise HTTPError(401, "Invalid export option.")
    campaign = _campaign(request, data)
    if export_type == "url" and run_number is not None:
        raise HTTPError(400, "The url export is not available for a run_number")
    export = _export(campaign, run_number)
    now = state(request).clock.now()
    if export is None or file_num is None or not 0 <= file_num < export.visible_files(now):
        raise HTTPError(404, "File not found.")
    if export_type == "json":
        rows = list(csv.DictReader(io.StringIO(export.csv_bytes(file_num).decode("utf-8"))))
        return web.json_response(rows[:JSON_ROW_LIMIT])
    if export_type == "url":
        return web.json_response(_signed_url(request, campaign, file_num, now))
    return await _stream_csv(request, export.csv_bytes(file_num))


async def _stream_csv(request: web.Request, payload: bytes) -> web.StreamResponse:
    """`text/csv` in chunks; a `truncate` fault cuts it after some bytes and drops the line."""
    rule: FaultRule | None = request.get(TRUNCATE)
    cut = (
        len(payload)
        if rule is None
        else (rule.after_bytes if rule.after_bytes is not None else len(payload) // 2)
    )
    response = web.StreamResponse(headers={"content-type": "text/csv; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, cut, CHUNK):
        await response.write(payload[start : min(cut, start + CHUNK)])
    if rule is not None:
        if request.transport is not None:
            request.transport.abort()
        return response
    await response.write_eof()
    return response


def _signature(secret: bytes, path: str, expires: str) -> str:
    return hmac.new(secret, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()


def _signed_url(
    request: web.Request, campaign: Campaign, file_num: int, now: float
) -> dict[str, str]:
    emu = emulator(request)
    path = (
        f"/storage/{campaign.account_id}/{campaign.campaign_id}/{campaign.current_run}/"
        f"{file_num}.csv"
    )
    expires = str(int(now + URL_LIFETIME))
    query = urlencode({"expires": expires, "signature": _signature(emu.secret, path, expires)})
    return {"url": f"{emu.base_url}{path}?{query}", "expires_at": iso(float(expires))}


@routes.get("/storage/{account_id}/{campaign_id}/{run}/{file_num}.csv")
async def storage(request: web.Request) -> web.StreamResponse:
    emu = emulator(request)
    emu.storage_headers.append(dict(request.headers))
    expires = request.query.get("expires", "")
    signature = request.query.get("signature", "")
    expected = _signature(emu.secret, request.path, expires)
    if not hmac.compare_digest(expected, signature):
        return _denied("SignatureDoesNotMatch")
    if not expires.isdigit() or int(expires) <= emu.clock.now():
        return _denied("Request has expired")
    campaign = emu.state.campaigns.get(request.match_info["campaign_id"])
    run = campaign.runs.get(int(request.match_info["run"])) if campaign else None
    file_num = int(request.match_info["file_num"])
    if run is None or run.export is None or not 0 <= file_num < run.export.num_files:
        return _denied("NoSuchKey")
    return await _stream_csv(request, run.export.csv_bytes(file_num))


def _denied(code: str) -> web.Response:
    return web.Response(
        status=403,
        text=f"<Error><Code>AccessDenied</Code><Message>{code}</Message></Error>",
        content_type="application/xml",
    )
