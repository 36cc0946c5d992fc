"""`nudgescribe emulator`: serve the emulator on a port until stopped.

The credentials it prints are the emulator's own, made up at start; they open nothing else.
They go to stdout as `export NAME=value` lines, so a script can read them; the banner goes
to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys

from .. import _config as cfg
from ._common import EXIT_OK, Context, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument(
        "--files",
        type=positive_int,
        default=4,
        help="files in the 'Bulk Export' campaign (default 4)",
    )
    parser.add_argument(
        "--rows", type=positive_int, default=250, help="rows per file (default 250)"
    )
    parser.add_argument(
        "--message-length",
        type=positive_int,
        default=120,
        metavar="CHARS",
        help="characters per message (default 120)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="delay added to every request (default 0)",
    )


async def cmd_emulator(ctx: Context) -> int:
    from ..testing import Emulator

    args = ctx.args
    emu = Emulator(
        host=args.host,
        port=args.port,
        files=args.files,
        rows=args.rows,
        message_length=args.message_length,
        latency=args.latency,
    )
    async with emu:
        creds = emu.credentials
        print(
            f"Nudgescribe emulator on {emu.base_url} (Ctrl-C to stop). Use it with:",
            file=sys.stderr,
        )
        for name, value in (
            (cfg.ENV_BASE_URL, emu.base_url),
            (cfg.ENV_EMAIL, creds.email),
            (cfg.ENV_PASSWORD, creds.password),
            (cfg.ENV_API_KEY, creds.api_key),
            (cfg.ENV_API_CODE, creds.api_code),
        ):
            print(f"export {name}={shlex.quote(value)}", flush=True)
        await asyncio.Event().wait()
    return EXIT_OK
