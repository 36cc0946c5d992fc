"""Customer groups: PUT (create) | POST (list) | PATCH (update) | DELETE /v1/cg.

Groups belong to a workspace of one account; another account's group answers 404
`Customer group not found`, and another account's workspace 401 `Invalid Workspace`.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from .._http import HTTPError, account, body, state
from .._state import CustomerGroup, Workspace, iso
from .customers import find_group, settled

routes = web.RouteTableDef()

PATH = "/v1/cg"


def group_json(group: CustomerGroup) -> dict[str, Any]:
    return {
        "customer_group_id": group.customer_group_id,
        "name": group.name,
        "description": group.description,
        "customer_count": len(group.customers),
        "created_at": iso(group.created_at),
        "workspace_id": group.workspace_id,
    }


def workspace_of(request: web.Request, data: dict[str, Any], *, default: bool) -> Workspace | None:
    """The body's `workspace_id` (401 `Invalid Workspace` if not the caller's), else the
    account's default workspace when `default`, else None."""
    owner = account(request).account_id
    if data.get("workspace_id") is None:
        return state(request).default_workspace(owner) if default else None
    found = state(request).workspace(owner, data["workspace_id"])
    if found is None:
        raise HTTPError(401, "Invalid Workspace")
    return found


def _text(data: dict[str, Any], name: str, *, nullable: bool) -> None:
    value = data.get(name)
    if (value is None and not nullable) or (value is not None and not isinstance(value, str)):
        raise HTTPError(400, f"{name} must be a string")


@routes.put(PATH)
async def create(request: web.Request) -> web.Response:
    data = body(request, "name")
    _text(data, "name", nullable=False)
    _text(data, "description", nullable=True)
    workspace = workspace_of(request, data, default=True)
    assert workspace is not None
    group = CustomerGroup(
        customer_group_id=str(uuid.uuid4()),
        account_id=account(request).account_id,
        workspace_id=workspace.workspace_id,
        name=data["name"],
        description=data.get("description"),
        created_at=state(request).clock.now(),
    )
    state(request).groups[group.customer_group_id] = group
    return web.json_response(group_json(group))


@routes.post(PATH)
async def list_groups(request: web.Request) -> web.Response:
    data = body(request)
    workspace = workspace_of(request, data, default=False)
    owner = account(request).account_id
    groups = [
        group_json(g)
        for g in settled(request).groups.values()
        if g.account_id == owner and (workspace is None or g.workspace_id == workspace.workspace_id)
    ]
    return web.json_response({"customer_groups": groups})


@routes.patch(PATH)
async def update(request: web.Request) -> web.Response:
    data = body(request, "customer_group_id")
    group = find_group(request, data["customer_group_id"])
    if "name" not in data and "description" not in data:
        raise HTTPError(401, "Missing required fields")
    if "name" in data:
        _text(data, "name", nullable=False)
        group.name = data["name"]
    if "description" in data:
        _text(data, "description", nullable=True)
        group.description = data["description"]
    return web.json_response(group_json(group))


@routes.delete(PATH)
async def delete(request: web.Request) -> web.Response:
    data = body(request, "customer_group_id")
    group = find_group(request, data["customer_group_id"])
    st = state(request)
    del st.groups[group.customer_group_id]
    st.imports = [job for job in st.imports if job.customer_group_id != group.customer_group_id]
    return web.json_response({"message": "Customer group deleted successfully"})
