"""The argument parser: one subparser per command, each adding its own options."""

from __future__ import annotations

import argparse

from .._version import __version__
from . import _campaigns, _demo, _emulator, _export, _reruns
from ._common import add_connection_options

DESCRIPTION = (
    "The Nudgescribe API from a terminal. Passwords and API keys are read from environment "
    "variables (NUDGESCRIBE_PASSWORD, NUDGESCRIBE_API_KEY), never from the command line."
)
EPILOG = (
    "exit codes: 0 success, 1 other failure, 2 usage, 3 authentication or permission, "
    "4 not found, 5 quota exceeded"
)


def build_parser() -> argparse.ArgumentParser:
    # No abbreviations anywhere: `--password s3cret` must be refused, not taken for
    # `--password-env s3cret` (and the secret then echoed as a variable name).
    connection = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_connection_options(connection)
    parser = argparse.ArgumentParser(
        prog="nudgescribe", description=DESCRIPTION, epilog=EPILOG, allow_abbrev=False
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, *, connects: bool = True) -> argparse.ArgumentParser:
        parents = [connection] if connects else []
        return sub.add_parser(name, help=summary, parents=parents, allow_abbrev=False)

    _campaigns.add_arguments(command("campaigns", "list the campaigns"))
    _export.add_arguments(command("export", "export a campaign's messages to a file or stdout"))
    _reruns.add_arguments(
        command("reruns", "campaign reruns: history, start, watch", connects=False),
        parents=[connection],
    )
    _emulator.add_arguments(
        command("emulator", "serve the local emulator until stopped", connects=False)
    )
    _demo.add_arguments(
        command(
            "demo",
            "publish, wait for and export 200,000 messages on an embedded emulator",
            connects=False,
        )
    )
    return parser
