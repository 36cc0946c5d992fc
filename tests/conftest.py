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
