"""The emulator's content rules: field specs, row checks, streaming CSV, queued imports.

Rules of this file:
1. Plain functions over the state's data; the handlers in `handlers/` do the HTTP.
2. Rows are checked against the profile fields of the group's workspace: type, format,
   options and required fields. A CSV's values are text, so a number may come as "12.5".
3. Choices the contract leaves open, made here: rows are numbered from 1 (a CSV header is not
   a row); `char` is one character; a `currency` value is an amount in the field's currency;
   columns that name no field are stored as they are; `customer_id` picks the customer to
   update, and a row without one creates a customer.
4. A CSV upload is decoded and parsed as its chunks arrive, cut only at a newline outside
   quotes; it is never gathered into one bytes object.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ..models.profile_fields import CURRENCY_CODES, DATE_FORMATS
from ._state import Customer, CustomerGroup, PendingImport, ProfileField, State

FIELD_TYPES = ("string", "number", "char", "Date", "currency")
CUSTOMER_ID = "customer_id"
RowError = dict[str, Any]

_TOKENS = {"yyyy": "%Y", "yy": "%y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "dd": "%d"}
_TOKEN = re.compile("|".join(sorted(_TOKENS, key=len, reverse=True)))


def strptime_format(date_format: str) -> str:
    """`dd MMM yyyy` (the documented spelling) as `%d %b %Y`."""
    return _TOKEN.sub(lambda m: _TOKENS[m.group()], date_format)


# -- field specs -----------------------------------------------------------------------------


def spec_error(field_type: Any, field_format: Any, required: Any, options: Any) -> str | None:
    """Why a field definition is refused (answered with 400), or None."""
    if field_type not in FIELD_TYPES:
        return f"field_type must be one of {', '.join(FIELD_TYPES)}"
    if field_type == "Date" and field_format not in DATE_FORMATS:
        return "A Date field needs a supported date format"
    if field_type == "currency" and field_format not in CURRENCY_CODES:
        return "A currency field needs an ISO-4217 currency code"
    if field_type not in ("Date", "currency") and field_format is not None:
        return f"A {field_type} field takes no field_format"
    if required is not None and not isinstance(required, bool):
        return "required must be a boolean"
    return options_error(options)


def options_error(options: Any) -> str | None:
    if options is None or (
        isinstance(options, list) and all(isinstance(o, str) and o for o in options)
    ):
        return None
    return "options must be a list of strings"


# -- row checks ------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    return False


def _is_date(value: Any, date_format: str | None) -> bool:
    if not isinstance(value, str) or date_format is None:
        return False
    try:
        dt.datetime.strptime(value.strip(), strptime_format(date_format))
    except ValueError:
        return False
    return True


def value_error(spec: ProfileField, value: Any) -> str | None:
    """Why `value` does not fit the field, or None."""
    kind, fmt = spec.field_type, spec.field_format
    if kind == "string" and not isinstance(value, str):
        return "expected text"
    if kind == "number" and not _is_number(value):
        return "expected a number"
    if kind == "currency" and not _is_number(value):
        return f"expected an amount in {fmt}"
    if kind == "char" and not (isinstance(value, str) and len(value) == 1):
        return "expected a single character"
    if kind == "Date" and not _is_date(value, fmt):
        return f"expected a date in the format {fmt}"
    if spec.options and str(value) not in spec.options:
        return f"expected one of {', '.join(spec.options)}"
    return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def row_errors(
    number: int, row: Mapping[str, Any], fields: Iterable[ProfileField], *, partial: bool = False
) -> list[RowError]:
    """Every problem of one row; `partial` (an update) does not ask for required fields."""
    errors: list[RowError] = []
    customer_id = row.get(CUSTOMER_ID)
    if customer_id is not None and not isinstance(customer_id, str):
        errors.append(_error(number, CUSTOMER_ID, "expected a string id"))
    for spec in fields:
        value = row.get(spec.field_name)
        if _missing(value):
            if spec.required and not (partial and spec.field_name not in row):
                errors.append(_error(number, spec.field_name, "required field is missing"))
            continue
        problem = value_error(spec, value)
        if problem is not None:
            errors.append(_error(number, spec.field_name, problem))
    return errors


def _error(row: int, field: str | None, message: str) -> RowError:
    return {"row": row, "field": field, "message": message}


# -- streaming CSV ---------------------------------------------------------------------------


def safe_cut(text: str) -> int:
    """The end of the last complete CSV line in `text` (after a newline outside quotes)."""
    end = len(text)
    while (newline := text.rfind("\n", 0, end)) != -1:
        if text.count('"', 0, newline) % 2 == 0:
            return newline + 1
        end = newline
    return 0


class CsvRows:
    """Turns CSV chunks into rows (dicts keyed by the header) as they arrive.

    `rows` holds one entry per data row, None for a row with the wrong number of columns
    (reported in `errors`).
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._pending = ""
        self.header: list[str] | None = None
        self.rows: list[dict[str, str] | None] = []
        self.errors: list[RowError] = []

    def feed(self, chunk: bytes) -> None:
        text = self._pending + self._decoder.decode(chunk)
        cut = safe_cut(text)
        self._pending = text[cut:]
        self._take(text[:cut])

    def close(self) -> None:
        self._take(self._pending + self._decoder.decode(b"", final=True))
        self._pending = ""

    def _take(self, text: str) -> None:
        for record in csv.reader(io.StringIO(text, newline="")):
            if not record:
                continue
            if self.header is None:
                self.header = [name.strip() for name in record]
                continue
            self.rows.append(
                dict(zip(self.header, record, strict=True)) if self._fits(record) else None
            )

    def _fits(self, record: list[str]) -> bool:
        assert self.header is not None
        if len(record) == len(self.header):
            return True
        message = f"expected {len(self.header)} columns, got {len(record)}"
        self.errors.append(_error(len(self.rows) + 1, None, message))
        return False


# -- writing ---------------------------------------------------------------------------------


def upsert(group: CustomerGroup, rows: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """Write checked rows to `group`; (created, updated)."""
    created = updated = 0
    for row in rows:
        profile = {k: v for k, v in row.items() if k != CUSTOMER_ID and not _missing(v)}
        customer_id = row.get(CUSTOMER_ID) or None
        existing = group.customers.get(customer_id) if customer_id else None
        if existing is not None:
            existing.profile.update(profile)
            updated += 1
            continue
        customer_id = customer_id or str(uuid.uuid4())
        segment = str(profile.get("segment") or "General")
        group.customers[customer_id] = Customer(customer_id, profile, segment)
        created += 1
    return created, updated


def settle_imports(state: State) -> None:
    """Write every queued import whose time has come."""
    now = state.clock.now()
    due = [job for job in state.imports if job.ready_at <= now]
    for job in due:
        state.imports.remove(job)
        group = state.groups.get(job.customer_group_id)
        if group is not None:
            upsert(group, job.rows)


def queue_import(
    state: State, group: CustomerGroup, rows: list[dict[str, Any]], delay: float
) -> str:
    job = PendingImport(str(uuid.uuid4()), group.customer_group_id, rows, state.clock.now() + delay)
    state.imports.append(job)
    return job.job_uid


def groups_in(state: State, account_id: str, workspace_id: str) -> list[CustomerGroup]:
    return [
        g
        for g in state.groups.values()
        if g.account_id == account_id and g.workspace_id == workspace_id
    ]


def fields_in(state: State, account_id: str, workspace_id: str) -> list[ProfileField]:
    return [
        f
        for f in state.fields.values()
        if f.account_id == account_id and f.workspace_id == workspace_id
    ]


def move_values(state: State, spec: ProfileField, new_name: str | None) -> None:
    """Rename (or, with None, delete) a field's stored values in its workspace's customers."""
    groups = groups_in(state, spec.account_id, spec.workspace_id)
    ids = {g.customer_group_id for g in groups}
    profiles: list[dict[str, Any]] = [c.profile for g in groups for c in g.customers.values()]
    profiles += [row for job in state.imports if job.customer_group_id in ids for row in job.rows]
    for profile in profiles:
        if spec.field_name in profile:
            value = profile.pop(spec.field_name)
            if new_name is not None:
                profile[new_name] = value
