"""Tokens: one refresh for any number of waiting calls, refresh ahead of expiry, fallbacks."""

from __future__ import annotations

import anyio
import pytest

from nudgescribe_async import (
    AuthenticationError,
    Client,
    PermissionDeniedError,
    RetryPolicy,
)
from nudgescribe_async._auth import TokenManager, TokenSet, jwt_claims
from nudgescribe_async.testing import Emulator

AUTH = "/v1/auth"


async def test_expired_token_is_refreshed_once_for_500_concurrent_requests(
    emulator: Emulator,
) -> None:
    async with emulator.client(retry=RetryPolicy.no_wait()) as client:
        await client.campaigns.list()
        emulator.clock.advance(emulator.token_lifetime + 1)  # the server now rejects the token
        results: list[int] = []

        async def call() -> None:
            results.append(len(await client.campaigns.list()))

        async with anyio.create_task_group() as tg:
            for _ in range(500):
                tg.start_soon(call)
    assert len(results) == 500
    assert len(set(results)) == 1
    assert emulator.count(AUTH, "GET") == 1  # exactly one re-authenticate
    assert emulator.count(AUTH, "POST") == 1  # the first sign-in only


async def test_failed_reauthenticate_falls_back_to_credentials_once(emulator: Emulator) -> None:
    async with emulator.client(retry=RetryPolicy.no_wait()) as client:
        await client.campaigns.list()
        emulator.clock.advance(emulator.token_lifetime + 1)
        emulator.faults.fail(AUTH, 401, method="GET", message="Invalid refresh token")
        assert await client.campaigns.list()
    assert emulator.count(AUTH, "GET") == 1
    assert emulator.count(AUTH, "POST") == 2


async def test_expired_refresh_token_goes_straight_to_authenticate() -> None:
    async with Emulator(token_lifetime=60, refresh_lifetime=120) as emu:
        async with emu.client(retry=RetryPolicy.no_wait()) as client:
            await client.campaigns.list()
            emu.clock.advance(500)  # both tokens are dead on the server
            assert await client.campaigns.list()
        assert emu.count(AUTH, "POST") == 2


async def test_wrong_api_code_is_permission_denied_and_never_refreshed(
    emulator: Emulator,
) -> None:
    async with emulator.client(api_code="wrong", retry=RetryPolicy.no_wait()) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            await client.campaigns.list()
    assert caught.value.status == 403
    assert caught.value.endpoint == "/v1/campaign/all"
    assert emulator.count(AUTH, "GET") == 0
    assert emulator.count(AUTH, "POST") == 1


async def test_bad_password_is_an_authentication_error(emulator: Emulator) -> None:
    async with emulator.client(password="not-it") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.campaigns.list()
    assert caught.value.endpoint == AUTH
    assert caught.value.status == 401


async def test_static_token_that_expires_says_no_credentials_were_given(
    emulator: Emulator,
) -> None:
    async with emulator.client() as client:
        await client.campaigns.list()
        token = client._auth._tokens.access_token  # type: ignore[union-attr]
    creds = emulator.credentials
    async with Client(
        emulator.base_url, access_token=token, api_key=creds.api_key, api_code=creds.api_code
    ) as static:
        assert await static.campaigns.list()
        emulator.clock.advance(emulator.token_lifetime + 1)
        with pytest.raises(AuthenticationError, match="no credentials were given"):
            await static.campaigns.list()


async def test_refresh_token_alone_is_enough_to_start(emulator: Emulator) -> None:
    tokens = emulator.issue_tokens(emulator.state.accounts[emulator.credentials.account_id])
    creds = emulator.credentials
    async with Client(
        emulator.base_url,
        refresh_token=tokens["refresh_token"],
        api_key=creds.api_key,
        api_code=creds.api_code,
    ) as client:
        assert await client.campaigns.list()
    assert emulator.count(AUTH, "GET") == 1


# -- the token manager on its own, with a fake clock -------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _manager(clock: FakeClock, calls: list[str]) -> TokenManager:
    async def authenticate() -> TokenSet:
        calls.append("authenticate")
        return TokenSet(f"a{len(calls)}", clock.now + 3600, "r", clock.now + 7200)

    async def reauthenticate(refresh: str) -> TokenSet:
        calls.append("reauthenticate")
        await anyio.sleep(0.01)
        return TokenSet(f"a{len(calls)}", clock.now + 3600, refresh, clock.now + 7200)

    return TokenManager(
        authenticate=authenticate, reauthenticate=reauthenticate, skew=60, clock=clock
    )


async def test_token_is_refreshed_ahead_of_expiry_not_after() -> None:
    clock, calls = FakeClock(), []
    tokens = _manager(clock, calls)
    first = await tokens.token()
    clock.now += 3600 - 61  # a minute and a second before expiry: still fine
    assert await tokens.token() == first
    clock.now += 2  # inside the skew window: refresh before the server would refuse it
    second = await tokens.token()
    assert second != first
    assert calls == ["authenticate", "reauthenticate"]


async def test_concurrent_callers_with_a_stale_token_share_one_refresh() -> None:
    clock, calls = FakeClock(), []
    tokens = _manager(clock, calls)
    stale = await tokens.token()
    seen: set[str] = set()

    async def refresh() -> None:
        seen.add(await tokens.refresh(stale))

    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(refresh)
    assert calls == ["authenticate", "reauthenticate"]
    assert len(seen) == 1


def test_token_expiry_prefers_expires_in_then_jwt_exp() -> None:
    data = {"access_token": "not-a-jwt", "expires_in": 120}
    assert TokenSet.from_response(data, now=50.0).access_expires_at == 170.0
    no_hint = TokenSet.from_response({"token": "x"}, now=0.0)
    assert no_hint.access_expires_at == 14 * 24 * 3600.0
    assert jwt_claims("a.b") == {}
    assert jwt_claims("x.!!!.y") == {}
