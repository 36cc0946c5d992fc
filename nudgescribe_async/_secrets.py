"""Values that must never show: their repr hides them, their value works as usual.

Rules of this file:
1. Secrets (password, API key, API code, tokens, signed URLs, bodies and headers that carry
   them) are wrapped the moment they enter the SDK, so a repr, a log line or a traceback
   printed with its locals (`traceback.TracebackException(..., capture_locals=True)`) shows
   `'***'` instead.
2. The wrappers subclass `str`/`bytes`/`dict`, so aiohttp and json use them unchanged; only
   `repr` differs. Anything derived from them (slices, f-strings) is a plain value again and
   must stay inside the function that builds the wire payload.
"""

from __future__ import annotations

import re
from typing import Any

_URL_QUERY = re.compile(r"(https?://[^\s?#'\"]+)\?[^\s'\"]*")


def redact_urls(text: str) -> str:
    """Drop the query string of every URL in `text` (it may hold a signature or a token)."""
    return _URL_QUERY.sub(r"\1?<redacted>", text)


SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-auth-context"})


class SecretStr(str):
    """A string whose repr is `'***'`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


class RedactedUrl(str):
    """A URL whose repr drops its query string (where pre-signed URLs keep the signature)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_urls(str.__str__(self)))


class RedactedBytes(bytes):
    """A request or response body that may hold secrets: its repr shows only its size."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


class RedactedHeaders(dict[str, str]):
    """Request headers whose repr hides the credential-bearing ones."""

    def __repr__(self) -> str:
        shown = {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in self.items()}
        return repr(shown)


class RedactedDict(dict[str, Any]):
    """A decoded response that carries tokens: its repr lists only its keys."""

    def __repr__(self) -> str:
        return f"<response with keys {sorted(self)}>"


def secret(value: str | None) -> SecretStr | None:
    return None if value is None else SecretStr(value)
