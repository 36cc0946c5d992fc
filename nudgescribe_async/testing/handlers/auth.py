"""POST /v1/auth (authenticate) and GET /v1/auth (re-authenticate)."""

from __future__ import annotations

from aiohttp import web

from .. import _jwt
from .._http import BODY, emulator, json_error

routes = web.RouteTableDef()


@routes.post("/v1/auth")
async def authenticate(request: web.Request) -> web.Response:
    emu = emulator(request)
    body = request.get(BODY)
    if not isinstance(body, dict) or not body.get("email") or not body.get("password"):
        return json_error(401, "Missing required fields")
    account = emu.state.account_by_email(str(body["email"]))
    if account is None or account.password != body["password"]:
        return json_error(401, "Invalid email or password")
    if request.headers.get("x-api-key") != account.api_key:
        return json_error(401, "Invalid API key")
    return web.json_response(emu.issue_tokens(account))


@routes.get("/v1/auth")
async def reauthenticate(request: web.Request) -> web.Response:
    emu = emulator(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return json_error(401, "Missing refresh token")
    try:
        claims = _jwt.verify(token, emu.secret, now=emu.clock.now())
    except _jwt.InvalidTokenError:
        return json_error(401, "Invalid refresh token")
    account = emu.state.accounts.get(str(claims.get("account_id")))
    if claims.get("typ") != "refresh" or account is None:
        return json_error(401, "Invalid refresh token")
    return web.json_response(emu.issue_tokens(account))
