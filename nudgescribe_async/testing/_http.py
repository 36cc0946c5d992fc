"""Small helpers the emulator's handlers share: keys, JSON errors, body checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._state import Account, State

EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("emulator")


def _request_key(name: str) -> Any:
    """A typed request key where aiohttp has them (3.13+: string keys warn), else the name."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, object) if factory is not None else name


ACCOUNT: Any = _request_key("nudgescribe.account")
BODY: Any = _request_key("nudgescribe.body")
TRUNCATE: Any = _request_key("nudgescribe.truncate")


class HTTPError(Exception):
    """Raised by a handler to answer `{"message": ...}` with a status."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"message": message}, status=status, headers=headers)


def emulator(request: web.Request) -> Emulator:
    return request.app[EMULATOR_KEY]


def state(request: web.Request) -> State:
    return request.app[EMULATOR_KEY].state


def account(request: web.Request) -> Account:
    found: Account = request[ACCOUNT]
    return found


def body(request: web.Request, *required: str) -> dict[str, Any]:
    """The parsed JSON body; 401 `Missing required fields` when one of `required` is absent."""
    data = request.get(BODY)
    if not isinstance(data, dict):
        raise HTTPError(400, "Request body must be a JSON object")
    if any(data.get(name) in (None, "") for name in required):
        raise HTTPError(401, "Missing required fields")
    return data


def int_arg(data: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise HTTPError(401, "Missing required fields")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise HTTPError(400, f"{name} must be an integer")
    return value
