"""Message export: publish results, pre-signed URLs and exported records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import attrs

from .._secrets import redact_urls

NO_EXTRA: Mapping[str, str] = MappingProxyType({})


class MessageRecord(NamedTuple):
    """One exported message.

    `row` is 0-based within its file; `extra` holds any further CSV columns by header name.
    A NamedTuple, not an attrs class: exports build millions of these and a tuple is the
    cheapest immutable record Python has.
    """

    customer_id: str
    message: str
    file_num: int
    row: int
    extra: Mapping[str, str] = NO_EXTRA


@attrs.frozen
class PublishResult:
    """What `POST /v1/messages/publish` answers; the export itself runs asynchronously."""

    message: str
    key: str | None = None


@attrs.frozen(repr=False)
class PresignedUrl:
    """A time-limited link to one exported CSV file. The repr hides the signature."""

    url: str
    expires_at: dt.datetime | None = None

    def __repr__(self) -> str:
        return f"PresignedUrl(url={redact_urls(self.url)!r}, expires_at={self.expires_at!r})"

    def __str__(self) -> str:
        return redact_urls(self.url)
