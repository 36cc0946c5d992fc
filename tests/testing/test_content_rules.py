"""The emulator's content rules, without a network: streaming CSV and row checks."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nudgescribe_async import DATE_FORMATS
from nudgescribe_async.testing._content import CsvRows, row_errors, safe_cut, strptime_format
from nudgescribe_async.testing._state import ProfileField

cells = st.text(alphabet=st.sampled_from('ab,"\r\n é🎉'), max_size=6)


@given(
    rows=st.lists(st.lists(cells, min_size=3, max_size=3), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10),
)
def test_csv_rows_survive_any_chunking(rows: list[list[str]], cuts: list[int]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([["x", "y", "z"], *rows])
    data = buf.getvalue().encode()
    parsed = CsvRows()
    edges = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    for start, end in itertools.pairwise(edges):
        parsed.feed(data[start:end])
    parsed.close()
    expected = [dict(zip("xyz", row, strict=True)) for row in rows]
    assert parsed.header == ["x", "y", "z"]
    assert parsed.rows == expected
    assert parsed.errors == []


def test_a_cut_never_falls_inside_a_quoted_field() -> None:
    text = 'a,"line one\nline two"\nb,c\n"open\n'
    assert text[: safe_cut(text)] == 'a,"line one\nline two"\nb,c\n'
    assert safe_cut('"still open\n') == 0


def test_every_documented_date_format_has_a_strptime_spelling() -> None:
    formats = {strptime_format(f) for f in DATE_FORMATS}
    assert len(formats) == len(DATE_FORMATS)
    assert strptime_format("MMMM dd, yyyy") == "%B %d, %Y"
    assert strptime_format("dd/MM/yy") == "%d/%m/%y"


def _field(name: str, kind: str, fmt: str | None = None, **kw: object) -> ProfileField:
    return ProfileField(name, "acct", "ws", name, kind, fmt, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "value", "problem"),
    [
        (_field("c", "char"), "AB", "expected a single character"),
        (_field("c", "char"), "A", None),
        (_field("m", "currency", "EUR"), "12.50", None),
        (_field("m", "currency", "EUR"), "twelve", "expected an amount in EUR"),
        (_field("n", "number"), True, "expected a number"),
        (_field("n", "number"), "nan", "expected a number"),
        (_field("d", "Date", "MMM dd, yyyy"), "Feb 01, 2024", None),
        (
            _field("d", "Date", "MMM dd, yyyy"),
            "2024-02-01",
            "expected a date in the format MMM dd, yyyy",
        ),
        (_field("s", "string"), 12, "expected text"),
        (_field("s", "string", options=["x"]), "y", "expected one of x"),
    ],
)
def test_values_are_checked_by_type_format_and_options(
    spec: ProfileField, value: object, problem: str | None
) -> None:
    errors = row_errors(7, {spec.field_name: value}, [spec])
    assert errors == (
        [] if problem is None else [{"row": 7, "field": spec.field_name, "message": problem}]
    )


def test_an_update_asks_only_for_required_fields_it_touches() -> None:
    spec = _field("email", "string", required=True)
    assert row_errors(1, {"other": "x"}, [spec], partial=True) == []
    assert row_errors(1, {"email": ""}, [spec], partial=True) != []
    assert row_errors(1, {"other": "x"}, [spec]) != []
