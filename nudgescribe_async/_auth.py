"""Tokens: authenticate, re-authenticate, expiry, and one refresh at a time.

Rules of this file:
1. However many requests wait on an expired token, exactly ONE refresh call goes out: the
   others wait on the same lock and then find the fresh token (compare-and-swap on the token
   they saw).
2. A token is refreshed ahead of its expiry (`skew`), and once, reactively, when the server
   says `403 auth error`.
3. Re-authenticate (GET /v1/auth) first; if that fails, authenticate from credentials once.
4. Expiry comes from `expires_in`, else the JWT's `exp`, else 14 days (CONTRACT §2).
5. No token, password or key ever reaches a repr, a log line or an exception message.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import attrs

from ._convert import pick
from ._errors import APIError, AuthenticationError
from ._secrets import SecretStr
from ._wire import ACCESS_TOKEN_KEYS, EXPIRES_IN_KEYS, REFRESH_TOKEN_KEYS

log = logging.getLogger("nudgescribe_async")

ACCESS_DEFAULT_LIFETIME = 14 * 24 * 3600.0
REFRESH_DEFAULT_LIFETIME = 15 * 24 * 3600.0


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (we only read `exp`); {} when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_expiry(token: str, *, expires_in: Any, now: float, default: float) -> float:
    """When `token` expires, in the `now` clock: expires_in, else the JWT's exp, else default."""
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
        return now + float(expires_in)
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        return now + (float(exp) - time.time())
    return now + default


@attrs.define(repr=False)
class TokenSet:
    """An access token, its expiry, and the refresh token. Its repr hides the tokens."""

    access_token: str
    access_expires_at: float
    refresh_token: str | None = None
    refresh_expires_at: float | None = None

    def __repr__(self) -> str:
        return f"TokenSet(access_token='***', access_expires_at={self.access_expires_at:.0f})"

    @classmethod
    def from_response(
        cls, data: Mapping[str, Any], *, now: float, previous_refresh: str | None = None
    ) -> TokenSet:
        access = pick(data, ACCESS_TOKEN_KEYS)
        if not isinstance(access, str) or not access:
            raise ValueError("the response holds no access token")
        access = SecretStr(access)
        refresh = pick(data, REFRESH_TOKEN_KEYS)
        refresh = SecretStr(refresh) if isinstance(refresh, str) and refresh else previous_refresh
        expires = token_expiry(
            access, expires_in=pick(data, EXPIRES_IN_KEYS), now=now, default=ACCESS_DEFAULT_LIFETIME
        )
        refresh_expires = (
            token_expiry(refresh, expires_in=None, now=now, default=REFRESH_DEFAULT_LIFETIME)
            if refresh
            else None
        )
        return cls(access, expires, refresh, refresh_expires)


Authenticate = Callable[[], Awaitable[TokenSet]]
Reauthenticate = Callable[[str], Awaitable[TokenSet]]


class TokenManager:
    """Hands out a valid access token, refreshing it once however many callers wait."""

    def __init__(
        self,
        *,
        authenticate: Authenticate | None,
        reauthenticate: Reauthenticate,
        tokens: TokenSet | None = None,
        skew: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._authenticate = authenticate
        self._reauthenticate = reauthenticate
        self._tokens = tokens
        self._skew = skew
        self._clock = clock
        self._lock = anyio.Lock()
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"<TokenManager has_token={self._tokens is not None}>"

    def _fresh(self, tokens: TokenSet | None) -> bool:
        if tokens is None:
            return False
        lifetime_left = tokens.access_expires_at - self._clock()
        return lifetime_left > self._skew

    async def token(self, *, endpoint: str = "/v1/auth") -> str:
        """A valid access token; refreshes ahead of expiry."""
        tokens = self._tokens
        if tokens is not None and self._fresh(tokens):
            return tokens.access_token
        return await self.refresh(tokens.access_token if tokens else None, endpoint=endpoint)

    async def refresh(self, stale: str | None, *, endpoint: str = "/v1/auth") -> str:
        """Replace the token `stale` (the one a caller saw fail). One refresh at a time.

        `endpoint` is the call that needed the token, named in the error when none can be had.
        """
        async with self._lock:
            current = self._tokens
            if current is not None and current.access_token != stale and self._fresh(current):
                return current.access_token
            self._tokens = await self._obtain(current, endpoint)
            self.refreshes += 1
            return self._tokens.access_token

    async def _obtain(self, current: TokenSet | None, endpoint: str) -> TokenSet:
        refresh = current.refresh_token if current else None
        refresh_alive = (
            refresh is not None
            and current is not None
            and (current.refresh_expires_at is None or current.refresh_expires_at > self._clock())
        )
        if refresh_alive and refresh is not None:
            try:
                return await self._reauthenticate(refresh)
            except APIError as exc:
                if self._authenticate is None:
                    raise
                log.debug("re-authenticate failed (%s); authenticating again", type(exc).__name__)
        if self._authenticate is None:
            raise AuthenticationError(
                403,
                "auth error: the access token has expired or was rejected, and no credentials "
                "were given to get a new one (pass email and password, or a refresh token)",
                endpoint=endpoint,
            )
        return await self._authenticate()
