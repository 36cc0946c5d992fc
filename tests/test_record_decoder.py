"""RecordDecoder and FileDecoder: the pieces of one file -> MessageRecords, no network."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from nudgescribe_async import MessageRecord, ResponseDecodeError
from nudgescribe_async._export import RESTART, FileDecoder, RecordDecoder


def flat(batches: Iterable[list[MessageRecord]]) -> list[MessageRecord]:
    return [record for batch in batches for record in batch]


CSV = (
    b"message,Customer_ID , channel\r\n"
    b'Hello,c1,sms\r\n"Hi, you",c2,email\r\n'
    b"\r\n"
    b'"two\nlines",c3,sms\r\n'
)


def decode(data: bytes, *, step: int | None = None, skip: int = 0) -> list[MessageRecord]:
    decoder = RecordDecoder("camp", 7, skip=skip)
    step = step or len(data)
    out: list[MessageRecord] = []
    for start in range(0, len(data), step):
        out += flat(decoder.feed(data[start : start + step]))
    return out + flat(decoder.finish())


def test_columns_are_found_by_name_and_the_rest_kept_as_extra() -> None:
    assert decode(CSV) == [
        MessageRecord("c1", "Hello", 7, 0, {"channel": "sms"}),
        MessageRecord("c2", "Hi, you", 7, 1, {"channel": "email"}),
        MessageRecord("c3", "two\nlines", 7, 2, {"channel": "sms"}),
    ]


def test_records_are_real_message_records_with_an_empty_read_only_extra() -> None:
    (record,) = decode(b"customer_id,message\nc1,Hello\n")
    assert type(record) is MessageRecord
    assert record.extra == {}
    with pytest.raises(TypeError):
        record.extra["x"] = "y"  # type: ignore[index]


@pytest.mark.parametrize("step", [1, 2, 5, 13, 64])
def test_any_chunking_gives_the_same_records(step: int) -> None:
    assert decode(CSV, step=step) == decode(CSV)


def test_blank_lines_are_skipped_and_not_counted_as_rows() -> None:
    records = decode(b"customer_id,message\n\nc1,a\n\n\nc2,b\n")
    assert [(r.customer_id, r.row) for r in records] == [("c1", 0), ("c2", 1)]


@pytest.mark.parametrize("skip", [0, 1, 2, 3, 5])
def test_skip_drops_rows_already_delivered_and_keeps_row_numbers(skip: int) -> None:
    data = b"customer_id,message\n" + b"".join(b"c%d,m\n" % i for i in range(4))
    for step in (3, len(data)):
        records = decode(data, step=step, skip=skip)
        assert [r.row for r in records] == list(range(skip, 4))
        assert [r.customer_id for r in records] == [f"c{i}" for i in range(skip, 4)]


def test_a_row_of_the_wrong_width_names_the_file_and_row() -> None:
    with pytest.raises(ResponseDecodeError, match=r"file 7: row 1 has 3 fields where the header"):
        decode(b"customer_id,message\nc1,a\nc2,b,extra\n")


def test_two_columns_in_either_order_give_the_same_records() -> None:
    swapped = decode(b'Message,customer_id\nHello,c1\n\n"Hi, you",c2\n', step=7)
    assert swapped == decode(b'customer_id,message\nc1,Hello\n"c2","Hi, you"\n')
    assert [(r.customer_id, r.message, r.row) for r in swapped] == [
        ("c1", "Hello", 0),
        ("c2", "Hi, you", 1),
    ]
    with pytest.raises(ResponseDecodeError, match=r"row 1 has 1 fields where the header has 2"):
        decode(b"message,customer_id\nHello,c1\nalone\n")


def test_a_header_without_the_needed_columns_is_refused() -> None:
    with pytest.raises(ResponseDecodeError, match="no message column"):
        decode(b"customer_id,text\nc1,a\n")


def test_a_restarted_file_yields_each_record_once_even_one_cut_in_half() -> None:
    data = b"customer_id,message\n" + b"".join(b"c%d,message %d\n" % (i, i) for i in range(6))
    cut = data.index(b"c3,mess") + 4  # c0..c2 complete, c3 cut short
    decoder = FileDecoder("camp", 7)
    got = flat(decoder.take(data[:cut]))
    assert [r.customer_id for r in got] == ["c0", "c1", "c2"]
    assert flat(decoder.take(RESTART)) == []
    got += flat(decoder.take(data[:10])) + flat(decoder.take(data[10:])) + flat(decoder.finish())
    assert [(r.customer_id, r.message, r.row) for r in got] == [
        (f"c{i}", f"message {i}", i) for i in range(6)
    ]


def test_json_records_sent_again_are_not_repeated() -> None:
    batch = [MessageRecord(f"c{i}", "m", 0, i) for i in range(3)]
    decoder = FileDecoder("camp", 0)
    assert flat(decoder.take(batch[:2])) == batch[:2]
    assert flat(decoder.take(batch)) == batch[2:]
    assert flat(decoder.finish()) == []


def test_rows_sent_to_a_column_sink_keep_their_order_with_the_records_made() -> None:
    # Rows next to a blank line become records; the rest go to the sink as rows. A reader that
    # appends both as they come must see the file in row order.
    data = CSV + b"Hey,c4,push\r\n" * 3 + b"\r\n" + b"Last,c5,sms\r\n"
    expected = [(r.customer_id, r.message, r.extra.get("channel")) for r in decode(data, step=9)]
    got: list[tuple[str, str, str | None]] = []
    via_sink: list[list[str]] = []

    class Sink:
        def add_rows(
            self, rows: list[list[str]], cid: int, msg: int, extra: list[tuple[int, str]]
        ) -> None:
            assert extra == [(2, "channel")]
            got.extend((f[cid], f[msg], f[2]) for f in rows)
            via_sink.extend(rows)

    decoder = FileDecoder("camp", 7, into=Sink())
    for start in range(0, len(data), 9):
        for batch in decoder.take(data[start : start + 9]):
            got.extend((r.customer_id, r.message, r.extra.get("channel")) for r in batch)
    for batch in decoder.finish():
        got.extend((r.customer_id, r.message, r.extra.get("channel")) for r in batch)

    assert got == expected
    assert len(got) == 7
    assert 0 < len(via_sink) < 7  # both ways were taken


@pytest.mark.parametrize(
    "bad_row", [b"c2,b,extra\n", b'c2,"b"x\n'], ids=["wrong width", "malformed CSV"]
)
def test_records_before_a_bad_row_come_out_before_the_error(bad_row: bytes) -> None:
    decoder = RecordDecoder("camp", 7)
    got: list[str] = []
    with pytest.raises(ResponseDecodeError, match="file 7") as caught:
        for batch in decoder.feed(b"customer_id,message\n\nc0,a\nc1,b\n" + bad_row + b"c3,d\n"):
            got += [r.customer_id for r in batch]
    assert got == ["c0", "c1"]
    assert ("row 2 has 3 fields" if b"extra" in bad_row else "CSV at record 5") in str(caught.value)
