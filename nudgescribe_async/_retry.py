"""Retries: a small explicit policy, pure decisions, and one loop.

Rules of this file:
1. `should_retry()` and `backoff()` are pure functions of plain values, tested without a network.
2. Only idempotent calls are retried (CONTRACT §3). Publish, rerun initiate, customer check and
   every PUT/PATCH/DELETE run exactly once, whatever happens.
3. Retried: network errors and timeouts, 429, 500, 502, 503 (but not `503 Quota Exceeded`), 504.
4. A server's `Retry-After` is honoured but capped by `max_retry_after`: an absurd value from an
   untrusted server never parks a worker for hours.
5. When retries run out, the last error itself is raised.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import attrs

from ._errors import (
    NetworkError,
    NudgescribeError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)

__all__ = ["RetryPolicy", "backoff", "retry_after_of", "should_retry"]

T = TypeVar("T")
log = logging.getLogger("nudgescribe_async")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """How failed idempotent calls are retried.

    * `attempts`: tries in all, the first included (default 4; 1 turns retries off).
    * `initial_wait` / `max_wait`: exponential backoff from 0.2 s, doubling, capped at 5 s.
    * `jitter`: up to this many extra seconds, drawn at random each wait (default 0.2 s), so
      many clients do not retry in lockstep.
    * `deadline`: seconds for one call including all its retries (default 60 s); no wait
      starts that would end past it.
    * `max_retry_after`: the most a server's `Retry-After` can make us wait (default 30 s).
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    initial_wait: float = attrs.field(default=0.2, validator=attrs.validators.ge(0))
    max_wait: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(default=0.2, validator=attrs.validators.ge(0))
    deadline: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    max_retry_after: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))

    @classmethod
    def no_wait(cls, attempts: int = 4) -> RetryPolicy:
        """Retries without sleeping: for tests of code that uses the SDK."""
        return cls(attempts=attempts, initial_wait=0, max_wait=0, jitter=0)

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """Every call is tried exactly once."""
        return cls(attempts=1)


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """Whether a call that failed with `error` may be sent again."""
    if not idempotent:
        return False
    if isinstance(error, QuotaExceededError):
        return False
    if isinstance(error, NetworkError):
        return True
    if isinstance(error, (RateLimitError, ServerError)):
        return error.status in RETRYABLE_STATUSES
    return False


def retry_after_of(error: BaseException) -> float | None:
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, (int, float)) else None


def backoff(
    policy: RetryPolicy,
    retry_number: int,
    *,
    retry_after: float | None = None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `retry_number` (1 for the first retry)."""
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, policy.max_retry_after)
    wait: float = min(policy.initial_wait * 2.0 ** (retry_number - 1), policy.max_wait)
    return wait + policy.jitter * rng()


async def call_with_retries(
    policy: RetryPolicy,
    attempt: Callable[[], Awaitable[T]],
    *,
    idempotent: bool,
    what: str,
) -> T:
    """Run `attempt` until it succeeds, the policy says stop, or the deadline is near."""
    deadline = time.monotonic() + policy.deadline
    tries = 0
    while True:
        tries += 1
        try:
            return await attempt()
        except NudgescribeError as exc:
            if tries >= policy.attempts or not should_retry(exc, idempotent=idempotent):
                raise
            wait = backoff(policy, tries, retry_after=retry_after_of(exc))
            if time.monotonic() + wait > deadline:
                raise
            log.debug(
                "retrying %s in %.2fs after %s (try %d)", what, wait, type(exc).__name__, tries
            )
            await anyio.sleep(wait)
