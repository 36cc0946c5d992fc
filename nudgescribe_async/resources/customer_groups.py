"""`client.customer_groups`: create, list, update and delete customer groups."""

from __future__ import annotations

from typing import Any

from .._convert import unwrap_list
from .._wire import (
    CUSTOMER_GROUP_ID,
    CUSTOMER_GROUPS_LIST_KEYS,
    GROUP_DESCRIPTION,
    GROUP_KEYS,
    GROUP_NAME,
    WORKSPACE_ID,
)
from ..models.customer_groups import CustomerGroup
from ._args import UNSET, Unset, structure_one, text
from ._base import Resource

PATH = "/v1/cg"


class CustomerGroups(Resource):
    async def create(
        self, name: str, *, description: str | None = None, workspace_id: str | None = None
    ) -> CustomerGroup:
        """A new group, in `workspace_id` (default: the account's default workspace)."""
        body: dict[str, Any] = {GROUP_NAME: text(name, "name")}
        if description is not None:
            body[GROUP_DESCRIPTION] = _description(description)
        if workspace_id is not None:
            body[WORKSPACE_ID] = text(workspace_id, "workspace_id")
        return group_from(await self._write("PUT", PATH, body))

    async def list(self, *, workspace_id: str | None = None) -> list[CustomerGroup]:
        """Every group of the account, or of one workspace (the API does not page them)."""
        body = {} if workspace_id is None else {WORKSPACE_ID: text(workspace_id, "workspace_id")}
        data = await self._read(PATH, body)
        return [
            group_from(item) for item in unwrap_list(data, CUSTOMER_GROUPS_LIST_KEYS, endpoint=PATH)
        ]

    async def update(
        self,
        customer_group_id: str,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
    ) -> CustomerGroup:
        """Rename or redescribe a group; what is not passed is left as it is.

        `description=None` clears the description. The group keeps its customers.
        """
        changes: dict[str, Any] = {}
        if name is not UNSET:
            changes[GROUP_NAME] = text(name, "name")
        if description is not UNSET:
            changes[GROUP_DESCRIPTION] = _description(description)
        if not changes:
            raise ValueError("nothing to update: pass name= and/or description=")
        body = {CUSTOMER_GROUP_ID: text(customer_group_id, "customer_group_id"), **changes}
        return group_from(await self._write("PATCH", PATH, body))

    async def delete(self, customer_group_id: str) -> None:
        """Delete a group and its customers, permanently."""
        body = {CUSTOMER_GROUP_ID: text(customer_group_id, "customer_group_id")}
        await self._write("DELETE", PATH, body)


def _description(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"description must be a str or None, got {type(value).__name__}")


def group_from(data: Any) -> CustomerGroup:
    return structure_one(data, GROUP_KEYS, CustomerGroup, endpoint=PATH)
