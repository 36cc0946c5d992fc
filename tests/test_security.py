"""Security review, as tests: secrets out of sight, TLS and scheme, untrusted values, emulator
isolation."""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Awaitable, Callable

import pytest

from nudgescribe_async import (
    AuthenticationError,
    Client,
    NetworkError,
    NotFoundError,
    NudgescribeError,
    RetryPolicy,
)
from nudgescribe_async.testing import Emulator

PASSWORD = "hunter2-Pa55word"
API_KEY = "key-0123456789abcdef"
API_CODE = "code-fedcba9876543210"
ACCESS = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2lnbmF0dXJlLXNlY3JldA"


def rendered(error: BaseException) -> str:
    """Everything a traceback can show, locals of every frame included."""
    plain = "".join(traceback.format_exception(error))
    with_locals = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format()
    )
    return "\n".join([plain, with_locals, str(error), repr(error)])


async def _raise_from(call: Callable[[], Awaitable[object]]) -> BaseException:
    try:
        await call()
    except (NudgescribeError, ValueError) as exc:
        return exc
    raise AssertionError("expected the call to fail")


def test_bad_base_url_error_with_locals_shows_no_secret() -> None:
    try:
        Client(
            "http://api.example.com",
            email="e",
            password=PASSWORD,
            api_key=API_KEY,
            api_code=API_CODE,
            access_token=ACCESS,
        )
    except ValueError as exc:
        text = rendered(exc)
    for value in (PASSWORD, API_KEY, API_CODE, ACCESS):
        assert value not in text
    assert "'***'" in text  # the locals were printed, masked


async def test_network_failure_during_sign_in_shows_no_secret_with_locals() -> None:
    async with Client(
        "http://127.0.0.1:9",
        email="e@example.com",
        password=PASSWORD,
        api_key=API_KEY,
        api_code=API_CODE,
        retry=RetryPolicy.disabled(),
    ) as client:
        error = await _raise_from(client.campaigns.list)
    assert isinstance(error, NetworkError)
    text = rendered(error)
    for value in (PASSWORD, API_KEY, API_CODE):
        assert value not in text


async def test_failures_after_sign_in_show_no_token_or_key_with_locals(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    creds = emulator.credentials
    cid = emulator.campaign_id("Spring Sale")
    async with emulator.client(retry=RetryPolicy.no_wait(attempts=2), timeout=0.3) as client:
        await client.campaigns.list()
        tokens = client._auth._tokens
        assert tokens is not None
        link = await client.messages.file_url(cid, 0)
        signature = link.url.split("signature=")[1]
        emulator.faults.drop("/v1/campaign/all", times=None)
        errors = [await _raise_from(client.campaigns.list)]
        emulator.faults.slow("/v1/messages/pages", 2.0, times=None)
        errors.append(await _raise_from(lambda: client.messages.count_files(cid)))
        account = creds.account_id
        emulator.faults.fail(f"/storage/{account}/{cid}/1/1.csv", 403, times=None)
        errors.append(
            await _raise_from(lambda: client.messages.fetch_file(cid, 1, export_type="url"))
        )
    texts = [rendered(e) for e in errors] + [r.getMessage() for r in caplog.records]
    secrets = [
        creds.password,
        creds.api_key,
        creds.api_code,
        tokens.access_token,
        tokens.refresh_token,
        signature,
    ]
    for secret in secrets:
        assert secret
        for text in texts:
            assert secret not in text
    assert any("/storage/" in t for t in texts)  # the storage failure was rendered


async def test_bad_password_error_shows_no_password(emulator: Emulator) -> None:
    async with emulator.client(password=PASSWORD) as client:
        error = await _raise_from(client.campaigns.list)
    assert isinstance(error, AuthenticationError)
    assert PASSWORD not in rendered(error)


# -- the emulator refuses what it must -------------------------------------------------------


def _forge(claims: dict[str, object], alg: str = "HS256", signature: str = "AAAA") -> str:
    def b64(data: dict[str, object]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}.{signature}"


@pytest.mark.parametrize("kind", ["forged", "alg-none", "expired", "refresh-as-access", "junk"])
async def test_emulator_rejects_bad_tokens(emulator: Emulator, kind: str) -> None:
    account = emulator.state.accounts[emulator.credentials.account_id]
    good = emulator.issue_tokens(account)
    header, payload, _ = good["access_token"].split(".")
    claims = {"account_id": account.account_id, "typ": "access", "exp": 9_999_999_999}
    token = {
        "forged": f"{header}.{payload}.{'A' * 43}",
        "alg-none": _forge(claims, alg="none", signature=""),
        "expired": good["access_token"],
        "refresh-as-access": good["refresh_token"],
        "junk": "not-a-token",
    }[kind]
    if kind == "expired":
        emulator.clock.advance(emulator.token_lifetime + 1)
    creds = emulator.credentials
    async with Client(
        emulator.base_url,
        access_token=token,
        api_code=creds.api_code,
        retry=RetryPolicy.disabled(),
    ) as client:
        with pytest.raises(AuthenticationError, match="auth error"):
            await client.campaigns.list()


async def test_another_accounts_ids_work_nowhere(emulator: Emulator) -> None:
    other = emulator.add_account("other@example.com")
    theirs = next(
        c.campaign_id for c in emulator.state.campaigns.values() if c.account_id == other.account_id
    )
    async with emulator.client() as client:
        assert theirs not in {c.campaign_id for c in await client.campaigns.list()}
        for call in (
            lambda: client.messages.count_files(theirs),
            lambda: client.messages.fetch_file(theirs, 0),
            lambda: client.messages.publish(theirs),
        ):
            with pytest.raises(NotFoundError):
                await call()
    async with Client(emulator.base_url, **other.as_kwargs()) as them:
        assert {c.campaign_id for c in await them.campaigns.list()} == {theirs}


async def test_tls_verification_cannot_be_turned_off_silently() -> None:
    import aiohttp

    from nudgescribe_async import InsecureTransportWarning

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as insecure:
        with pytest.warns(InsecureTransportWarning, match="does not verify TLS"):
            Client("https://api.example.com", api_code="c", access_token="t", session=insecure)
    async with aiohttp.ClientSession() as verifying:  # no warning: warnings are errors here
        Client("https://api.example.com", api_code="c", access_token="t", session=verifying)
    # The client's own session verifies: Client has no switch that turns verification off.
    assert not {"ssl", "verify", "verify_ssl"} & set(Client.__init__.__code__.co_varnames)
