"""`nudgescribe campaigns`: the account's campaigns as a table, or JSON lines."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..models.campaigns import Campaign
from ._common import EXIT_OK, Context, open_client, stdout_console

COLUMNS = {
    "campaign_id": "ID",
    "campaign_name": "NAME",
    "status": "STATUS",
    "workspace_name": "WORKSPACE",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")


async def cmd_campaigns(ctx: Context) -> int:
    async with open_client(ctx.args) as client:
        campaigns = await client.campaigns.list()
    rows = [campaign_row(c) for c in campaigns]
    if ctx.args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for title in COLUMNS.values():
        table.add_column(title, no_wrap=True)
    for row in rows:
        # Text, not str: a campaign named "[red]x" is a name, not markup.
        table.add_row(*(Text(str(row[key] or "")) for key in COLUMNS))
    stdout_console().print(table, highlight=False)
    return EXIT_OK


def campaign_row(c: Campaign) -> dict[str, Any]:
    return {
        "campaign_id": c.campaign_id,
        "campaign_name": c.campaign_name,
        "status": str(c.status) if c.status is not None else None,
        "workspace_id": c.workspace_id,
        "workspace_name": c.workspace_name,
    }
