"""What every subcommand shares: exit codes, the client, one-line errors, the consoles.

Rules of this file:
1. Passwords and API keys are read from environment variables only (`--password-env NAME`
   picks another variable), so they never sit in argv or shell history; nothing here prints one.
2. Every error becomes one line: what failed (the SDK's message names the endpoint and the
   server's answer) and what to do. `describe` and `exit_code_for` are pure.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any

import attrs

from .. import _config as cfg
from .._client import Client
from .._errors import (
    AuthenticationError,
    BadRequestError,
    NetworkError,
    NotFoundError,
    NudgescribeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RerunPreconditionError,
    ResponseDecodeError,
    ServerError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_QUOTA = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130
INSTALL_HINT = "pip install 'nudgescribe-async[cli]'"


class CommandError(Exception):
    """A failure the command explains in its own words (exit 1)."""


class UsageError(CommandError):
    """Arguments that parse but cannot work (exit 2)."""


@attrs.define
class Context:
    """One run of the command: its arguments, and advice to add to any error line (for
    example, that a partial export was kept and `--resume` continues it)."""

    args: argparse.Namespace
    advice: str | None = None


# -- errors -----------------------------------------------------------------------------------


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, QuotaExceededError):
        return EXIT_QUOTA
    if isinstance(error, UsageError):
        return EXIT_USAGE
    return EXIT_ERROR


def describe(error: BaseException, args: argparse.Namespace | None = None) -> str:
    """`<what failed> — <what to do>`, one line, no secret (SDK messages carry none)."""
    if isinstance(error, (NudgescribeError, CommandError)):
        text = str(error)
    elif isinstance(error, OSError) and error.filename is not None:
        text = f"{error.filename}: {error.strerror or error}"
    else:
        text = f"unexpected {type(error).__name__}: {error}"
    hint = _hint(error, args)
    line = f"{text} — {hint}" if hint else text
    return " ".join(line.split())  # one line, whatever the server's message held


def _hint(error: BaseException, args: argparse.Namespace | None) -> str | None:
    password_var = getattr(args, "password_env", None) or cfg.ENV_PASSWORD
    if isinstance(error, PermissionDeniedError):
        return f"check {cfg.ENV_API_CODE} (or --api-code)"
    if isinstance(error, AuthenticationError):
        return f"check {cfg.ENV_EMAIL}/{password_var} (or --email)"
    if isinstance(error, NotFoundError):
        return "check the id; `nudgescribe campaigns` lists the account's campaigns"
    if isinstance(error, QuotaExceededError):
        return "the account's usage quota is spent; try again when it renews"
    if isinstance(error, RateLimitError):
        return "too many requests; wait a minute and try again"
    if isinstance(error, RerunPreconditionError):
        return "publish the campaign and its messages first"
    if isinstance(error, WaitTimeoutError):
        return "try again later, or allow longer with --wait-timeout"
    if isinstance(error, NetworkError):
        return f"check the network and the base URL (--base-url or {cfg.ENV_BASE_URL})"
    if isinstance(error, ServerError):
        return "the service failed; try again later"
    if isinstance(error, ResponseDecodeError):
        return "the service answered something this version cannot read; please report it"
    if isinstance(error, BadRequestError):
        return "check the command's arguments"
    if isinstance(error, (NudgescribeError, CommandError, OSError)):
        return None
    return "please report this"


def innermost(error: BaseException) -> BaseException:
    """The one error inside (nested) single-member exception groups, else `error` itself."""
    inner = getattr(error, "exceptions", None)
    while isinstance(inner, tuple) and len(inner) == 1:
        error = inner[0]
        inner = getattr(error, "exceptions", None)
    return error


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


# -- the client -------------------------------------------------------------------------------


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--base-url", help=f"API base URL (default: {cfg.ENV_BASE_URL}, else production)"
    )
    group.add_argument("--email", help=f"account email (default: {cfg.ENV_EMAIL})")
    group.add_argument("--api-code", help=f"API code (default: {cfg.ENV_API_CODE})")
    group.add_argument(
        "--password-env",
        metavar="NAME",
        default=cfg.ENV_PASSWORD,
        help=f"environment variable holding the password (default: {cfg.ENV_PASSWORD})",
    )
    group.add_argument(
        "--api-key-env",
        metavar="NAME",
        default=cfg.ENV_API_KEY,
        help=f"environment variable holding the API key (default: {cfg.ENV_API_KEY})",
    )
    group.add_argument(
        "--emulator", action="store_true", help="run against an embedded local emulator"
    )


@asynccontextmanager
async def open_client(args: argparse.Namespace) -> AsyncIterator[Client]:
    if args.emulator:
        from ..testing import Emulator

        async with Emulator() as emu, emu.client() as client:
            yield client
        return
    try:
        client = Client(args.base_url, **client_credentials(args))
    except ValueError as exc:  # a base URL or option the SDK refuses: the user's to fix
        raise UsageError(str(exc)) from None
    async with client:
        yield client


def client_credentials(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for `Client`, or UsageError naming the missing setting."""
    email = cfg.from_env(args.email, cfg.ENV_EMAIL)
    password = os.environ.get(args.password_env) or None
    api_code = cfg.from_env(args.api_code, cfg.ENV_API_CODE)
    if not email:
        raise UsageError(f"no account email: set {cfg.ENV_EMAIL} or pass --email")
    if not password:
        raise UsageError(f"no password: set the environment variable {args.password_env}")
    if not api_code:
        raise UsageError(f"no API code: set {cfg.ENV_API_CODE} or pass --api-code")
    return {
        "email": email,
        "password": password,
        "api_code": api_code,
        "api_key": os.environ.get(args.api_key_env) or None,
    }


# -- the terminal -----------------------------------------------------------------------------


def ui_missing() -> str | None:
    """None when the terminal UI (the `cli` extra) is installed; else what to do."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return f"the command line needs the 'cli' extra — install it with: {INSTALL_HINT}"
    return None


def stderr_console() -> Console:
    """Where progress and live tables go, so stdout stays pipeable."""
    from rich.console import Console

    return Console(stderr=True)


def stdout_console() -> Console:
    from rich.console import Console

    # Off a terminal rich assumes 80 columns; a pipe should get whole lines, never wrapped ones.
    return Console() if sys.stdout.isatty() else Console(width=1000, no_color=True)


def status(console: Console, text: str) -> AbstractContextManager[object]:
    """A spinner with `text` while the block runs, on a terminal; nothing elsewhere."""
    return console.status(text) if console.is_terminal else nullcontext()
