"""The one cattrs Converter, and lenient helpers for the shapes the docs leave open.

Rules of this file:
1. Models are plain attrs data; (un)structuring happens here, at the edge, with our own
   `Converter` (never cattrs' global one).
2. Unknown keys are ignored, so a new server field never breaks an old client.
3. Anything that does not fit raises `ResponseDecodeError` naming the endpoint, with cattrs'
   `transform_error` lines (`required field missing @ $.x`), never a bare KeyError/TypeError.
4. Unknown enum values are kept as plain strings.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, get_args

import cattrs
from cattrs.errors import BaseValidationError

from ._errors import ResponseDecodeError

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False)


def parse_datetime(value: Any) -> dt.datetime:
    """ISO-8601 to an aware datetime (UTC when the text carries no offset)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, dt.timezone.utc)
    else:
        raise TypeError(f"expected an ISO-8601 timestamp, got {type(value).__name__}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        return dt.date.fromisoformat(text[:10]) if len(text) > 10 else dt.date.fromisoformat(text)
    raise TypeError(f"expected a date, got {type(value).__name__}")


def _strict_str(value: Any, _: Any = None) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _strict_int(value: Any, _: Any = None) -> int:
    if isinstance(value, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _strict_bool(value: Any, _: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def _strict_float(value: Any, _: Any = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


converter.register_structure_hook(dt.datetime, lambda v, _: parse_datetime(v))
converter.register_structure_hook(dt.date, lambda v, _: parse_date(v))
converter.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())
converter.register_unstructure_hook(dt.date, lambda v: v.isoformat())
converter.register_structure_hook(str, _strict_str)
converter.register_structure_hook(int, _strict_int)
converter.register_structure_hook(bool, _strict_bool)
converter.register_structure_hook(float, _strict_float)


def _open_enum_of(tp: Any) -> type[enum.Enum] | None:
    """The enum of `SomeEnum | str` (optionally `| None`): unknown values stay strings."""
    args = [a for a in get_args(tp) if a is not type(None)]
    enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
    if len(args) == 2 and str in args and len(enums) == 1:
        return enums[0]
    return None


def _is_open_enum_union(tp: Any) -> bool:
    return _open_enum_of(tp) is not None


def _structure_open_enum(value: Any, tp: Any) -> Any:
    if value is None and type(None) in get_args(tp):
        return None
    enum_cls = _open_enum_of(tp)
    assert enum_cls is not None
    text = _strict_str(value)
    try:
        return enum_cls(text)
    except ValueError:
        return text


converter.register_structure_hook_func(_is_open_enum_union, _structure_open_enum)


def pick(data: Mapping[str, Any], keys: Sequence[str], default: Any = None) -> Any:
    """The value under the first of `keys` present in `data`."""
    for key in keys:
        if key in data:
            return data[key]
    return default


def bare_or_under(data: Any, keys: Sequence[str]) -> Any:
    """A value sent bare (`"text"`) or wrapped (`{"data": "text"}`); None for anything else."""
    if isinstance(data, Mapping):
        return pick(data, keys)
    return data if isinstance(data, str) else None


def structure(data: Any, cls: type[T], *, endpoint: str) -> T:
    """Structure `data` into `cls`, turning every failure into `ResponseDecodeError`."""
    try:
        return converter.structure(data, cls)
    except BaseValidationError as exc:
        lines = "; ".join(cattrs.transform_error(exc, path="$"))
        raise ResponseDecodeError(f"unexpected response shape: {lines}", endpoint=endpoint) from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ResponseDecodeError(f"unexpected response shape: {exc}", endpoint=endpoint) from exc


def structure_list(data: Any, cls: type[T], *, endpoint: str) -> list[T]:
    if not isinstance(data, list):
        raise ResponseDecodeError(f"expected a list, got {type(data).__name__}", endpoint=endpoint)
    return [structure(item, cls, endpoint=endpoint) for item in data]


def unwrap_list(
    data: Any, keys: Sequence[str], *, endpoint: str, allow_single: bool = False
) -> list[Any]:
    """A list response that may come bare, wrapped under one of `keys`, or as one object."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        inner = pick(data, keys)
        if isinstance(inner, list):
            return inner
        if allow_single and inner is None:
            return [data]
    raise ResponseDecodeError(
        f"expected a list{' or an object' if allow_single else ''}, got {type(data).__name__}",
        endpoint=endpoint,
    )


def expect_mapping(data: Any, *, endpoint: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ResponseDecodeError(
            f"expected a JSON object, got {type(data).__name__}", endpoint=endpoint
        )
    return data


def int_field(data: Any, keys: Sequence[str], *, endpoint: str, allow_bare: bool = True) -> int:
    """An integer that may come bare or under one of several names."""
    value = data if allow_bare and not isinstance(data, Mapping) else None
    if isinstance(data, Mapping):
        value = pick(data, keys)
    try:
        result = _strict_int(value)
    except TypeError as exc:
        raise ResponseDecodeError(
            f"expected an integer under one of {', '.join(keys)}", endpoint=endpoint
        ) from exc
    if result < 0:
        raise ResponseDecodeError(f"expected a non-negative count, got {result}", endpoint=endpoint)
    return result
