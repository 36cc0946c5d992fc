"""Options from the environment, insecure transport refused, secrets kept out of sight."""

from __future__ import annotations

import logging
import traceback

import pytest

import nudgescribe_async
from nudgescribe_async import AuthenticationError, Client, RetryPolicy
from nudgescribe_async._config import PRODUCTION_URL, Credentials
from nudgescribe_async.testing import Emulator

CREDS = {"email": "e@example.com", "password": "pw", "api_code": "code"}


@pytest.mark.parametrize(
    "url", ["http://api.example.com", "http://10.0.0.5:8080", "http://192.168.1.2"]
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="allow_insecure_http"):
        Client(url, **CREDS)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "http://127.9.9.9"]
)
def test_plain_http_to_loopback_is_accepted(url: str) -> None:
    assert Client(url, **CREDS).base_url == url


def test_plain_http_elsewhere_needs_the_explicit_opt_in() -> None:
    assert Client("http://api.example.com/", allow_insecure_http=True, **CREDS).base_url == (
        "http://api.example.com"
    )


@pytest.mark.parametrize("url", ["ftp://x", "https://", "https://h/?q=1", "https://u:p@h"])
def test_malformed_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        Client(url, **CREDS)


def test_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGESCRIBE_BASE_URL", "https://dev.example.com")
    monkeypatch.setenv("NUDGESCRIBE_EMAIL", "env@example.com")
    monkeypatch.setenv("NUDGESCRIBE_PASSWORD", "env-pw")
    monkeypatch.setenv("NUDGESCRIBE_API_CODE", "env-code")
    monkeypatch.setenv("NUDGESCRIBE_CLIENT_IP", "198.51.100.1")
    client = Client()
    assert client.base_url == "https://dev.example.com"
    assert client.client_ip == "198.51.100.1"
    assert client._credentials == Credentials("env@example.com", "env-pw", None, "env-code")
    assert Client(email="arg@example.com", password="x", api_code="y")._credentials.email == (
        "arg@example.com"
    )


def test_default_base_url_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUDGESCRIBE_BASE_URL", raising=False)
    assert Client(**CREDS).base_url == PRODUCTION_URL


def test_missing_api_code_or_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NUDGESCRIBE_API_CODE", "NUDGESCRIBE_EMAIL", "NUDGESCRIBE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="api_code"):
        Client(email="e", password="p")
    with pytest.raises(ValueError, match="no way to authenticate"):
        Client(api_code="c")


async def test_closed_client_cannot_be_reused(emulator: Emulator) -> None:
    client = emulator.client()
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.campaigns.list()


async def test_a_session_passed_in_is_left_open(emulator: Emulator) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with emulator.client(session=session) as client:
            assert await client.campaigns.list()
        assert not session.closed


def test_public_names_are_sorted_and_importable() -> None:
    names = nudgescribe_async.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(nudgescribe_async, name) is not None


async def test_secrets_never_reach_reprs_logs_or_errors(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    creds = emulator.credentials
    caplog.set_level(logging.DEBUG)
    texts: list[str] = [repr(creds), repr(emulator)]
    async with emulator.client(retry=RetryPolicy.no_wait()) as client:
        await client.campaigns.list()
        emulator.clock.advance(emulator.token_lifetime + 1)
        emulator.faults.fail("/v1/campaign/all", 500, times=1)
        await client.campaigns.list()
        tokens = client._auth._tokens
        assert tokens is not None
        secrets = [
            creds.password,
            creds.api_key,
            creds.api_code,
            tokens.access_token,
            tokens.refresh_token,
        ]
        texts += [
            repr(client),
            str(client),
            repr(client._credentials),
            repr(tokens),
            repr(client._auth),
            repr(client.campaigns),
        ]
    async with emulator.client(password=creds.password + "x") as bad:
        with pytest.raises(AuthenticationError) as caught:
            await bad.campaigns.list()
    texts += [str(caught.value), repr(caught.value)]
    texts.append("".join(traceback.format_exception(caught.value)))
    texts += [record.getMessage() for record in caplog.records]
    assert any("/v1/campaign/all" in t for t in texts)  # the log did record the calls
    for secret in secrets:
        assert secret
        for text in texts:
            assert secret not in text
