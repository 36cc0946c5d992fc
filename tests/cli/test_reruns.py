"""`nudgescribe reruns history|start|watch` against the emulator."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from nudgescribe_async import Client, RunHistoryEntry
from nudgescribe_async._cli import _watch
from nudgescribe_async.resources.reruns import Reruns
from nudgescribe_async.testing import Emulator

from .conftest import Cli


def group_id(emulator: Emulator, name: str) -> str:
    return next(g.customer_group_id for g in emulator.state.groups.values() if g.name == name)


@pytest.fixture
def finish_after_first_look(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reruns stay Processing until someone has seen them processing, then finish: a watch
    sees both states whatever the machine's speed."""
    emulator.state.rerun_delay = 3600
    history = Reruns.history

    async def history_then_finish(self: Reruns, campaign_id: str) -> list[RunHistoryEntry]:
        entries = await history(self, campaign_id)
        if entries and entries[0].is_processing:
            emulator.clock.advance(3600)
        return entries

    monkeypatch.setattr(Reruns, "history", history_then_finish)


async def test_history_table_and_json_lines(cli: Cli, client: Client, emulator: Emulator) -> None:
    campaign_id = emulator.campaign_id("Loyalty Nudges")
    await client.reruns.initiate(campaign_id, group_id(emulator, "New Signups"))
    table = await cli("reruns", "history", campaign_id)
    assert table.code == 0
    header, _rule, *rows = table.out.splitlines()
    assert header.split()[:4] == ["RUN", "STATUS", "GROUP", "SEGMENTS"]
    assert [row.split()[0] for row in rows] == ["2", "1"]
    assert "New Signups" in rows[0] and "Loyal Customers" in rows[1]

    lines = await cli("reruns", "history", campaign_id, "--json")
    entries = [json.loads(line) for line in lines.out.splitlines()]
    assert [(e["run_number"], e["customer_group_name"]) for e in entries] == [
        (2, "New Signups"),
        (1, "Loyal Customers"),
    ]


async def test_start_then_wait_reports_the_new_run(cli: Cli, emulator: Emulator) -> None:
    emulator.state.rerun_delay = 0
    campaign_id = emulator.campaign_id("Loyalty Nudges")
    result = await cli("reruns", "start", campaign_id, group_id(emulator, "New Signups"), "--wait")
    assert result.code == 0, result.err
    started, finished = result.out.splitlines()
    assert started.startswith(f"started run 2 of campaign {campaign_id}")
    assert "segments 2 matched, 1 new, 1 orphaned" in started
    assert finished == (
        "run 2 finished: Ready for review; segments 2 matched, 1 new, 1 orphaned; "
        "messages 6 reused, 3 generated, 3 archived"
    )


async def test_start_json_is_the_api_answer(cli: Cli, emulator: Emulator) -> None:
    campaign_id = emulator.campaign_id("Loyalty Nudges")
    result = await cli("reruns", "start", campaign_id, group_id(emulator, "Loyal Subset"), "--json")
    started = json.loads(result.out)
    assert started["run_number"] == 2 and started["campaign_status"] == "Ready to publish"


async def test_start_on_an_unpublished_campaign_says_what_to_do(
    cli: Cli, emulator: Emulator
) -> None:
    campaign_id = emulator.campaign_id("Summer Preview")
    result = await cli("reruns", "start", campaign_id, group_id(emulator, "New Signups"))
    assert result.code == 1
    assert "Only Published campaigns can be rerun" in result.err
    assert "publish the campaign and its messages first" in result.err


async def test_start_with_an_unknown_group_exits_4(cli: Cli, emulator: Emulator) -> None:
    campaign_id = emulator.campaign_id("Loyalty Nudges")
    result = await cli("reruns", "start", campaign_id, "00000000-0000-0000-0000-000000000000")
    assert result.code == 4


@pytest.mark.usefixtures("finish_after_first_look")
async def test_watch_prints_each_change_once_until_every_run_is_finished(
    cli: Cli, client: Client, emulator: Emulator
) -> None:
    rerun, steady = emulator.campaign_id("Loyalty Nudges"), emulator.campaign_id("Spring Sale")
    await client.reruns.initiate(rerun, group_id(emulator, "New Signups"))
    argv = ["reruns", "watch", rerun, steady, "--poll-interval", "0.02", "--until-finished"]
    result = await cli(*argv)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert sorted(lines) == sorted(
        [
            f"{rerun}  Loyalty Nudges  run 2  - -> Processing",
            f"{rerun}  Loyalty Nudges  run 2  Processing -> Ready for review",
            f"{steady}  Spring Sale  run 1  - -> Published",
        ]
    )
    assert lines.index(f"{rerun}  Loyalty Nudges  run 2  - -> Processing") < lines.index(
        f"{rerun}  Loyalty Nudges  run 2  Processing -> Ready for review"
    )


@pytest.mark.usefixtures("finish_after_first_look")
async def test_watch_on_a_terminal_is_a_live_table(
    cli: Cli, client: Client, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=200, color_system=None)
    monkeypatch.setattr(_watch, "stdout_console", lambda: terminal)
    rerun = emulator.campaign_id("Loyalty Nudges")
    await client.reruns.initiate(rerun, group_id(emulator, "New Signups"))
    result = await cli("reruns", "watch", rerun, "--poll-interval", "0.02", "--until-finished")
    assert result.code == 0, result.err
    frames = screen.getvalue()
    assert re.search(r"CAMPAIGN +NAME +RUN +STATUS +GROUP", frames)
    processing = frames.index("Processing")
    assert re.search(rf"{rerun} +Loyalty Nudges +2 +Ready for review +New Signups", frames)
    assert frames.rindex("Ready for review") > processing
    assert "\x1b[" in frames  # redrawn in place, as a live display does


async def test_watch_of_an_unknown_campaign_exits_4(cli: Cli) -> None:
    result = await cli("reruns", "watch", "00000000-0000-0000-0000-000000000000")
    assert result.code == 4
    assert "Campaign not found" in result.err
