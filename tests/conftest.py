"""Shared fixtures: a fresh emulator per test, and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nudgescribe_async import Client, RetryPolicy
from nudgescribe_async.testing import Emulator


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator() as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[Client]:
    async with emulator.client(retry=RetryPolicy.no_wait()) as c:
        yield c


@pytest.fixture
async def other_client(emulator: Emulator) -> AsyncIterator[Client]:
    """A client of a second account, which must never see the demo account's data."""
    creds = emulator.add_account("other@example.com")
    async with emulator.client(**creds.as_kwargs(), retry=RetryPolicy.no_wait()) as c:
        yield c


def _aioresponses_compat() -> None:
    """aiohttp 3.14 (a security release) added a required `stream_writer` argument to
    `ClientResponse`; aioresponses 0.7.x does not pass it yet. Supply an inert one so the
    wire-level tests run against the aiohttp our users get."""
    import inspect
    from unittest.mock import Mock

    import aioresponses.core
    from aiohttp import ClientResponse

    if "stream_writer" not in inspect.signature(ClientResponse.__init__).parameters:
        return

    class _Response(ClientResponse):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("stream_writer", Mock(output_size=0))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    aioresponses.core.ClientResponse = _Response  # type: ignore[misc]


_aioresponses_compat()
