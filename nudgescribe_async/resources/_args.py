"""Argument checks and response unwrapping shared by the resources.

Rules of this file:
1. Misuse raises builtins (`TypeError` for a wrong type, `ValueError` for a wrong value)
   before anything is sent, with the argument's name in the message.
2. `UNSET` marks an update argument that was not passed: it is left out of the body, which
   is not the same as sending null.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from .._convert import expect_mapping, pick, structure

T = TypeVar("T")


class Unset(enum.Enum):
    """The type of `UNSET`."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET


def text(value: object, name: str) -> str:
    """A non-empty string argument (an id or a name)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def positive_seconds(value: object, name: str) -> float:
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return float(value)


def id_list(values: object, name: str) -> list[str]:
    """A non-empty list of non-empty string ids (a lone string is refused)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list of ids, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{name} must not be empty")
    return [text(value, f"{name}[{i}]") for i, value in enumerate(values)]


def mapping_list(values: object, name: str) -> list[dict[str, Any]]:
    """A non-empty list of mappings with string keys, copied to plain dicts."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list of mappings, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{name} must not be empty")
    rows = []
    for i, row in enumerate(values):
        if not isinstance(row, Mapping):
            raise TypeError(f"{name}[{i}] must be a mapping, got {type(row).__name__}")
        if not all(isinstance(key, str) for key in row):
            raise TypeError(f"{name}[{i}] has a key that is not a str")
        rows.append(dict(row))
    return rows


def structure_one(data: Any, keys: Sequence[str], cls: type[T], *, endpoint: str) -> T:
    """One object that may come bare or wrapped under one of `keys`; nulls count as absent."""
    obj = expect_mapping(data, endpoint=endpoint)
    inner = pick(obj, keys)
    if isinstance(inner, Mapping):
        obj = inner
    return structure(without_nulls(obj), cls, endpoint=endpoint)


def without_nulls(data: Any) -> Any:
    """A mapping without its null values (so a null takes the model's default)."""
    if isinstance(data, Mapping):
        return {key: value for key, value in data.items() if value is not None}
    return data
