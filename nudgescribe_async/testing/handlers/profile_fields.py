"""Custom profile fields: PUT (create) | POST (list) | PATCH (update) | DELETE /v1/cpf.

Fields belong to a workspace of one account; field names are unique in a workspace. A
rename moves the stored values with it; a delete removes them from every customer.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from .._content import CUSTOMER_ID, fields_in, move_values, options_error, spec_error
from .._http import HTTPError, account, body, state
from .._state import ProfileField
from .customer_groups import workspace_of
from .customers import settled

routes = web.RouteTableDef()

PATH = "/v1/cpf"


def field_json(spec: ProfileField) -> dict[str, Any]:
    return {
        "field_id": spec.field_id,
        "field_name": spec.field_name,
        "field_type": spec.field_type,
        "field_format": spec.field_format,
        "required": spec.required,
        "options": spec.options,
        "workspace_id": spec.workspace_id,
    }


def _find(request: web.Request, field_id: Any) -> ProfileField:
    found = settled(request).profile_field(account(request).account_id, field_id)
    if found is None:
        raise HTTPError(404, "Field not found")
    return found


def _check_name(request: web.Request, name: Any, account_id: str, workspace_id: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise HTTPError(400, "field_name must be a non-empty string")
    if name == CUSTOMER_ID:
        raise HTTPError(400, f"{CUSTOMER_ID} is reserved")
    if any(f.field_name == name for f in fields_in(state(request), account_id, workspace_id)):
        raise HTTPError(400, f"A field named {name!r} already exists")
    return name


@routes.put(PATH)
async def create(request: web.Request) -> web.Response:
    data = body(request, "field_name", "field_type")
    fmt, required, options = data.get("field_format"), data.get("required"), data.get("options")
    problem = spec_error(data["field_type"], fmt, required, options)
    if problem is not None:
        raise HTTPError(400, problem)
    workspace = workspace_of(request, data, default=True)
    assert workspace is not None
    owner = account(request).account_id
    spec = ProfileField(
        field_id=str(uuid.uuid4()),
        account_id=owner,
        workspace_id=workspace.workspace_id,
        field_name=_check_name(request, data["field_name"], owner, workspace.workspace_id),
        field_type=data["field_type"],
        field_format=fmt,
        required=bool(required),
        options=options,
    )
    state(request).fields[spec.field_id] = spec
    return web.json_response(field_json(spec))


@routes.post(PATH)
async def list_fields(request: web.Request) -> web.Response:
    workspace = workspace_of(request, body(request), default=False)
    owner = account(request).account_id
    fields = [
        field_json(f)
        for f in state(request).fields.values()
        if f.account_id == owner and (workspace is None or f.workspace_id == workspace.workspace_id)
    ]
    return web.json_response({"fields": fields})


@routes.patch(PATH)
async def update(request: web.Request) -> web.Response:
    data = body(request, "field_id")
    spec = _find(request, data["field_id"])
    if not {"field_name", "required", "options"} & data.keys():
        raise HTTPError(401, "Missing required fields")
    if "required" in data and not isinstance(data["required"], bool):
        raise HTTPError(400, "required must be a boolean")
    if "options" in data and options_error(data["options"]):
        raise HTTPError(400, "options must be a list of strings")
    if "field_name" in data and data["field_name"] != spec.field_name:
        new_name = _check_name(request, data["field_name"], spec.account_id, spec.workspace_id)
        move_values(state(request), spec, new_name)
        spec.field_name = new_name
    spec.required = data.get("required", spec.required)
    spec.options = data.get("options", spec.options)
    return web.json_response(field_json(spec))


@routes.delete(PATH)
async def delete(request: web.Request) -> web.Response:
    spec = _find(request, body(request, "field_id")["field_id"])
    move_values(state(request), spec, None)
    del state(request).fields[spec.field_id]
    return web.json_response({"message": "Field deleted successfully"})
