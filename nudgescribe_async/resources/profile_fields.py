"""`client.profile_fields`: the custom profile fields customers are checked against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._convert import unwrap_list
from .._wire import (
    FIELD_FORMAT,
    FIELD_ID,
    FIELD_KEYS,
    FIELD_NAME,
    FIELD_OPTIONS,
    FIELD_REQUIRED,
    FIELD_TYPE,
    PROFILE_FIELDS_LIST_KEYS,
    WORKSPACE_ID,
)
from ..models.profile_fields import FieldType, ProfileField, check_field_format
from ._args import UNSET, Unset, flag, structure_one, text
from ._base import Resource

PATH = "/v1/cpf"


class ProfileFields(Resource):
    async def create(
        self,
        field_name: str,
        field_type: FieldType | str,
        *,
        field_format: str | None = None,
        required: bool = False,
        options: Sequence[str] | None = None,
        workspace_id: str | None = None,
    ) -> ProfileField:
        """A new field. `Date` needs a `field_format` from `DATE_FORMATS`, `currency` an
        ISO-4217 code; other types take none (`ValueError` before sending otherwise).

        `options`, when given, are the only values the field accepts.
        """
        kind = check_field_format(field_type, field_format)
        body: dict[str, Any] = {FIELD_NAME: text(field_name, "field_name"), FIELD_TYPE: kind.value}
        if field_format is not None:
            body[FIELD_FORMAT] = field_format
        body[FIELD_REQUIRED] = flag(required, "required")
        if options is not None:
            body[FIELD_OPTIONS] = _options(options)
        if workspace_id is not None:
            body[WORKSPACE_ID] = text(workspace_id, "workspace_id")
        return field_from(await self._write("PUT", PATH, body))

    async def list(self, *, workspace_id: str | None = None) -> list[ProfileField]:
        """The fields of the account, or of one workspace.

        An unknown workspace raises `InvalidWorkspaceError` (a `BadRequestError`).
        """
        body = {} if workspace_id is None else {WORKSPACE_ID: text(workspace_id, "workspace_id")}
        data = await self._read(PATH, body)
        return [
            field_from(item) for item in unwrap_list(data, PROFILE_FIELDS_LIST_KEYS, endpoint=PATH)
        ]

    async def update(
        self,
        field_id: str,
        *,
        field_name: str | Unset = UNSET,
        required: bool | Unset = UNSET,
        options: Sequence[str] | Unset | None = UNSET,
    ) -> ProfileField:
        """Rename a field, or change `required` or `options`; what is not passed is left as it
        is, and `options=None` removes the options. Stored values are kept (a rename moves
        them). The type and format cannot change: delete the field and create it again.
        """
        changes: dict[str, Any] = {}
        if field_name is not UNSET:
            changes[FIELD_NAME] = text(field_name, "field_name")
        if required is not UNSET:
            changes[FIELD_REQUIRED] = flag(required, "required")
        if options is not UNSET:
            changes[FIELD_OPTIONS] = None if options is None else _options(options)
        if not changes:
            raise ValueError("nothing to update: pass field_name=, required= and/or options=")
        body = {FIELD_ID: text(field_id, "field_id"), **changes}
        return field_from(await self._write("PATCH", PATH, body))

    async def delete(self, field_id: str) -> None:
        """Delete a field and every customer's stored value for it."""
        await self._write("DELETE", PATH, {FIELD_ID: text(field_id, "field_id")})


def _options(values: object) -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"options must be a list of str, got {type(values).__name__}")
    return [text(value, f"options[{i}]") for i, value in enumerate(values)]


def field_from(data: Any) -> ProfileField:
    return structure_one(data, FIELD_KEYS, ProfileField, endpoint=PATH)
