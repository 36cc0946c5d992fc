"""The status-and-message mapping (CONTRACT §3), row by row, and errors crossing processes."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import cloudpickle
import pytest

from nudgescribe_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InvalidWorkspaceError,
    NetworkError,
    NetworkTimeoutError,
    NotFoundError,
    NudgescribeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RerunPreconditionError,
    RerunPreconditionReason,
    ResponseDecodeError,
    ServerError,
    WaitTimeoutError,
    _errors,
)
from nudgescribe_async._errors import error_from_response

EP = "/v1/messages/fetch"

DOCUMENTED = [
    (400, "Only Published campaigns can be rerun", RerunPreconditionError),
    (
        400,
        "All campaign messages must be published before initiating a rerun",
        RerunPreconditionError,
    ),
    (400, "Bad types in body", BadRequestError),
    (401, "Missing required fields", BadRequestError),
    (401, "Missing required fields.", BadRequestError),
    (401, "Invalid export option.", BadRequestError),
    (401, "Campaign not found.", NotFoundError),
    (401, "Invalid Workspace", InvalidWorkspaceError),
    (403, "auth error", AuthenticationError),
    (403, "Unauthorized", PermissionDeniedError),
    (404, "Campaign not found", NotFoundError),
    (404, "Campaign not found.", NotFoundError),
    (404, "Customer group not found", NotFoundError),
    (404, "File not found.", NotFoundError),
    (404, "Campaign/details not found.", NotFoundError),
    (500, "Failed to parse.", ServerError),
    (500, "database down", ServerError),
    (503, "Quota Exceeded", QuotaExceededError),
    (503, "Service Unavailable", ServerError),
    (429, "Too Many Requests", RateLimitError),
    (502, "Bad Gateway", ServerError),
    (504, "Gateway Timeout", ServerError),
]


@pytest.mark.parametrize(("status", "message", "cls"), DOCUMENTED)
def test_each_documented_status_and_message_maps_to_its_class(
    status: int, message: str, cls: type[APIError]
) -> None:
    error = error_from_response(status, message, endpoint=EP)
    assert type(error) is cls
    assert (error.status, error.message, error.endpoint) == (status, message, EP)
    assert EP in str(error)
    assert message in str(error)
    assert str(status) in str(error)


def test_401_on_the_auth_endpoint_means_bad_credentials() -> None:
    error = error_from_response(401, "Missing required fields", endpoint="/v1/auth")
    assert type(error) is AuthenticationError


def test_rerun_precondition_reasons_are_told_apart() -> None:
    a = error_from_response(400, "Only Published campaigns can be rerun.", endpoint=EP)
    b = error_from_response(
        400, "All campaign messages must be published before initiating a rerun", endpoint=EP
    )
    assert isinstance(a, RerunPreconditionError)
    assert isinstance(b, RerunPreconditionError)
    assert a.reason is RerunPreconditionReason.CAMPAIGN_NOT_PUBLISHED
    assert b.reason is RerunPreconditionReason.MESSAGES_NOT_PUBLISHED


def test_rate_limit_carries_retry_after() -> None:
    error = error_from_response(429, "slow down", endpoint=EP, retry_after=7.0)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


def test_hierarchy_roots_and_builtins() -> None:
    assert issubclass(NetworkTimeoutError, TimeoutError)
    assert issubclass(WaitTimeoutError, TimeoutError)
    for cls in (APIError, NetworkError, ResponseDecodeError, WaitTimeoutError):
        assert issubclass(cls, NudgescribeError)
    assert issubclass(RerunPreconditionError, BadRequestError)


ALL_ERRORS: list[NudgescribeError] = [
    NudgescribeError("boom"),
    NetworkError("connection reset", endpoint=EP),
    NetworkTimeoutError("timed out", endpoint=EP),
    ResponseDecodeError("not JSON", endpoint=EP),
    WaitTimeoutError("gave up after 5s"),
    *[error_from_response(s, m, endpoint=EP, body={"message": m}) for s, m, _ in DOCUMENTED],
    error_from_response(429, "slow", endpoint=EP, retry_after=3.0),
    APIError(302, "Found", endpoint=EP, body="moved"),
]


def test_the_pickle_cases_cover_every_error_class() -> None:
    classes = {
        obj
        for name, obj in vars(_errors).items()
        if isinstance(obj, type) and issubclass(obj, NudgescribeError) and not name.startswith("_")
    }
    assert classes == {type(e) for e in ALL_ERRORS}


# Dask ships a failed task's exception to the caller with cloudpickle (and pickle).
@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: f"{type(e).__name__}-{e}")
def test_every_error_survives_pickle_with_type_and_attributes(
    error: NudgescribeError, dumps: Callable[[object], bytes]
) -> None:
    error.completed_files = frozenset({0, 2})
    clone = pickle.loads(dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert clone.completed_files == frozenset({0, 2})
    for attr in ("status", "message", "endpoint", "body", "retry_after", "reason"):
        assert getattr(clone, attr, None) == getattr(error, attr, None)
