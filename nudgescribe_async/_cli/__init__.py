"""The `nudgescribe` command line.

Rules of this package:
1. Credentials come from flags or `NUDGESCRIBE_*` variables; passwords and keys from the
   environment only. None is ever printed (`nudgescribe emulator` prints the emulator's own,
   made up at start, which open nothing else).
2. `--emulator` starts an embedded emulator and points the command at it.
3. Errors are one line on stderr and a documented exit code, never a traceback:
   0 success, 1 other failure, 2 usage, 3 authentication or permission, 4 not found, 5 quota.
4. Progress bars and spinners go to stderr, on a terminal only; stdout carries the results
   (records, tables, the live table of `reruns watch`), so it stays pipeable.
5. The terminal UI needs the `cli` extra (rich); without it the command says how to install it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from ._campaigns import cmd_campaigns
from ._common import EXIT_AUTH as EXIT_AUTH
from ._common import EXIT_ERROR as EXIT_ERROR
from ._common import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from ._common import EXIT_NOT_FOUND as EXIT_NOT_FOUND
from ._common import EXIT_OK as EXIT_OK
from ._common import EXIT_QUOTA as EXIT_QUOTA
from ._common import EXIT_USAGE as EXIT_USAGE
from ._common import Context, describe, innermost, ui_missing
from ._common import exit_code_for as exit_code_for
from ._demo import cmd_demo
from ._emulator import cmd_emulator
from ._export import cmd_export
from ._parser import build_parser
from ._reruns import cmd_reruns

__all__ = [
    "EXIT_AUTH",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_QUOTA",
    "EXIT_USAGE",
    "build_parser",
    "exit_code_for",
    "main",
]

Command = Callable[[Context], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {
    "campaigns": cmd_campaigns,
    "demo": cmd_demo,
    "emulator": cmd_emulator,
    "export": cmd_export,
    "reruns": cmd_reruns,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse has printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    missing = ui_missing()
    if missing is not None:
        _error(missing)
        return EXIT_ERROR
    ctx = Context(args)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return asyncio.run(COMMANDS[args.command](ctx))
    except KeyboardInterrupt:
        _error(_with_advice("interrupted", ctx))
        return EXIT_INTERRUPTED
    except Exception as raised:
        error = innermost(raised)
        if isinstance(error, BrokenPipeError):
            _silence_stdout()  # the reader went away (`| head`): nothing left to say
            return EXIT_ERROR
        _error(_with_advice(describe(error, args), ctx))
        return exit_code_for(error)


def _with_advice(line: str, ctx: Context) -> str:
    return line if ctx.advice is None else f"{line}; {ctx.advice}"


def _error(line: str) -> None:
    print(f"nudgescribe: {line}", file=sys.stderr)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    _error(f"warning: {message}")


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (a test's capture): nothing will flush into a pipe
    finally:
        os.close(devnull)
