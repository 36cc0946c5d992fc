"""`nudgescribe reruns history|start|watch`: a campaign's runs, starting one, watching them."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._convert import converter
from ..models.reruns import ComparisonSummary, RerunStarted, RunHistoryEntry
from ._common import EXIT_OK, Context, open_client, positive_float, positive_int, stdout_console
from ._watch import cmd_watch


def add_arguments(parser: argparse.ArgumentParser, parents: list[argparse.ArgumentParser]) -> None:
    actions = parser.add_subparsers(dest="reruns_command", required=True, metavar="ACTION")

    def action(name: str, summary: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=summary, parents=parents, allow_abbrev=False)

    history = action("history", "a campaign's runs, newest first")
    history.add_argument("campaign_id", metavar="CAMPAIGN_ID")
    history.add_argument("--json", action="store_true", help="JSON lines instead of a table")

    start = action("start", "rerun a Published campaign against another customer group")
    start.add_argument("campaign_id", metavar="CAMPAIGN_ID")
    start.add_argument("group_id", metavar="GROUP_ID", help="the new customer group")
    start.add_argument("--wait", action="store_true", help="wait until the new run is finished")
    start.add_argument(
        "--wait-timeout",
        type=positive_float,
        default=600.0,
        metavar="SECONDS",
        help="give up waiting after this long (default 600)",
    )
    start.add_argument("--json", action="store_true", help="JSON lines instead of sentences")

    watch = action("watch", "a live table of the campaigns' latest runs")
    watch.add_argument("campaign_ids", nargs="+", metavar="CAMPAIGN_ID")
    watch.add_argument(
        "--poll-interval",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="seconds between polls of each campaign (default 10)",
    )
    watch.add_argument(
        "--concurrency",
        type=positive_int,
        default=32,
        metavar="N",
        help="history requests in flight at most (default 32)",
    )
    watch.add_argument(
        "--until-finished", action="store_true", help="exit once every latest run is finished"
    )
    watch.add_argument(
        "--json", action="store_true", help="one JSON line per change, even on a terminal"
    )


async def cmd_reruns(ctx: Context) -> int:
    action = ctx.args.reruns_command
    if action == "watch":
        return await cmd_watch(ctx)
    return await (cmd_history(ctx) if action == "history" else cmd_start(ctx))


async def cmd_history(ctx: Context) -> int:
    async with open_client(ctx.args) as client:
        entries = await client.reruns.history(ctx.args.campaign_id)
    if ctx.args.json:
        for entry in entries:
            print(as_json(entry))
        return EXIT_OK
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for title in ("RUN", "STATUS", "GROUP", "SEGMENTS", "STARTED", "COMPLETED", "COMPARISON"):
        table.add_column(title, no_wrap=True)
    for e in entries:
        cells = (
            e.run_number,
            e.status,
            e.customer_group_name,
            e.segments_count,
            _when(e.started_at),
            _when(e.completed_at),
            _comparison(e.comparison_summary),
        )
        table.add_row(*(Text("" if c is None else str(c)) for c in cells))
    stdout_console().print(table)
    return EXIT_OK


async def cmd_start(ctx: Context) -> int:
    args = ctx.args
    async with open_client(args) as client:
        started = await client.reruns.initiate(args.campaign_id, args.group_id)
        _say(args, started, started_sentence(args.campaign_id, started))
        if args.wait:
            entry = await client.reruns.wait(
                args.campaign_id, started.run_number, timeout=args.wait_timeout
            )
            _say(
                args,
                entry,
                f"run {entry.run_number} finished: {entry.status}; "
                f"{_comparison(entry.comparison_summary)}",
            )
    return EXIT_OK


def started_sentence(campaign_id: str, started: RerunStarted) -> str:
    return (
        f"started run {started.run_number} of campaign {campaign_id} "
        f"(rerun {started.rerun_id}): {_comparison(started.comparison)}; "
        f"campaign status {started.campaign_status}"
    )


def _say(args: argparse.Namespace, value: RerunStarted | RunHistoryEntry, sentence: str) -> None:
    print(as_json(value) if args.json else sentence)


def as_json(value: Any) -> str:
    return json.dumps(converter.unstructure(value), ensure_ascii=False)


def _comparison(summary: ComparisonSummary | None) -> str:
    if summary is None:
        return ""
    text = (
        f"segments {summary.matched_count} matched, {summary.new_count} new, "
        f"{summary.orphaned_count} orphaned"
    )
    counts = (
        summary.reused_message_count,
        summary.generated_message_count,
        summary.archived_message_count,
    )
    if all(n is not None for n in counts):
        text += f"; messages {counts[0]} reused, {counts[1]} generated, {counts[2]} archived"
    return text


def _when(moment: Any) -> str | None:
    return None if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
