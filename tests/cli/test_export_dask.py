"""`nudgescribe export --dask ADDRESS --out DIR`: the command's wiring to the Parquet export."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from nudgescribe_async import Client
from nudgescribe_async._cli import main
from nudgescribe_async.testing import Emulator

from .conftest import ROOT, child_env, command

pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ([], "--dask needs --out DIR"),
        (["--out", "d", "--emulator"], "--dask cannot reach an embedded emulator"),
        (
            ["--out", "d", "--format", "csv", "--email", "me@example.com"],
            "--dask writes Parquet with the workers' own credentials (NUDGESCRIBE_* variables or "
            "--credentials-file); drop --format, --email",
        ),
        (["--out", "d", "--resume", "--password-env", "PW"], "drop --resume, --password-env"),
    ],
)
def test_options_a_cluster_export_cannot_honour_are_refused(
    extra: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "c1", "--dask", "local", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nudgescribe: --dask ") and problem in err and err.count("\n") == 1


def test_credentials_file_needs_dask(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "c1", "--credentials-file", "creds.json"]) == 2
    assert "--credentials-file is for the workers of --dask" in capsys.readouterr().err


@pytest.mark.slow
async def test_publish_then_parquet_through_a_local_cluster(
    cli_env: dict[str, str], client: Client, emulator: Emulator, tmp_path: Path
) -> None:
    # A child process: the Dask export keeps one client per process for its settings, so
    # running it here would leave one pointed at this test's emulator for later tests.
    campaign_id = emulator.add_campaign("Parquet", files=5, rows=40, published=False)
    out = tmp_path / "parquet"
    argv = ["--publish", "--poll-interval", "0.05", "--settle-time", "0.2", "--concurrency", "2"]
    result = await anyio.run_process(
        command(
            "export",
            campaign_id,
            *argv,
            "--dask",
            "local",
            "--out",
            str(out),
            "--files-per-partition",
            "2",
        ),
        env=child_env(cli_env),
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""
    assert f"wrote 3 partitions to {out}" in result.stderr.decode()
    frame = pd.read_parquet(out)
    written = set(frame[["customer_id", "message", "file_num", "row"]].itertuples(index=False))
    async with client.messages.stream(campaign_id) as records:
        expected = {(r.customer_id, r.message, r.file_num, r.row) async for r in records}
    assert written == expected and len(frame) == 5 * 40
