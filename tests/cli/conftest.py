"""Run the command line in-process (`main(argv)` in a worker thread, so the test's emulator
keeps serving on the test's loop) or as a child process of the checkout's package."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from nudgescribe_async._cli import main
from nudgescribe_async.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
FETCH = "/v1/messages/fetch"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Awaitable[Result]]


@pytest.fixture
def cli_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """NUDGESCRIBE_* pointing at the test's emulator, and nothing that forces a terminal."""
    for name in list(os.environ):
        if name.startswith("NUDGESCRIBE_") or name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
            monkeypatch.delenv(name)
    creds = emulator.credentials
    env = {
        "NUDGESCRIBE_BASE_URL": emulator.base_url,
        "NUDGESCRIBE_EMAIL": creds.email,
        "NUDGESCRIBE_PASSWORD": creds.password,
        "NUDGESCRIBE_API_KEY": creds.api_key,
        "NUDGESCRIBE_API_CODE": creds.api_code,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def cli(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    """`await cli("campaigns", "--json")`: exit code, stdout and stderr of one run."""

    async def run(*argv: str) -> Result:
        capsys.readouterr()
        code = await anyio.to_thread.run_sync(main, list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def child_env(env: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment for a child `python -m nudgescribe_async`: this checkout's package."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NUDGESCRIBE_") and k not in ("FORCE_COLOR", "TTY_COMPATIBLE")
    }
    return {**base, **(env or {}), "PYTHONPATH": str(ROOT), **extra}


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "nudgescribe_async", *argv]


def read_until(fd: int, pattern: bytes) -> bytes:
    """Read a pty until `pattern` (a regex) shows up or the writer goes away; what was read."""
    seen = b""
    while not re.search(pattern, seen):
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every writer of the pty has closed it
            break
        if not chunk:
            break
        seen += chunk
    return seen
