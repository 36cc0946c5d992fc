"""`Client`: owns the aiohttp session, the tokens and the retry policy; attaches resources.

The send path is a chain of small layers:
    request_json -> call_with_retries -> send_authed (token, one replay on 403 auth error)
                 -> _transport.send (one HTTP exchange, errors mapped)

Rules of this file:
1. The session is created lazily inside the running loop and closed only if we created it.
2. Every authenticated call carries the full header set of CONTRACT §1.
3. Streaming callers (the export engine) use `send_authed` directly and retry per file.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import aiohttp

from . import _config as cfg
from ._auth import ACCESS_DEFAULT_LIFETIME, TokenManager, TokenSet, token_expiry
from ._errors import AuthenticationError, ResponseDecodeError, is_auth_expired
from ._retry import RetryPolicy, call_with_retries
from ._secrets import RedactedBytes, RedactedHeaders, SecretStr, secret
from ._transport import read_json, send
from ._wire import AUTH_EMAIL, AUTH_PASSWORD
from .resources.campaigns import Campaigns
from .resources.customer_groups import CustomerGroups
from .resources.customers import Customers
from .resources.messages import Messages
from .resources.profile_fields import ProfileFields
from .resources.reruns import Reruns

log = logging.getLogger("nudgescribe_async")

AUTH_PATH = "/v1/auth"
BodyFactory = Callable[[], Any]


class Client:
    """An authenticated connection to the Nudgescribe API.

    ```python
    async with Client(email=..., password=..., api_key=..., api_code=...) as client:
        for campaign in await client.campaigns.list():
            ...
    ```

    Every option not passed is read from `NUDGESCRIBE_BASE_URL`, `NUDGESCRIBE_EMAIL`,
    `NUDGESCRIBE_PASSWORD`, `NUDGESCRIBE_API_KEY`, `NUDGESCRIBE_API_CODE` and
    `NUDGESCRIBE_CLIENT_IP`. `timeout` is the seconds to wait for a connection or for the next
    bytes of a response (a JSON call as a whole gets `timeout` too). `max_connections` caps the
    pooled connections. Pass `session` to share your own `aiohttp.ClientSession` (the client
    then never closes it).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        email: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        api_code: str | None = None,
        client_ip: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_connections: int = 64,
        session: aiohttp.ClientSession | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        # Rebind secret arguments first, so even a traceback printed with its locals hides them.
        password, api_key, api_code = secret(password), secret(api_key), secret(api_code)
        access_token, refresh_token = secret(access_token), secret(refresh_token)
        url = cfg.from_env(base_url, cfg.ENV_BASE_URL) or cfg.PRODUCTION_URL
        self.base_url = cfg.check_base_url(url, allow_insecure_http=allow_insecure_http)
        self._credentials = cfg.Credentials(
            email=cfg.from_env(email, cfg.ENV_EMAIL),
            password=cfg.from_env(password, cfg.ENV_PASSWORD),
            api_key=cfg.from_env(api_key, cfg.ENV_API_KEY),
            api_code=cfg.from_env(api_code, cfg.ENV_API_CODE),
        )
        if not self._credentials.api_code:
            raise ValueError("api_code is required: pass api_code= or set NUDGESCRIBE_API_CODE")
        if not (self._credentials.can_authenticate or access_token or refresh_token):
            raise ValueError(
                "no way to authenticate: pass email and password (or set NUDGESCRIBE_EMAIL and "
                "NUDGESCRIBE_PASSWORD), or an access_token"
            )
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.client_ip = cfg.from_env(client_ip, cfg.ENV_CLIENT_IP) or cfg.DEFAULT_CLIENT_IP
        self.retry = retry if retry is not None else RetryPolicy()
        self.timeout = timeout
        self.allow_insecure_http = allow_insecure_http
        self._max_connections = max_connections
        self._session = session
        self._owns_session = session is None
        if session is not None and _verification_disabled(session):
            warnings.warn(
                "the aiohttp session passed to Client does not verify TLS certificates; "
                "tokens and passwords can be intercepted",
                InsecureTransportWarning,
                stacklevel=2,
            )
        self._closed = False
        self._auth = TokenManager(
            authenticate=self._authenticate if self._credentials.can_authenticate else None,
            reauthenticate=self._reauthenticate,
            tokens=_initial_tokens(access_token, refresh_token),
        )
        self._auth_context = SecretStr(
            json.dumps(
                {"api_access": True, "api_code": self._credentials.api_code},
                separators=(",", ":"),
            )
        )
        self.campaigns = Campaigns(self)
        self.messages = Messages(self)
        self.reruns = Reruns(self)
        self.customer_groups = CustomerGroups(self)
        self.profile_fields = ProfileFields(self)
        self.customers = Customers(self)

    def __repr__(self) -> str:
        credentials = getattr(self, "_credentials", None)
        email = credentials.email if credentials is not None else None
        return f"<Client base_url={getattr(self, 'base_url', None)!r} email={email!r}>"

    async def __aenter__(self) -> Client:
        self._ensure_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session (only if the client created it). Safe to call twice."""
        self._closed = True
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session in use (created on first use)."""
        return self._ensure_session()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this Client is closed; create a new one")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=self._max_connections
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self.timeout, sock_read=self.timeout
                ),
            )
            # aiohttp resends a PUT or DELETE once when the server drops the connection; this
            # API's PUT creates, so a replay could create twice. Retries are ours alone.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    # -- headers ---------------------------------------------------------------------------

    def _headers(self, bearer: str | None) -> RedactedHeaders:
        headers = RedactedHeaders(
            {
                "x-auth-context": self._auth_context,
                "x-ip": self.client_ip,
                "content-type": "application/json",
            }
        )
        if bearer is not None:
            headers["authorization"] = f"Bearer {bearer}"
        if self._credentials.api_key:
            headers["x-api-key"] = self._credentials.api_key
        return headers

    # -- auth ------------------------------------------------------------------------------

    async def _authenticate(self) -> TokenSet:
        body = {AUTH_EMAIL: self._credentials.email, AUTH_PASSWORD: self._credentials.password}
        data = await self._exchange("POST", AUTH_PATH, json_body=body, bearer=None)
        return self._tokens_from(data, previous_refresh=None)

    async def _reauthenticate(self, refresh_token: str) -> TokenSet:
        data = await self._exchange("GET", AUTH_PATH, json_body=None, bearer=refresh_token)
        return self._tokens_from(data, previous_refresh=refresh_token)

    def _tokens_from(self, data: Any, *, previous_refresh: str | None) -> TokenSet:
        if not isinstance(data, Mapping):
            raise ResponseDecodeError("expected a JSON object with tokens", endpoint=AUTH_PATH)
        try:
            return TokenSet.from_response(
                data, now=self._auth._clock(), previous_refresh=previous_refresh
            )
        except ValueError as exc:
            raise ResponseDecodeError(str(exc), endpoint=AUTH_PATH) from exc

    async def _exchange(self, method: str, path: str, *, json_body: Any, bearer: str | None) -> Any:
        async def attempt() -> Any:
            resp = await send(
                self._ensure_session(),
                method,
                self.base_url + path,
                endpoint=path,
                headers=self._headers(bearer),
                data=None if json_body is None else _dumps(json_body),
                timeout=self._json_timeout(),
            )
            return await read_json(resp, endpoint=path, secret=True)

        # GET /v1/auth is idempotent; POST /v1/auth only creates a token, so a retry after a
        # network error is harmless too.
        return await call_with_retries(self.retry, attempt, idempotent=True, what=path)

    def _json_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout, connect=self.timeout)

    def _upload_timeout(self) -> aiohttp.ClientTimeout:
        # aiohttp starts sock_read once the body is written, so a slow upload is not cut short.
        return aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=self.timeout)

    # -- the send path ---------------------------------------------------------------------

    async def send_authed(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        body_factory: BodyFactory | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
        replayable: bool = True,
    ) -> aiohttp.ClientResponse:
        """One authenticated request; on `403 auth error`, one refresh and one replay.

        With `replayable=False` (a body that can be sent only once, such as a caller's async
        iterable) the token is still refreshed, so the next call works, but the error is
        raised instead of sending the body again.
        """
        token = await self._auth.token(endpoint=path)
        try:
            return await self._send_once(method, path, token, body, body_factory, timeout)
        except AuthenticationError as exc:
            if not is_auth_expired(exc):
                raise
            if not replayable:
                await self._auth.refresh(token, endpoint=path)
                raise
            log.debug("%s %s: token rejected, refreshing once", method, path)
        token = await self._auth.refresh(token, endpoint=path)
        return await self._send_once(method, path, token, body, body_factory, timeout)

    async def _send_once(
        self,
        method: str,
        path: str,
        token: str,
        body: Any,
        body_factory: BodyFactory | None,
        timeout: aiohttp.ClientTimeout | None,
    ) -> aiohttp.ClientResponse:
        headers = self._headers(token)
        data = body_factory() if body_factory is not None else _dumps(body)
        if body_factory is not None:
            headers.pop("content-type", None)  # multipart sets its own boundary
        return await send(
            self._ensure_session(),
            method,
            self.base_url + path,
            endpoint=path,
            headers=headers,
            data=data,
            timeout=timeout,
        )

    async def request_json(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        idempotent: bool,
        body_factory: BodyFactory | None = None,
        replayable: bool = True,
    ) -> Any:
        """Send, retrying per the policy when `idempotent`, and decode the JSON answer.

        A `body_factory` body (an upload) may take longer than `timeout` to send: it gets
        `timeout` to connect and then to wait for each read of the answer, not as a total.
        """

        async def attempt() -> Any:
            resp = await self.send_authed(
                method,
                path,
                body={} if body is None and body_factory is None else body,
                body_factory=body_factory,
                timeout=self._json_timeout() if body_factory is None else self._upload_timeout(),
                replayable=replayable,
            )
            return await read_json(resp, endpoint=path)

        return await call_with_retries(
            self.retry, attempt, idempotent=idempotent, what=f"{method} {path}"
        )


def _dumps(body: Any) -> RedactedBytes:
    return RedactedBytes(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())


class InsecureTransportWarning(UserWarning):
    """TLS certificate verification was turned off by the session the caller passed in."""


def _verification_disabled(session: aiohttp.ClientSession) -> bool:
    """True when the session's connector was built with `ssl=False` (aiohttp's switch)."""
    connector = session.connector
    return connector is not None and getattr(connector, "_ssl", True) is False


def _initial_tokens(access_token: str | None, refresh_token: str | None) -> TokenSet | None:
    if access_token is None and refresh_token is None:
        return None
    now = time.monotonic()
    if access_token is None:
        # Only a refresh token: start expired so the first call re-authenticates.
        return TokenSet("", now - 1, refresh_token, None)
    expires = token_expiry(access_token, expires_in=None, now=now, default=ACCESS_DEFAULT_LIFETIME)
    return TokenSet(access_token, expires, refresh_token, None)
