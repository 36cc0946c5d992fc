"""Campaigns, credentials, exit codes, the missing-UI message and the emulator command."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from importlib import import_module

import anyio
import pytest

from nudgescribe_async import (
    AuthenticationError,
    Client,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ServerError,
)
from nudgescribe_async._cli import main
from nudgescribe_async._cli._common import UsageError, describe, exit_code_for
from nudgescribe_async.testing import Emulator

from .conftest import ROOT, Cli, child_env, command


async def test_campaigns_table_shows_every_campaign(cli: Cli, client: Client) -> None:
    result = await cli("campaigns")
    assert result.code == 0 and result.err == ""
    header, *lines = [line for line in result.out.splitlines() if line.strip("─ ")]
    assert header.split() == ["ID", "NAME", "STATUS", "WORKSPACE"]
    campaigns = await client.campaigns.list()
    assert len(lines) == len(campaigns)
    for campaign, line in zip(campaigns, lines, strict=True):
        assert line.startswith(campaign.campaign_id)
        assert f"  {campaign.campaign_name}  " in line


async def test_campaigns_json_lines_match_the_api(cli: Cli, client: Client) -> None:
    result = await cli("campaigns", "--json")
    assert result.code == 0
    rows = [json.loads(line) for line in result.out.splitlines()]
    campaigns = await client.campaigns.list()
    assert [r["campaign_id"] for r in rows] == [c.campaign_id for c in campaigns]
    assert [r["campaign_name"] for r in rows] == [c.campaign_name for c in campaigns]
    assert {r["status"] for r in rows} == {"Published", "Ready to publish", "Ready for review"}


async def test_campaign_names_are_printed_as_written_never_as_markup(
    cli: Cli, emulator: Emulator
) -> None:
    emulator.add_campaign("[bold red]Flash[/] sale")
    result = await cli("campaigns")
    assert "[bold red]Flash[/] sale" in result.out


async def test_wrong_password_exits_3_naming_the_variables_and_no_secret(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str]
) -> None:
    monkeypatch.setenv("NUDGESCRIBE_PASSWORD", "hunter2-wrong")
    result = await cli("campaigns")
    assert result.code == 3
    assert result.out == ""
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert result.err.startswith("nudgescribe: /v1/auth answered 401")
    assert "NUDGESCRIBE_EMAIL/NUDGESCRIBE_PASSWORD" in result.err
    for secret in ("hunter2-wrong", cli_env["NUDGESCRIBE_API_KEY"], "emulator-api-code"):
        assert secret not in result.err


async def test_wrong_api_code_exits_3_naming_the_setting(cli: Cli) -> None:
    result = await cli("campaigns", "--api-code", "not-the-code")
    assert result.code == 3
    assert "NUDGESCRIBE_API_CODE" in result.err and "not-the-code" not in result.err


async def test_password_env_reads_the_password_from_another_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str]
) -> None:
    monkeypatch.setenv("VAULT_PASSWORD", cli_env["NUDGESCRIBE_PASSWORD"])
    monkeypatch.delenv("NUDGESCRIBE_PASSWORD")
    assert (await cli("campaigns", "--password-env", "VAULT_PASSWORD")).code == 0
    missing = await cli("campaigns", "--password-env", "NO_SUCH_VARIABLE")
    assert missing.code == 2
    assert missing.err == (
        "nudgescribe: no password: set the environment variable NO_SUCH_VARIABLE\n"
    )


async def test_missing_email_is_a_usage_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUDGESCRIBE_EMAIL")
    result = await cli("campaigns")
    assert result.code == 2
    assert "NUDGESCRIBE_EMAIL" in result.err and "--email" in result.err


async def test_unknown_campaign_exits_4(cli: Cli) -> None:
    result = await cli("export", "00000000-0000-0000-0000-000000000000")
    assert result.code == 4
    assert "Campaign not found" in result.err and "nudgescribe campaigns" in result.err


async def test_spent_quota_exits_5(cli: Cli, emulator: Emulator) -> None:
    emulator.set_quota(0)
    result = await cli("export", emulator.campaign_id("Spring Sale"))
    assert result.code == 5
    assert "Quota Exceeded" in result.err and result.err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["export"],
        ["export", "x", "--concurrency", "0"],
        ["export", "x", "--format", "xml"],
        ["campaigns", "--password", "hunter2"],  # secrets are refused as flags
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: nudgescribe" in capsys.readouterr().err


async def test_plain_http_to_a_remote_host_is_a_usage_error(cli: Cli) -> None:
    result = await cli("campaigns", "--base-url", "http://api.example.com")
    assert result.code == 2 and "refusing plain http://" in result.err


async def test_unreachable_server_exits_1_saying_what_to_check(cli: Cli) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await cli("campaigns", "--base-url", f"http://127.0.0.1:{port}")
    assert result.code == 1
    assert result.err.startswith("nudgescribe: /v1/auth: ")
    assert "--base-url or NUDGESCRIBE_BASE_URL" in result.err and "Traceback" not in result.err


def test_embedded_emulator_needs_no_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NUDGESCRIBE_EMAIL", "NUDGESCRIBE_PASSWORD", "NUDGESCRIBE_API_CODE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["campaigns", "--emulator", "--json"]) == 0
    names = {json.loads(line)["campaign_name"] for line in capsys.readouterr().out.splitlines()}
    assert {"Spring Sale", "Bulk Export"} <= names


def test_console_script_points_at_main() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    target = re.search(r'^nudgescribe = "([\w.]+):(\w+)"$', pyproject, re.MULTILINE)
    assert target is not None
    assert getattr(import_module(target[1]), target[2]) is main


async def test_without_rich_the_command_says_how_to_install_it() -> None:
    hide_rich = (
        "import runpy, sys; sys.modules['rich'] = None; sys.argv[0] = 'nudgescribe'; "
        "runpy.run_module('nudgescribe_async', run_name='__main__')"
    )
    result = await anyio.run_process(
        [*command()[:1], "-c", hide_rich, "campaigns", "--emulator"],
        env=child_env(),
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "nudgescribe: the command line needs the 'cli' extra — install it with: "
        "pip install 'nudgescribe-async[cli]'\n"
    )
    assert result.stdout == b""


def test_emulator_command_serves_the_configured_campaign(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["emulator", "--port", "0", "--files", "3", "--rows", "7", "--message-length", "30"]
    with subprocess.Popen(  # noqa: S603 - the command is this checkout's own package
        command(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(), cwd=ROOT
    ) as proc:
        try:
            assert proc.stdout is not None
            for _ in range(5):  # export NUDGESCRIBE_...=... lines, then it serves
                line = proc.stdout.readline().decode()
                name, _, value = line.removeprefix("export ").strip().partition("=")
                assert name.startswith("NUDGESCRIBE_")
                monkeypatch.setenv(name, value)
            assert main(["campaigns", "--json"]) == 0
            rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
            bulk = next(r["campaign_id"] for r in rows if r["campaign_name"] == "Bulk Export")
            assert main(["export", bulk]) == 0
            records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        finally:
            proc.terminate()
    assert len(records) == 3 * 7
    assert max(len(r["message"]) for r in records) <= 30


@pytest.mark.parametrize(
    ("error", "code", "hint"),
    [
        (
            AuthenticationError(401, "Invalid email or password", endpoint="/v1/auth"),
            3,
            "check NUDGESCRIBE_EMAIL/NUDGESCRIBE_PASSWORD",
        ),
        (
            PermissionDeniedError(403, "Unauthorized", endpoint="/v1/campaign/all"),
            3,
            "check NUDGESCRIBE_API_CODE",
        ),
        (NotFoundError(404, "File not found.", endpoint="/v1/messages/fetch"), 4, "check the id"),
        (QuotaExceededError(503, "Quota Exceeded", endpoint="/v1/messages/pages"), 5, "quota"),
        (ServerError(500, "boom\nsecond line", endpoint="/v1/x"), 1, "try again later"),
        (NetworkError("ConnectionRefused", endpoint="/v1/auth"), 1, "NUDGESCRIBE_BASE_URL"),
        (UsageError("--resume needs --out"), 2, None),
        (RuntimeError("bug"), 1, "please report this"),
    ],
)
def test_each_error_is_one_line_with_its_exit_code(
    error: Exception, code: int, hint: str | None
) -> None:
    line = describe(error)
    assert exit_code_for(error) == code
    assert "\n" not in line
    assert (hint is None and " — " not in line) or (hint is not None and hint in line)
