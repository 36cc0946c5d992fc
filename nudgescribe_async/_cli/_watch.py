"""`nudgescribe reruns watch`: the latest run of each campaign, updated as it changes.

On a terminal, a live table (rich `Live`) redrawn on every change; anywhere else, or with
`--json`, one line per change, so a log or a pipe gets each event once.

Rules of this file:
1. `Board` is plain state: updates in, rows out; it decides nothing about the terminal.
2. A failure the watch cannot outlive (credentials refused, campaign unknown, quota spent)
   ends the command with its exit code; a passing one (network, 5xx) shows on its row and the
   watch goes on, as `client.reruns.watch` does.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
)
from ..models.reruns import RunHistoryEntry, RunUpdate
from ._common import EXIT_OK, Context, describe, open_client, stdout_console

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

FATAL = (
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    BadRequestError,
    QuotaExceededError,
)
COLUMNS = ("CAMPAIGN", "NAME", "RUN", "STATUS", "GROUP", "CHANGED", "NOTE")


@attrs.define
class Row:
    campaign_id: str
    name: str = ""
    entry: RunHistoryEntry | None = None
    changed: float | None = None  # time.time() of the last change seen
    note: str = ""

    def cells(self) -> tuple[str, ...]:
        e = self.entry
        changed = (
            "" if self.changed is None else time.strftime("%H:%M:%S", time.localtime(self.changed))
        )
        if e is None:
            return (self.campaign_id, self.name, "", "waiting", "", changed, self.note)
        return (
            self.campaign_id,
            self.name,
            str(e.run_number),
            str(e.status or ""),
            e.customer_group_name or "",
            changed,
            self.note,
        )


class Board:
    """The watched campaigns, in the order given."""

    def __init__(self, campaign_ids: Iterable[str], names: dict[str, str]) -> None:
        self.rows = {cid: Row(cid, names.get(cid, "")) for cid in dict.fromkeys(campaign_ids)}

    def apply(self, update: RunUpdate, now: float) -> None:
        row = self.rows[update.campaign_id]
        if update.error is not None:
            row.note = describe(update.error)
            return
        row.entry, row.changed, row.note = update.entry, now, ""

    def all_finished(self) -> bool:
        return all(r.entry is not None and r.entry.is_finished for r in self.rows.values())

    def table(self) -> Table:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for title in COLUMNS:
            table.add_column(title, no_wrap=title != "NOTE")
        for row in self.rows.values():
            table.add_row(*(Text(cell) for cell in row.cells()))
        return table


def update_line(update: RunUpdate, name: str) -> str:
    """One change as a line of text."""
    if update.error is not None:
        return f"{update.campaign_id}  {name}  error: {describe(update.error)}"
    old = "-" if update.old_status is None else str(update.old_status)
    return f"{update.campaign_id}  {name}  run {update.run_number}  {old} -> {update.new_status}"


def update_json(update: RunUpdate) -> str:
    record: dict[str, Any] = {
        "campaign_id": update.campaign_id,
        "run_number": update.run_number,
        "old_status": None if update.old_status is None else str(update.old_status),
        "new_status": None if update.new_status is None else str(update.new_status),
        "error": None if update.error is None else describe(update.error),
    }
    return json.dumps(record, ensure_ascii=False)


async def cmd_watch(ctx: Context) -> int:
    args = ctx.args
    console = stdout_console()
    async with open_client(args) as client:
        names = {c.campaign_id: c.campaign_name or "" for c in await client.campaigns.list()}
        board = Board(args.campaign_ids, names)
        watch = client.reruns.watch(
            args.campaign_ids, poll_interval=args.poll_interval, concurrency=args.concurrency
        )
        live = console.is_terminal and not args.json
        async with watch as updates:
            if live:
                await _follow_live(updates, board, console, until_finished=args.until_finished)
            else:
                await _follow_lines(updates, board, args.json, until_finished=args.until_finished)
    return EXIT_OK


async def _follow_live(
    updates: AsyncIterator[RunUpdate], board: Board, console: Console, *, until_finished: bool
) -> None:
    from rich.live import Live

    with Live(board.table(), console=console, refresh_per_second=4) as live:
        async for update in updates:
            _check(update)
            board.apply(update, time.time())
            live.update(board.table(), refresh=True)
            if until_finished and board.all_finished():
                return


async def _follow_lines(
    updates: AsyncIterator[RunUpdate], board: Board, as_json: bool, *, until_finished: bool
) -> None:
    async for update in updates:
        _check(update)
        board.apply(update, time.time())
        name = board.rows[update.campaign_id].name
        print(update_json(update) if as_json else update_line(update, name), flush=True)
        if until_finished and board.all_finished():
            return


def _check(update: RunUpdate) -> None:
    if isinstance(update.error, FATAL):
        raise update.error
