"""`nudgescribe export`: stdout and files, formats, atomic output, resume, progress."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import signal
import subprocess
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process

from nudgescribe_async import Client
from nudgescribe_async.testing import Emulator
from nudgescribe_async.testing._state import Message

from .conftest import FETCH, ROOT, Cli, child_env, command, read_until


async def expected_records(client: Client, campaign_id: str) -> list[dict[str, object]]:
    async with client.messages.stream(campaign_id) as records:
        return [
            {
                "customer_id": r.customer_id,
                "message": r.message,
                "file_num": r.file_num,
                "row": r.row,
                **r.extra,
            }
            async for r in records
        ]


def campaign_of_messages(emulator: Emulator, name: str, texts: list[tuple[str, str]]) -> str:
    """A published campaign whose export holds exactly these (customer_id, message) rows."""
    campaign_id = emulator.add_campaign(name, published=False)
    campaign = emulator.state.campaigns[campaign_id]
    campaign.messages = [
        Message(f"m{i}", customer_id, 1, "All", text) for i, (customer_id, text) in enumerate(texts)
    ]
    export = emulator.state.publish(campaign)
    export.ready_after = export.spread = 0.0
    return campaign_id


async def test_export_to_stdout_writes_every_record_once(
    cli: Cli, client: Client, emulator: Emulator
) -> None:
    campaign_id = emulator.campaign_id("Spring Sale")  # quotes, newlines, emoji in messages
    result = await cli("export", campaign_id)
    assert result.code == 0 and result.err == ""
    lines = result.out.splitlines()
    assert [json.loads(line) for line in lines] == await expected_records(client, campaign_id)


@pytest.mark.parametrize("export_type", ["utf8", "url", "json"])
async def test_every_export_type_writes_the_same_file(
    cli: Cli, emulator: Emulator, tmp_path: Path, export_type: str
) -> None:
    campaign_id = emulator.campaign_id("Weekend Getaways")  # has an extra `channel` column
    reference, out = tmp_path / "reference.jsonl", tmp_path / f"{export_type}.jsonl"
    assert (await cli("export", campaign_id, "--out", str(reference))).code == 0
    argv = ["export", campaign_id, "--out", str(out), "--export-type", export_type]
    run = [] if export_type == "url" else ["--run-number", "1"]
    assert (await cli(*argv, *run, "--concurrency", "3")).code == 0
    assert out.read_bytes() == reference.read_bytes()
    assert json.loads(out.read_text().splitlines()[0])["channel"] == "channel-0"


async def test_url_export_of_a_run_is_a_usage_error(cli: Cli, emulator: Emulator) -> None:
    campaign_id = emulator.campaign_id("Spring Sale")
    result = await cli("export", campaign_id, "--export-type", "url", "--run-number", "1")
    assert result.code == 2
    assert result.err == (
        "nudgescribe: the url export is not available with run_number (use utf8 or json)\n"
    )


async def test_csv_export_round_trips(cli: Cli, client: Client, emulator: Emulator) -> None:
    campaign_id = emulator.campaign_id("Weekend Getaways")
    result = await cli("export", campaign_id, "--format", "csv")
    assert result.code == 0
    rows = list(csv.DictReader(io.StringIO(result.out, newline="")))
    assert list(rows[0]) == ["customer_id", "message", "file_num", "row", "channel"]
    expected = await expected_records(client, campaign_id)
    assert rows == [{k: str(v) for k, v in r.items()} for r in expected]


async def test_csv_escapes_formula_cells_unless_raw(cli: Cli, emulator: Emulator) -> None:
    dangerous = [
        ("=cust", '=HYPERLINK("http://evil.example","click")'),
        ("+1555", "+1+1"),
        ("c3", "-2+3"),
        ("c4", "@SUM(A1:A2)"),
        ("c5", "\tleading tab"),
        ("c6", "\rleading carriage return"),
        ("c7", "plain text, = later is fine"),
    ]
    campaign_id = campaign_of_messages(emulator, "Formulas", dangerous)
    escaped = await cli("export", campaign_id, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(escaped.out, newline="")))
    assert [(r["customer_id"], r["message"]) for r in rows] == [
        ("'=cust", '\'=HYPERLINK("http://evil.example","click")'),
        ("'+1555", "'+1+1"),
        ("c3", "'-2+3"),
        ("c4", "'@SUM(A1:A2)"),
        ("c5", "'\tleading tab"),
        ("c6", "'\rleading carriage return"),
        ("c7", "plain text, = later is fine"),
    ]
    raw = await cli("export", campaign_id, "--format", "csv", "--raw")
    raw_rows = list(csv.DictReader(io.StringIO(raw.out, newline="")))
    assert [(r["customer_id"], r["message"]) for r in raw_rows] == dangerous
    as_json = await cli("export", campaign_id)  # JSON is never escaped
    assert [json.loads(line)["message"] for line in as_json.out.splitlines()] == [
        text for _, text in dangerous
    ]


async def test_no_progress_output_when_stderr_is_not_a_terminal(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    result = await cli("export", emulator.campaign_id("Bulk Export"), "--out", str(tmp_path / "o"))
    assert result.code == 0
    assert result.err == "" and result.out == ""


async def test_unpublished_campaign_says_to_publish(cli: Cli, emulator: Emulator) -> None:
    result = await cli("export", emulator.campaign_id("Summer Preview"))
    assert result.code == 1
    assert "has no exported files yet" in result.err and "--publish" in result.err


async def test_publish_exports_every_file_once_ready(cli: Cli, emulator: Emulator) -> None:
    emulator.state.publish_spread = 0.3  # files appear one by one
    campaign_id = emulator.add_campaign("Fresh", files=5, rows=10, published=False)
    argv = ["--publish", "--poll-interval", "0.05", "--settle-time", "0.4"]
    result = await cli("export", campaign_id, *argv)
    assert result.code == 0
    assert len(result.out.splitlines()) == 50
    assert emulator.count("/v1/messages/publish") == 1


async def test_failed_export_keeps_the_old_file_and_resume_completes_it(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    campaign_id = emulator.add_campaign("Flaky", files=6, rows=40)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    assert (await cli("export", campaign_id, "--out", str(reference), "--format", "csv")).code == 0
    out.write_text("yesterday's export\n")
    emulator.faults.fail(FETCH, 404, when={"file_num": 3}, times=None)

    failed = await cli("export", campaign_id, "--out", str(out), "--format", "csv")
    assert failed.code == 4
    assert failed.err.count("\n") == 1
    assert "/v1/messages/fetch answered 404" in failed.err and "--resume" in failed.err
    assert out.read_text() == "yesterday's export\n"  # untouched until an export completes
    state = json.loads((tmp_path / ".out.csv.part.json").read_text())
    assert state["completed"] == [0, 1, 2]

    emulator.faults.clear()
    before = emulator.count(FETCH)
    resumed = await cli("export", campaign_id, "--out", str(out), "--format", "csv", "--resume")
    assert resumed.code == 0, resumed.err
    assert emulator.count(FETCH) - before == 3  # files 3, 4 and 5 only
    assert out.read_bytes() == reference.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "reference.csv"]


async def test_resume_refuses_a_part_file_made_with_other_options(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    campaign_id = emulator.add_campaign("Flaky", files=3, rows=5)
    out = tmp_path / "out"
    emulator.faults.fail(FETCH, 404, when={"file_num": 2}, times=None)
    assert (await cli("export", campaign_id, "--out", str(out))).code == 4
    emulator.faults.clear()
    result = await cli("export", campaign_id, "--out", str(out), "--resume", "--format", "csv")
    assert result.code == 2
    assert "other options (format)" in result.err and "without --resume" in result.err
    assert not out.exists()


async def test_resume_with_nothing_to_resume_starts_from_the_beginning(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    result = await cli("export", emulator.campaign_id("Spring Sale"), "--out", str(out), "--resume")
    assert result.code == 0
    assert "starting from the beginning" in result.err
    assert len(out.read_text().splitlines()) == 3 * 50


async def test_resume_needs_an_output_file(cli: Cli, emulator: Emulator) -> None:
    result = await cli("export", emulator.campaign_id("Spring Sale"), "--resume")
    assert result.code == 2 and "--resume needs --out" in result.err


async def start_on_a_terminal(argv: list[str], cli_env: dict[str, str]) -> tuple[Process, int]:
    """The command with its stderr on a pseudo-terminal, as a user at a terminal runs it: the
    process, and the terminal's end to read its progress from."""
    terminal, stderr = pty.openpty()
    proc = await anyio.open_process(
        command(*argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env=child_env(cli_env, TERM="xterm", COLUMNS="200"),
        cwd=ROOT,
    )
    os.close(stderr)
    return proc, terminal


async def test_killed_export_leaves_no_file_and_resume_finishes_it_exactly_once(
    cli: Cli, cli_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    files = 6
    campaign_id = emulator.add_campaign("Killed", files=files, rows=300)
    reference, out = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    assert (await cli("export", campaign_id, "--out", str(reference))).code == 0
    emulator.faults.slow(FETCH, 60, when={"file_num": 3}, times=1)  # hangs mid-export

    argv = ["export", campaign_id, "--out", str(out), "--concurrency", "1"]
    proc, terminal = await start_on_a_terminal(argv, cli_env)
    try:
        with anyio.fail_after(60):
            screen = await anyio.to_thread.run_sync(
                read_until, terminal, rb"[1-5]/6 files", abandon_on_cancel=True
            )
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        os.close(terminal)

    assert re.search(rb"[1-5]/6 files +[\d,]+ records +[\d.]+ MB +[\d,]+ records/s", screen)
    assert not out.exists()
    done = json.loads((tmp_path / ".out.jsonl.part.json").read_text())["completed"]
    assert done == list(range(len(done))) and 1 <= len(done) <= 3

    before = emulator.count(FETCH)
    resumed = await cli("export", campaign_id, "--out", str(out), "--resume")
    assert resumed.code == 0, resumed.err
    assert emulator.count(FETCH) - before == files - len(done)
    assert out.read_bytes() == reference.read_bytes()
    assert not (tmp_path / ".out.jsonl.part").exists()


async def test_ctrl_c_keeps_the_partial_export_and_says_how_to_resume(
    cli_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    campaign_id = emulator.add_campaign("Interrupted", files=4, rows=100)
    emulator.faults.slow(FETCH, 60, when={"file_num": 2}, times=1)
    out = tmp_path / "out.jsonl"
    argv = ["export", campaign_id, "--out", str(out), "--concurrency", "1"]
    proc, terminal = await start_on_a_terminal(argv, cli_env)
    try:
        with anyio.fail_after(60):
            await anyio.to_thread.run_sync(
                read_until, terminal, rb"[12]/4 files", abandon_on_cancel=True
            )
            proc.send_signal(signal.SIGINT)
            rest = await anyio.to_thread.run_sync(read_until, terminal, rb"(?!)")  # to the end
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        os.close(terminal)
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", rest.decode())  # no terminal controls
    last = text.strip().splitlines()[-1]
    assert code == 130
    assert last == (
        f"nudgescribe: interrupted; the partial export is kept in {tmp_path / '.out.jsonl.part'}"
        "; run the same command with --resume to continue it"
    )
    assert "Traceback" not in text
    assert not out.exists()


async def test_a_reader_that_stops_early_gets_no_error_message(
    cli_env: dict[str, str], emulator: Emulator
) -> None:
    argv = ["export", emulator.add_campaign("Big", files=20, rows=1000)]
    reader, writer = os.pipe()  # `nudgescribe export ... | head -c 1000`
    async with await anyio.open_process(
        command(*argv), stdout=writer, env=child_env(cli_env), cwd=ROOT
    ) as proc:
        os.close(writer)
        assert proc.stderr is not None
        with anyio.fail_after(60):
            first = await anyio.to_thread.run_sync(os.read, reader, 1000)
            os.close(reader)
            errors = b"".join([chunk async for chunk in proc.stderr])
            code = await proc.wait()
    assert first.startswith(b'{"customer_id": ')
    assert errors == b""
    assert code == 1
