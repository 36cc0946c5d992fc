"""The aiohttp application: middlewares (count, faults, latency, auth) and the handler table.

Rules of this file:
1. Adding an endpoint is one handler in `handlers/<area>.py` on that module's `routes`; the
   area module is listed once in `AREAS`.
2. Middlewares run in order: count -> parse body -> latency and faults -> auth -> handler.
3. Auth checks the headers exactly as CONTRACT §1: api_code first (403 `Unauthorized`), then
   the JWT (403 `auth error`), then `api_access`, then the account scope. `/v1/auth` and the
   storage route have their own checks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from . import _jwt
from ._faults import FaultRule
from ._http import ACCOUNT, BODY, EMULATOR_KEY, TRUNCATE, HTTPError, json_error
from .handlers import auth, campaigns, customer_groups, customers, messages, profile_fields, reruns

if TYPE_CHECKING:
    from ._emulator import Emulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

AREAS = (auth, campaigns, messages, reruns, customer_groups, profile_fields, customers)
OPEN_PATHS = frozenset({"/v1/auth"})
STORAGE_PREFIX = "/storage/"


@web.middleware
async def count_and_parse(request: web.Request, handler: Handler) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    emu.counts[(request.method, request.path)] += 1
    emu.seen_headers.append((request.method, request.path, dict(request.headers)))
    body = None
    if request.can_read_body and request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, "Invalid JSON body")
    request[BODY] = body
    return await handler(request)


@web.middleware
async def faults_and_latency(request: web.Request, handler: Handler) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    delay = emu.latency + emu.path_latency.get(request.path, 0.0)
    body = request.get(BODY)
    rules = emu.faults.take(request.method, request.path, body if isinstance(body, dict) else None)
    delay += sum(r.delay for r in rules if r.action == "delay")
    if delay > 0:
        await asyncio.sleep(delay)
    for rule in rules:
        if rule.action == "status":
            headers = {"Retry-After": rule.retry_after} if rule.retry_after is not None else None
            return json_error(rule.status, rule.message, headers)
        if rule.action == "drop":
            _abort(request)
            raise asyncio.CancelledError  # aiohttp ends the handler quietly
        if rule.action == "truncate":
            request[TRUNCATE] = rule
    response = await handler(request)
    truncate: FaultRule | None = request.get(TRUNCATE)
    if truncate is not None and isinstance(response, web.Response) and response.body is not None:
        return await _send_truncated(request, response, truncate)
    return response


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def _send_truncated(
    request: web.Request, response: web.Response, rule: FaultRule
) -> web.StreamResponse:
    raw = response.body
    data = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    cut = rule.after_bytes if rule.after_bytes is not None else len(data) // 2
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(data)
    await stream.prepare(request)
    await stream.write(data[:cut])
    _abort(request)
    raise asyncio.CancelledError


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS or request.path.startswith(STORAGE_PREFIX):
        return await handler(request)
    emu = request.app[EMULATOR_KEY]
    context = _auth_context(request.headers.get("x-auth-context"))
    if context is None or context.get("api_code") != emu.api_code:
        return json_error(403, "Unauthorized")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return json_error(403, "auth error")
    try:
        claims = _jwt.verify(token, emu.secret, now=emu.state.clock.now())
    except _jwt.InvalidTokenError:
        return json_error(403, "auth error")
    if claims.get("typ") != "access":
        return json_error(403, "auth error")
    if context.get("api_access") is not True:
        return json_error(403, "Unauthorized")
    account = emu.state.accounts.get(str(claims.get("account_id")))
    if account is None:
        return json_error(403, "auth error")
    api_key = request.headers.get("x-api-key")
    if api_key is not None and api_key != account.api_key:
        return json_error(403, "Unauthorized")
    if not request.headers.get("x-ip"):
        return json_error(400, "Missing x-ip header")
    if request.content_type not in ("application/json", "multipart/form-data"):
        return json_error(400, "Content-Type must be application/json")
    request[ACCOUNT] = account
    return await handler(request)


@web.middleware
async def http_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HTTPError as exc:
        return json_error(exc.status, exc.message, exc.headers)


def _auth_context(raw: str | None) -> dict[str, object] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def build_app(emulator: Emulator) -> web.Application:
    app = web.Application(
        middlewares=[count_and_parse, faults_and_latency, authenticate, http_errors],
        client_max_size=1024**3,
    )
    app[EMULATOR_KEY] = emulator
    for area in AREAS:
        app.add_routes(area.routes)
    return app
