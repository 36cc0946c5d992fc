"""Export output with no network: CSV and JSON lines writers, formula escaping, checkpoints."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nudgescribe_async import MessageRecord
from nudgescribe_async._cli._output import CsvWriter, escape_formula, json_line
from nudgescribe_async._cli._partial import Checkpoint, resume_problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("", ""),
        ("a=1", "a=1"),
        ("'=1", "'=1"),
        (" =1", " =1"),
    ],
)
def test_escape_formula(value: str, expected: str) -> None:
    assert escape_formula(value) == expected


def _csv_rows(records: list[MessageRecord], *, raw: bool) -> list[list[str]]:
    out = io.StringIO(newline="")
    writer = CsvWriter(out, raw=raw, columns=None)
    writer.write(records)
    writer.finish()
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


def test_csv_escapes_every_text_cell_including_extra_columns_and_header() -> None:
    record = MessageRecord("-7", "=x", 0, 0, {"@col": "+y", "ok": "z"})
    assert _csv_rows([record], raw=False) == [
        ["customer_id", "message", "file_num", "row", "'@col", "ok"],
        ["'-7", "'=x", "0", "0", "'+y", "z"],
    ]
    assert _csv_rows([record], raw=True)[1] == ["-7", "=x", "0", "0", "+y", "z"]


def test_csv_of_no_records_is_just_the_header() -> None:
    assert _csv_rows([], raw=False) == [["customer_id", "message", "file_num", "row"]]


def test_resumed_csv_keeps_its_header_and_column_order() -> None:
    out = io.StringIO(newline="")
    writer = CsvWriter(out, raw=False, columns=["customer_id", "message", "file_num", "row", "b"])
    writer.write([MessageRecord("c", "m", 4, 0, {"a": "1", "b": "2"})])
    writer.finish()
    assert out.getvalue() == "c,m,4,0,2\r\n"


@given(st.text(), st.text(), st.integers(0, 10**6), st.integers(0, 10**6))
def test_json_line_is_exactly_json_dumps(cid: str, message: str, file_num: int, row: int) -> None:
    line = json_line(MessageRecord(cid, message, file_num, row))
    fields = {"customer_id": cid, "message": message, "file_num": file_num, "row": row}
    assert line == json.dumps(fields, ensure_ascii=False) + "\n"


def test_json_line_puts_extra_columns_after_the_record_fields_without_overriding() -> None:
    line = json_line(MessageRecord("c", "m", 1, 2, {"row": "clash", "channel": "sms"}))
    assert json.loads(line) == {
        "customer_id": "c",
        "message": "m",
        "file_num": 1,
        "row": 2,
        "channel": "sms",
    }


OPTIONS = {
    "campaign_id": "c",
    "format": "jsonl",
    "export_type": "utf8",
    "run_number": None,
    "raw": False,
}


def test_checkpoint_round_trips_and_garbage_is_no_checkpoint() -> None:
    point = Checkpoint(OPTIONS, 9, frozenset({0, 1, 2}), records=30, size=1234, columns=["a"])
    assert Checkpoint.from_json(point.to_json()) == point
    for garbage in ("", "{}", "[1]", '{"version": 99}', point.to_json()[:-5]):
        assert Checkpoint.from_json(garbage) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"options": {**OPTIONS, "format": "csv"}}, "other options (format)"),
        ({"part_size": 99}, "holds 99 bytes where its checkpoint says 100"),
        ({"files_total": 5}, "5 files now, 4 then"),
    ],
)
def test_resume_problem(change: dict[str, object], problem: str | None) -> None:
    point = Checkpoint(OPTIONS, 4, frozenset({0, 1}), records=20, size=100)
    args: dict[str, object] = {"options": OPTIONS, "part_size": 150, "files_total": 4, **change}
    found = resume_problem(point, **args)  # type: ignore[arg-type]
    assert found is None if problem is None else problem in (found or "")
