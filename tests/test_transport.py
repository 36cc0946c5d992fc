"""Retries against the emulator, and the exact wire format at the transport edge."""

from __future__ import annotations

import json
import re

import pytest
from aioresponses import CallbackResult, aioresponses

from nudgescribe_async import (
    Client,
    NetworkError,
    NetworkTimeoutError,
    QuotaExceededError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    _retry,
)
from nudgescribe_async.testing import Emulator

ALL = "/v1/campaign/all"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_idempotent_call_is_retried_through_each_retryable_status(
    client: Client, emulator: Emulator, status: int
) -> None:
    emulator.faults.fail(ALL, status, times=2)
    assert await client.campaigns.list()
    assert emulator.count(ALL) == 3


async def test_dropped_connection_is_retried(client: Client, emulator: Emulator) -> None:
    emulator.faults.drop(ALL, times=2)
    assert await client.campaigns.list()
    assert emulator.count(ALL) == 3


async def test_truncated_json_body_is_retried(client: Client, emulator: Emulator) -> None:
    emulator.faults.truncate(ALL, times=1)
    assert await client.campaigns.list()
    assert emulator.count(ALL) == 2


async def test_slow_response_times_out_and_is_retried(emulator: Emulator) -> None:
    emulator.faults.slow(ALL, 2.0, times=1)
    async with emulator.client(timeout=0.3, retry=RetryPolicy.no_wait()) as client:
        assert await client.campaigns.list()
    assert emulator.count(ALL) == 2


async def test_persistent_timeout_raises_network_timeout_error(emulator: Emulator) -> None:
    emulator.faults.slow(ALL, 2.0, times=None)
    async with emulator.client(timeout=0.2, retry=RetryPolicy.no_wait(attempts=2)) as client:
        with pytest.raises(NetworkTimeoutError) as caught:
            await client.campaigns.list()
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.endpoint == ALL


async def test_retries_run_out_and_the_last_error_is_raised(
    client: Client, emulator: Emulator
) -> None:
    emulator.faults.fail(ALL, 502, times=None, message="upstream down")
    with pytest.raises(ServerError) as caught:
        await client.campaigns.list()
    assert caught.value.status == 502
    assert "upstream down" in str(caught.value)
    assert emulator.count(ALL) == 4  # the default policy: 4 tries in all


async def test_quota_exceeded_is_not_retried(client: Client, emulator: Emulator) -> None:
    emulator.faults.fail(ALL, 503, message="Quota Exceeded", times=None)
    with pytest.raises(QuotaExceededError):
        await client.campaigns.list()
    assert emulator.count(ALL) == 1


async def test_non_idempotent_call_is_never_replayed(client: Client, emulator: Emulator) -> None:
    emulator.faults.fail("/v1/messages/publish", 500, times=None)
    with pytest.raises(ServerError):
        await client.request_json(
            "POST", "/v1/messages/publish", {"campaign_id": "x"}, idempotent=False
        )
    assert emulator.count("/v1/messages/publish") == 1


async def test_retry_after_is_respected(
    client: Client, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_retry.anyio, "sleep", fake_sleep)
    emulator.faults.fail(ALL, 429, retry_after=7, times=1)
    emulator.faults.fail(ALL, 503, retry_after=100_000, times=1)
    assert await client.campaigns.list()
    assert waits == [7.0, 30.0]  # the second was capped by max_retry_after


async def test_connection_refused_is_a_network_error() -> None:
    async with Client(
        "http://127.0.0.1:9",
        email="e",
        password="p",
        api_code="c",
        retry=RetryPolicy.no_wait(attempts=2),
    ) as client:
        with pytest.raises(NetworkError, match="/v1/auth"):
            await client.campaigns.list()


async def test_non_json_success_body_is_a_decode_error() -> None:
    with aioresponses() as mock:
        _mock_auth(mock)
        mock.post(BASE + ALL, body=b"<html>oops</html>", content_type="text/html")
        async with _client() as client:
            with pytest.raises(ResponseDecodeError, match=ALL):
                await client.campaigns.list()


# -- exact wire checks with aioresponses ----------------------------------------------------

BASE = "https://api.example.test"


def _client(**kwargs: object) -> Client:
    options: dict[str, object] = {
        "email": "ana@example.com",
        "password": "pw-secret",
        "api_key": "key-123",
        "api_code": "code-9",
        "client_ip": "203.0.113.7",
        "retry": RetryPolicy.no_wait(),
    }
    options.update(kwargs)
    return Client(BASE, **options)  # type: ignore[arg-type]


def _mock_auth(mock: aioresponses, *, access: str = "acc-1") -> None:
    mock.post(
        BASE + "/v1/auth",
        payload={"access_token": access, "refresh_token": "ref-1", "expires_in": 3600},
    )


async def test_every_data_call_carries_the_full_header_set() -> None:
    seen: list[dict[str, str]] = []

    def record(url: object, **kwargs: object) -> CallbackResult:
        seen.append({k.lower(): v for k, v in dict(kwargs["headers"]).items()})  # type: ignore[call-overload]
        assert json.loads(kwargs["data"]) == {}  # type: ignore[arg-type]
        return CallbackResult(payload={"workspaces": []})

    with aioresponses() as mock:
        _mock_auth(mock)
        mock.post(BASE + ALL, callback=record)
        async with _client() as client:
            assert await client.campaigns.list() == []
    assert seen == [
        {
            "authorization": "Bearer acc-1",
            "x-auth-context": '{"api_access":true,"api_code":"code-9"}',
            "x-ip": "203.0.113.7",
            "content-type": "application/json",
            "x-api-key": "key-123",
        }
    ]


async def test_authenticate_sends_api_key_and_credentials_without_bearer() -> None:
    seen: list[tuple[dict[str, str], object]] = []

    def record(url: object, **kwargs: object) -> CallbackResult:
        headers = {k.lower(): v for k, v in dict(kwargs["headers"]).items()}  # type: ignore[call-overload]
        seen.append((headers, json.loads(kwargs["data"])))  # type: ignore[arg-type]
        return CallbackResult(payload={"token": "acc-2", "refreshToken": "r"})

    with aioresponses() as mock:
        mock.post(BASE + "/v1/auth", callback=record)
        mock.post(BASE + ALL, payload={"workspaces": []})
        async with _client() as client:
            await client.campaigns.list()
    [(headers, body)] = seen
    assert "authorization" not in headers
    assert headers["x-api-key"] == "key-123"
    assert body == {"email": "ana@example.com", "password": "pw-secret"}


async def test_reauthenticate_is_a_get_with_the_refresh_token_as_bearer() -> None:
    seen: list[dict[str, str]] = []

    def record(url: object, **kwargs: object) -> CallbackResult:
        seen.append({k.lower(): v for k, v in dict(kwargs["headers"]).items()})  # type: ignore[call-overload]
        return CallbackResult(payload={"access_token": "acc-2", "expires_in": 3600})

    with aioresponses() as mock:
        _mock_auth(mock)
        mock.post(BASE + ALL, status=403, payload={"message": "auth error"})
        mock.get(BASE + "/v1/auth", callback=record)
        mock.post(BASE + ALL, payload={"workspaces": []})
        async with _client() as client:
            assert await client.campaigns.list() == []
    assert seen[0]["authorization"] == "Bearer ref-1"


async def test_error_body_in_other_shapes_is_understood() -> None:
    with aioresponses() as mock:
        _mock_auth(mock)
        mock.post(BASE + ALL, status=404, payload={"detail": "Campaign not found."})
        mock.post(re.compile(".*"), status=400, body="plain words")
        async with _client() as client:
            with pytest.raises(Exception, match="Campaign not found"):
                await client.campaigns.list()
            with pytest.raises(Exception, match="plain words"):
                await client.campaigns.list()
