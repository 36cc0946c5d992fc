"""`nudgescribe demo`: publish, wait, export and check, on an embedded emulator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import anyio
import pytest

from nudgescribe_async._cli import main
from nudgescribe_async._cli._demo import verify_jsonl

from .conftest import child_env, command


async def test_demo_writes_every_message_once_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.jsonl"
    argv = ["demo", "--files", "7", "--rows", "30", "--out", str(out)]
    assert await anyio.to_thread.run_sync(main, argv) == 0
    printed = capsys.readouterr().out
    assert "exported 210 records" in printed and "every message exactly once" in printed
    positions = {(r["file_num"], r["row"]) for r in map(json.loads, out.read_text().splitlines())}
    assert positions == {(f, r) for f in range(7) for r in range(30)}


@pytest.mark.slow
def test_demo_from_a_fresh_shell_exports_200000_messages(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - the command is this checkout's own package
        command("demo"), env=child_env(), cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "exported 200,000 records to messages.jsonl" in result.stdout
    assert "200,000 distinct (file_num, row), 200,000 distinct customers" in result.stdout
    assert "peak memory" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messages.jsonl"]
    with open(tmp_path / "messages.jsonl", "rb") as lines:
        assert sum(1 for _ in lines) == 200_000


def _write_jsonl(path: Path, positions: list[tuple[int, int]], extra: str = "") -> Path:
    lines = [
        json.dumps({"customer_id": f"c{f}-{r}", "message": "m", "file_num": f, "row": r})
        for f, r in positions
    ]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def test_verify_accepts_every_record_exactly_once(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "m", [(f, r) for f in range(3) for r in range(4)])
    assert verify_jsonl(path, files=3, rows=4).ok


@pytest.mark.parametrize(
    ("positions", "extra"),
    [
        ([(0, 0), (0, 1), (1, 0)], ""),  # one missing
        ([(0, 0), (0, 1), (1, 0), (1, 1), (1, 1)], ""),  # one twice
        ([(0, 0), (0, 1), (1, 0), (1, 2)], ""),  # one outside the grid
        ([(0, 0), (0, 1), (1, 0), (1, 1)], "not json\n"),  # one unreadable line
    ],
)
def test_verify_rejects_anything_else(
    tmp_path: Path, positions: list[tuple[int, int]], extra: str
) -> None:
    assert not verify_jsonl(_write_jsonl(tmp_path / "m", positions, extra), files=2, rows=2).ok
