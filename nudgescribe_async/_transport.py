"""Send one request; turn aiohttp's errors and error statuses into ours, in one place.

Rules of this file:
1. `map_transport_errors()` is the ONLY place that knows aiohttp's exception classes; every
   body read goes through it too, so a connection cut mid-body is a `NetworkError`.
2. An error status is read, decoded and mapped by `error_from_response()` here; callers only
   ever see a 2xx response.
3. Nothing here retries or authenticates: those are layers above (`_client.py`).
4. Exception messages never quote a URL's query string (pre-signed URLs carry signatures).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import aiohttp

from ._convert import pick
from ._errors import (
    NetworkError,
    NetworkTimeoutError,
    ResponseDecodeError,
    error_from_response,
)
from ._secrets import RedactedBytes, RedactedDict, redact_urls
from ._wire import ERROR_MESSAGE_KEYS

log = logging.getLogger("nudgescribe_async")


def safe_endpoint(url_or_path: str) -> str:
    """A URL or path without its query string, fit for messages and logs."""
    return url_or_path.split("?", 1)[0]


@contextmanager
def map_transport_errors(endpoint: str) -> Iterator[None]:
    """Convert aiohttp's (and the bare timeout's) exceptions into ours."""
    try:
        yield
    except (asyncio.TimeoutError, TimeoutError) as exc:
        # aiohttp raises a bare TimeoutError for a total timeout, ServerTimeoutError for
        # sock_read/connect; both are TimeoutError subclasses.
        message = "timed out waiting for the server"
        raise NetworkTimeoutError(message, endpoint=endpoint) from _frameless(exc)
    except aiohttp.ClientPayloadError as exc:
        message = f"the response body was cut short ({type(exc).__name__})"
        raise NetworkError(message, endpoint=endpoint) from _frameless(exc)
    except aiohttp.ClientError as exc:
        message = f"{type(exc).__name__}: {redact_urls(str(exc)) or type(exc).__name__}"
        raise NetworkError(message, endpoint=endpoint) from _frameless(exc)
    except OSError as exc:
        message = f"{type(exc).__name__}: {exc.strerror or exc}"
        raise NetworkError(message, endpoint=endpoint) from _frameless(exc)


def _frameless(exc: BaseException) -> BaseException:
    """The lower-layer cause without its frames: aiohttp's frames hold request headers and
    URLs in their locals, which a traceback printed with locals would show. Its type and
    message stay; its own cause and context go too, for the same reason."""
    exc.__cause__ = exc.__context__ = None
    return exc.with_traceback(None)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date); None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def error_message(raw: bytes, content_type: str) -> tuple[str, object]:
    """The server's message and the decoded body of an error response."""
    text = raw.decode("utf-8", errors="replace").strip()
    body: object = text
    if text[:1] in ("{", "[", '"'):
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    if isinstance(body, Mapping):
        message = pick(body, ERROR_MESSAGE_KEYS)
        if isinstance(message, str):
            return message, body
        return (json.dumps(message) if message is not None else ""), body
    if isinstance(body, str):
        return body[:500], body
    return text[:500], body


def decode_json(raw: bytes, *, endpoint: str, preview: bool = True) -> Any:
    """A 2xx JSON body, or `ResponseDecodeError` naming the endpoint."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        start = f" (starts {raw[:80].decode('utf-8', errors='replace')!r})" if preview else ""
        raise ResponseDecodeError(
            f"the response is not JSON{start}", endpoint=endpoint
        ) from _frameless(exc)


async def raise_for_status(resp: aiohttp.ClientResponse, *, endpoint: str) -> None:
    """Read an error response and raise the exception it means; returns on 2xx/3xx."""
    if resp.status < 400:
        return
    try:
        with map_transport_errors(endpoint):
            raw = await resp.read()
    finally:
        resp.release()
    message, body = error_message(raw, resp.headers.get("content-type", ""))
    retry_after = parse_retry_after(resp.headers.get("retry-after"))
    raise error_from_response(
        resp.status,
        message or (resp.reason or ""),
        endpoint=endpoint,
        body=body,
        retry_after=retry_after,
    )


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    endpoint: str,
    headers: Mapping[str, str] | None = None,
    data: Any = None,
    timeout: aiohttp.ClientTimeout | None = None,
) -> aiohttp.ClientResponse:
    """Send one request and return the (2xx) response with its body unread.

    The caller owns the response: read it inside `map_transport_errors()` and release it.
    """
    started = time.perf_counter()
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    with map_transport_errors(endpoint):
        resp = await session.request(
            method, url, headers=headers, data=data, allow_redirects=False, **extra
        )
    log.debug(
        "%s %s -> %d in %.1f ms",
        method,
        endpoint,
        resp.status,
        (time.perf_counter() - started) * 1e3,
    )
    await raise_for_status(resp, endpoint=endpoint)
    return resp


async def read_json(resp: aiohttp.ClientResponse, *, endpoint: str, secret: bool = False) -> Any:
    """The decoded JSON body of a 2xx response, which it releases. `secret=True` (token
    responses) keeps the body out of reprs and error messages."""
    try:
        with map_transport_errors(endpoint):
            raw = RedactedBytes(await resp.read()) if secret else await resp.read()
    finally:
        resp.release()
    data = decode_json(raw, endpoint=endpoint, preview=not secret)
    return RedactedDict(data) if secret and isinstance(data, dict) else data
