"""Fault injection: fail, drop, cut short or slow down the next calls of a path.

Rules of this file:
1. A rule matches by path (exact, or a prefix when it ends in `*`), optionally method
   and JSON body fields (`when`), and fires
   `times` times (None: for ever). Rules are checked in the order they were added.
2. Actions: `status` answers an error (with `Retry-After` if given); `drop` closes the
   connection before any response; `truncate` sends part of the body and closes; `delay`
   sleeps before the handler runs (and can combine with the others).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultRule:
    path: str
    action: str  # "status" | "drop" | "truncate" | "delay"
    times: int | None = 1
    method: str | None = None
    status: int = 500
    message: str = "Internal Server Error"
    retry_after: str | None = None
    delay: float = 0.0
    after_bytes: int | None = None
    when: Mapping[str, Any] = field(default_factory=dict)
    probability: float = 1.0
    fired: int = 0

    def matches(self, method: str, path: str, body: Mapping[str, Any] | None) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method and self.method != method:
            return False
        if self.path.endswith("*"):
            if not path.startswith(self.path[:-1]):
                return False
        elif path != self.path:
            return False
        if self.when:
            if body is None:
                return False
            if not all(body.get(k) == v for k, v in self.when.items()):
                return False
        return self.probability >= 1.0 or random.random() < self.probability


class Faults:
    """`emu.faults`: what to break next."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def clear(self) -> None:
        self.rules.clear()

    def _add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def fail(
        self,
        path: str,
        status: int = 500,
        *,
        times: int | None = 1,
        message: str | None = None,
        retry_after: float | str | None = None,
        method: str | None = None,
        when: Mapping[str, Any] | None = None,
        probability: float = 1.0,
    ) -> FaultRule:
        """Answer the next `times` calls of `path` with `status` and `message`.

        With `probability` below 1, each matching call fails with that chance (chaos testing).
        """
        return self._add(
            FaultRule(
                path,
                "status",
                times=times,
                method=method,
                status=status,
                message=message if message is not None else _default_message(status),
                retry_after=None if retry_after is None else str(retry_after),
                when=dict(when or {}),
                probability=probability,
            )
        )

    def drop(
        self,
        path: str,
        *,
        times: int | None = 1,
        when: Mapping[str, Any] | None = None,
        probability: float = 1.0,
    ) -> FaultRule:
        """Close the connection before answering."""
        return self._add(
            FaultRule(path, "drop", times=times, when=dict(when or {}), probability=probability)
        )

    def truncate(
        self,
        path: str,
        *,
        times: int | None = 1,
        after_bytes: int | None = None,
        when: Mapping[str, Any] | None = None,
        probability: float = 1.0,
    ) -> FaultRule:
        """Send the first `after_bytes` of the body (default: half) and close the connection."""
        return self._add(
            FaultRule(
                path,
                "truncate",
                times=times,
                after_bytes=after_bytes,
                when=dict(when or {}),
                probability=probability,
            )
        )

    def slow(
        self,
        path: str,
        seconds: float,
        *,
        times: int | None = None,
        when: Mapping[str, Any] | None = None,
    ) -> FaultRule:
        """Sleep `seconds` before answering `path`."""
        return self._add(
            FaultRule(path, "delay", times=times, delay=seconds, when=dict(when or {}))
        )

    def take(self, method: str, path: str, body: Mapping[str, Any] | None) -> list[FaultRule]:
        """The rules that fire for this request (each counted as fired)."""
        fired = []
        for rule in self.rules:
            if rule.matches(method, path, body):
                rule.fired += 1
                fired.append(rule)
                if rule.action != "delay":
                    break
        return fired


def _default_message(status: int) -> str:
    return {
        429: "Too Many Requests",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Internal Server Error")
