"""Pure retry decisions: what is retried, and how long we wait."""

from __future__ import annotations

import pytest

from nudgescribe_async import RetryPolicy
from nudgescribe_async._errors import NetworkError, NetworkTimeoutError, error_from_response
from nudgescribe_async._retry import backoff, should_retry
from nudgescribe_async._transport import parse_retry_after

EP = "/v1/campaign/all"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_for_idempotent_calls_only(status: int) -> None:
    error = error_from_response(status, "x", endpoint=EP)
    assert should_retry(error, idempotent=True)
    assert not should_retry(error, idempotent=False)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (503, "Quota Exceeded"),
        (400, "bad"),
        (401, "Missing required fields"),
        (403, "auth error"),
        (403, "Unauthorized"),
        (404, "File not found."),
        (501, "Not Implemented"),
    ],
)
def test_non_retryable_errors_are_never_retried(status: int, message: str) -> None:
    assert not should_retry(error_from_response(status, message, endpoint=EP), idempotent=True)


def test_network_errors_and_timeouts_are_retried() -> None:
    assert should_retry(NetworkError("reset"), idempotent=True)
    assert should_retry(NetworkTimeoutError("slow"), idempotent=True)
    assert not should_retry(NetworkError("reset"), idempotent=False)


def test_backoff_doubles_and_caps() -> None:
    policy = RetryPolicy(initial_wait=0.5, max_wait=3.0, jitter=0.0)
    assert [backoff(policy, n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_adds_at_most_its_bound() -> None:
    policy = RetryPolicy(initial_wait=1.0, jitter=0.25)
    assert backoff(policy, 1, rng=lambda: 0.0) == 1.0
    assert backoff(policy, 1, rng=lambda: 0.999) == pytest.approx(1.24975)


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(max_retry_after=10.0)
    assert backoff(policy, 1, retry_after=4.0) == 4.0
    assert backoff(policy, 1, retry_after=10_000_000.0) == 10.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), (" 2.5 ", 2.5), ("-4", 0.0), ("soon", None), (None, None), ("nan", None)],
)
def test_retry_after_header_parsing(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_http_date_is_relative_to_now() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=90.0) == pytest.approx(10.0)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="deadline"):
        RetryPolicy(deadline=0)
