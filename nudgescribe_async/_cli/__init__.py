"""The `nudgescribe` command line.

Rules of this file:
1. Credentials come from flags or `NUDGESCRIBE_*` variables and are never printed.
2. `--emulator` starts an embedded emulator and points the command at it.
3. Errors are one line on stderr and a documented exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from .._client import Client
from .._errors import (
    AuthenticationError,
    NotFoundError,
    NudgescribeError,
    PermissionDeniedError,
    QuotaExceededError,
)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_QUOTA = 0, 1, 2, 3, 4, 5


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-url", help="API base URL (default: NUDGESCRIBE_BASE_URL, else production)"
    )
    common.add_argument("--email", help="account email (default: NUDGESCRIBE_EMAIL)")
    common.add_argument("--api-code", help="API code (default: NUDGESCRIBE_API_CODE)")
    common.add_argument(
        "--emulator", action="store_true", help="run against an embedded local emulator"
    )
    parser = argparse.ArgumentParser(
        prog="nudgescribe",
        description="The Nudgescribe API from a terminal. Passwords and keys are read from "
        "NUDGESCRIBE_PASSWORD and NUDGESCRIBE_API_KEY, never from flags.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    campaigns = sub.add_parser("campaigns", parents=[common], help="list the account's campaigns")
    campaigns.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    emulator = sub.add_parser("emulator", help="serve the emulator until stopped")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8080)
    emulator.add_argument("--files", type=int, default=4, help="files in 'Bulk Export'")
    emulator.add_argument("--rows", type=int, default=250, help="rows per file")
    emulator.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    return parser


@asynccontextmanager
async def open_client(args: argparse.Namespace) -> AsyncIterator[Client]:
    if args.emulator:
        from ..testing import Emulator

        async with Emulator() as emu, emu.client() as client:
            yield client
        return
    async with Client(args.base_url, email=args.email, api_code=args.api_code) as client:
        yield client


async def cmd_campaigns(args: argparse.Namespace) -> int:
    async with open_client(args) as client:
        campaigns = await client.campaigns.list()
    if args.json:
        for c in campaigns:
            print(json.dumps(_campaign_row(c)))
        return EXIT_OK
    rows = [_campaign_row(c) for c in campaigns]
    columns = ("campaign_id", "campaign_name", "status", "workspace_name")
    widths = {c: max([len(c), *(len(str(r[c] or "")) for r in rows)]) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row[c] or "").ljust(widths[c]) for c in columns))
    return EXIT_OK


def _campaign_row(c: Any) -> dict[str, Any]:
    return {
        "campaign_id": c.campaign_id,
        "campaign_name": c.campaign_name,
        "status": str(c.status) if c.status is not None else None,
        "workspace_id": c.workspace_id,
        "workspace_name": c.workspace_name,
    }


async def cmd_emulator(args: argparse.Namespace) -> int:
    from ..testing import Emulator

    emu = Emulator(
        host=args.host, port=args.port, files=args.files, rows=args.rows, latency=args.latency
    )
    async with emu:
        creds = emu.credentials
        print(f"Nudgescribe emulator on {emu.base_url}  (Ctrl-C to stop)", file=sys.stderr)
        print(f"  NUDGESCRIBE_BASE_URL={emu.base_url}", file=sys.stderr)
        print(f"  NUDGESCRIBE_EMAIL={creds.email}", file=sys.stderr)
        print(f"  NUDGESCRIBE_PASSWORD={creds.password}", file=sys.stderr)
        print(f"  NUDGESCRIBE_API_KEY={creds.api_key}", file=sys.stderr)
        print(f"  NUDGESCRIBE_API_CODE={creds.api_code}", file=sys.stderr)
        await asyncio.Event().wait()
    return EXIT_OK


COMMANDS = {"campaigns": cmd_campaigns, "emulator": cmd_emulator}


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, QuotaExceededError):
        return EXIT_QUOTA
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:
        print(f"nudgescribe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NudgescribeError as exc:
        print(f"nudgescribe: {exc}", file=sys.stderr)
        return exit_code_for(exc)
