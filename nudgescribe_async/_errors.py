"""The exception hierarchy, and the one pure function that maps a response to it.

    NudgescribeError                      root: catch this to catch everything the SDK raises
    ├── NetworkError                      the request did not get an HTTP answer
    │   └── NetworkTimeoutError           ... in time (also a builtin TimeoutError)
    ├── APIError                          the server answered with an error status
    │   ├── BadRequestError               400, and 401 "Missing required fields" and friends
    │   │   ├── RerunPreconditionError    400: the campaign cannot be rerun yet (.reason)
    │   │   └── InvalidWorkspaceError     401 "Invalid Workspace"
    │   ├── AuthenticationError           bad credentials, expired/invalid token
    │   ├── PermissionDeniedError         403 "Unauthorized": the api_code is wrong
    │   ├── NotFoundError                 404, and 401 "Campaign not found."
    │   ├── RateLimitError                429 (.retry_after)
    │   ├── QuotaExceededError            503 "Quota Exceeded"
    │   └── ServerError                   5xx
    ├── ResponseDecodeError               a 2xx body we could not understand
    └── WaitTimeoutError                  a wait/poll helper ran past its deadline (a TimeoutError)

Rules of this file:
1. `error_from_response` is pure: status, message, endpoint in; an exception out. No I/O.
2. Messages carry the endpoint and the server's message, never a secret: callers pass the
   endpoint path, not a URL with a query string.
3. Every exception pickles with its type and attributes, because Dask ships them between
   processes (`__reduce__` rebuilds them from their constructor arguments).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "InvalidWorkspaceError",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "NudgescribeError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RerunPreconditionError",
    "RerunPreconditionReason",
    "ResponseDecodeError",
    "ServerError",
    "WaitTimeoutError",
    "error_from_response",
]


class NudgescribeError(Exception):
    """Root of every exception the SDK raises on purpose.

    `completed_files` is set on errors raised out of a message export: the file numbers that
    were fully delivered before the failure, so a worker can resume with `file_nums=`.
    """

    completed_files: frozenset[int] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def _ctor_args(self) -> tuple[Any, ...]:
        return (self.message,)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._ctor_args(), {"completed_files": self.completed_files})


class NetworkError(NudgescribeError):
    """The request failed before an HTTP response arrived (connection refused, reset, DNS...)."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message if endpoint is None else f"{endpoint}: {message}")
        self.endpoint = endpoint
        self.detail = message

    def _ctor_args(self) -> tuple[Any, ...]:
        return (self.detail,)

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"completed_files": self.completed_files}
        return (_rebuild, (type(self), self._ctor_args(), {"endpoint": self.endpoint}), state)


class NetworkTimeoutError(NetworkError, TimeoutError):
    """The server did not answer in time. Also a builtin `TimeoutError`."""


class APIError(NudgescribeError):
    """The server answered with an error status.

    `.status` is the HTTP status, `.message` the server's message, `.endpoint` the path called
    (for example `/v1/messages/fetch`), `.body` the decoded error body (a dict, or the text).
    """

    def __init__(self, status: int, message: str, *, endpoint: str, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint
        self.body = body

    def __str__(self) -> str:
        return f"{self.endpoint} answered {self.status}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, message={self.message!r}, "
            f"endpoint={self.endpoint!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"endpoint": self.endpoint, "body": self.body, **self._extra_kwargs()}
        state = {"completed_files": self.completed_files}
        return (_rebuild, (type(self), (self.status, self.message), kwargs), state)

    def _extra_kwargs(self) -> dict[str, Any]:
        return {}


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)


class BadRequestError(APIError):
    """The request was malformed or is missing fields (400, and several 401 messages)."""


class RerunPreconditionReason(str, enum.Enum):
    """Why a campaign cannot be rerun."""

    CAMPAIGN_NOT_PUBLISHED = "campaign_not_published"
    MESSAGES_NOT_PUBLISHED = "messages_not_published"


class RerunPreconditionError(BadRequestError):
    """A rerun was refused; `.reason` says which documented precondition failed."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        endpoint: str,
        body: object = None,
        reason: RerunPreconditionReason = RerunPreconditionReason.CAMPAIGN_NOT_PUBLISHED,
    ) -> None:
        super().__init__(status, message, endpoint=endpoint, body=body)
        self.reason = reason

    def _extra_kwargs(self) -> dict[str, Any]:
        return {"reason": self.reason}


class InvalidWorkspaceError(BadRequestError):
    """401 `Invalid Workspace`: the workspace id is unknown to this account."""


class AuthenticationError(APIError):
    """Credentials were refused, or the token is invalid and could not be refreshed."""


class PermissionDeniedError(APIError):
    """403 `Unauthorized`: the api_code does not match. Refreshing the token cannot fix it."""


class NotFoundError(APIError):
    """The campaign, group, file or field does not exist (or belongs to another account)."""


class _RetryAfterError(APIError):
    """An error status that may come with a `Retry-After` hint (`.retry_after`, seconds)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        endpoint: str,
        body: object = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, message, endpoint=endpoint, body=body)
        self.retry_after = retry_after

    def _extra_kwargs(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class RateLimitError(_RetryAfterError):
    """429 Too Many Requests. `.retry_after` is the server's hint in seconds, if it gave one."""


class QuotaExceededError(APIError):
    """503 `Quota Exceeded`: the account's usage quota is spent. Retrying will not help."""


class ServerError(_RetryAfterError):
    """The server failed (5xx). `.retry_after` holds the server's hint, if it gave one."""


class ResponseDecodeError(NudgescribeError):
    """A successful (2xx) response whose body we could not understand. `.endpoint` names it."""

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(f"{endpoint}: {message}")
        self.endpoint = endpoint
        self.detail = message

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"completed_files": self.completed_files}
        return (_rebuild, (type(self), (self.detail,), {"endpoint": self.endpoint}), state)


class WaitTimeoutError(NudgescribeError, TimeoutError):
    """A `wait_for_*` helper gave up: the deadline passed before the awaited state arrived."""


def _norm(message: str) -> str:
    return message.strip().rstrip(".").strip().casefold()


_RERUN_REASONS: Mapping[str, RerunPreconditionReason] = {
    _norm("Only Published campaigns can be rerun"): RerunPreconditionReason.CAMPAIGN_NOT_PUBLISHED,
    _norm(
        "All campaign messages must be published before initiating a rerun"
    ): RerunPreconditionReason.MESSAGES_NOT_PUBLISHED,
}
_NOT_FOUND_401 = frozenset({_norm("Campaign not found")})
_BAD_REQUEST_401 = frozenset({_norm("Missing required fields"), _norm("Invalid export option")})


def error_from_response(
    status: int,
    message: str,
    *,
    endpoint: str,
    body: object = None,
    retry_after: float | None = None,
    auth_endpoints: Iterable[str] = ("/v1/auth",),
) -> APIError:
    """Map an error status and the server's message to the exception class that means it.

    The API overloads its codes (CONTRACT §3), so the mapping reads status AND message;
    trailing full stops and case are ignored because the docs differ on them.
    """
    key = _norm(message)
    kwargs: dict[str, Any] = {"endpoint": endpoint, "body": body}
    if status == 400 and key in _RERUN_REASONS:
        return RerunPreconditionError(status, message, reason=_RERUN_REASONS[key], **kwargs)
    if status == 401:
        if endpoint in auth_endpoints:
            return AuthenticationError(status, message, **kwargs)
        if key in _NOT_FOUND_401:
            return NotFoundError(status, message, **kwargs)
        if key == _norm("Invalid Workspace"):
            return InvalidWorkspaceError(status, message, **kwargs)
        if key in _BAD_REQUEST_401:
            return BadRequestError(status, message, **kwargs)
        return AuthenticationError(status, message, **kwargs)
    if status == 403:
        if key == _norm("Unauthorized"):
            return PermissionDeniedError(status, message, **kwargs)
        return AuthenticationError(status, message, **kwargs)
    if status == 404:
        return NotFoundError(status, message, **kwargs)
    if status == 429:
        return RateLimitError(status, message, retry_after=retry_after, **kwargs)
    if status == 503 and key == _norm("Quota Exceeded"):
        return QuotaExceededError(status, message, **kwargs)
    if status >= 500:
        return ServerError(status, message, retry_after=retry_after, **kwargs)
    if 400 <= status < 500:
        return BadRequestError(status, message, **kwargs)
    return APIError(status, message, **kwargs)


def is_auth_expired(error: APIError) -> bool:
    """True for the 403 `auth error` a stale or invalid access token gets (a refresh may fix it)."""
    return error.status == 403 and isinstance(error, AuthenticationError)
