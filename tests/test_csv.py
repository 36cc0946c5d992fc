"""IncrementalCSVDecoder: any chunking gives exactly what csv.reader gives for the whole text."""

from __future__ import annotations

import copy
import csv
import io
import itertools
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudgescribe_async import _csv
from nudgescribe_async._csv import CSVFormatError, IncrementalCSVDecoder

BOM = "\ufeff".encode()

# Pieces that stress the splitter: separators, quotes, every newline form, multi-byte characters
# (2, 3 and 4 bytes), a BOM character and line breaks that only str.splitlines knows.
PIECES = [
    "a", "Zz", " ", ",", '"', '""', "\r\n", "\n", "\r", "é", "€", "😀", "\ufeff", "\u2028", "\x85",
]  # fmt: skip

fields = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.text(max_size=4),
)


def reference(text: str) -> list[list[str]] | int:
    """What csv.reader makes of the whole text: its records, or the record number of its error."""
    reader = csv.reader(io.StringIO(text), strict=True)
    rows: list[list[str]] = []
    while True:
        try:
            rows.append(next(reader))
        except StopIteration:
            return rows
        except csv.Error:
            return len(rows) + 1


def decode(chunks: list[bytes], size: int = _csv.BATCH_ROWS) -> list[list[str]] | int:
    """Feed every chunk then finish, taking batches of at most `size` records: the records, or
    the record number of the CSVFormatError."""
    decoder = IncrementalCSVDecoder()
    rows: list[list[str]] = []
    calls = [*(lambda c=c: decoder.feed_batches(c, size) for c in chunks)]
    calls.append(lambda: decoder.finish_batches(size))
    try:
        for call in calls:
            for batch in call():
                assert 0 < len(batch) <= size
                rows += map(list, batch)  # rule 7 gives tuples
    except CSVFormatError as exc:
        assert decoder.records == len(rows)  # every record before the error came out
        return exc.row
    assert decoder.records == len(rows)
    return rows


def split_at(data: bytes, positions: list[int]) -> list[bytes]:
    bounds = [0, *sorted(positions), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


@st.composite
def split_points(draw: st.DrawFn, data: bytes) -> list[int]:
    """Random cut positions, favouring the middle of a UTF-8 sequence and of a CRLF."""
    tricky = [
        i for i in range(1, len(data)) if 0x80 <= data[i] <= 0xBF or data[i - 1 : i + 1] == b"\r\n"
    ]
    anywhere = st.integers(0, len(data))
    position = st.one_of(anywhere, st.sampled_from(tricky)) if tricky else anywhere
    return draw(st.lists(position, max_size=12))


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(fields, max_size=5), max_size=8),
    lineterminator=st.sampled_from(["\r\n", "\n"]),
    bom=st.booleans(),
    size=st.sampled_from([1, 2, 3, _csv.BATCH_ROWS]),
    data=st.data(),
)
def test_any_chunking_of_written_csv_gives_what_csv_reader_gives(
    rows: list[list[str]], lineterminator: str, bom: bool, size: int, data: st.DataObject
) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(rows)
    text = out.getvalue()
    payload = (BOM if bom else b"") + text.encode()
    chunks = split_at(payload, data.draw(split_points(payload)))

    # A first field starting with U+FEFF is indistinguishable from a BOM, so the reference is
    # the payload less one leading BOM. Where csv.writer leaves a bare "\r" unquoted
    # (lineterminator="\n"), csv.reader refuses the text: the decoder must fail at that record.
    assert decode(chunks, size) == reference(payload.decode().removeprefix("\ufeff"))


@pytest.mark.parametrize("scanner", ["quote parity", "exact rescan"])
@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from(['"', ",", "\n", "\r", "a", "é", "😀"]), max_size=40).map(
        "".join
    ),
    size=st.sampled_from([1, 2, _csv.BATCH_ROWS]),
    data=st.data(),
)
def test_hand_made_csv_with_stray_quotes_and_errors_decodes_like_csv_reader(
    scanner: str, text: str, size: int, data: st.DataObject
) -> None:
    # Quotes inside unquoted fields (accepted by csv.reader) fool the quote-parity cut; the
    # decoder must recover. With a zero floor every uncut buffer goes to the exact scanner.
    payload = text.encode()
    chunks = split_at(payload, data.draw(split_points(payload)))
    floor = 0 if scanner == "exact rescan" else _csv._RESCAN_FLOOR
    with mock.patch.object(_csv, "_RESCAN_FLOOR", floor):
        assert decode(chunks, size) == reference(text)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_the_reader_gets_the_lines_stringio_would_give_it(text: str) -> None:
    assert list(_csv._lines(text)) == list(io.StringIO(text))


# Rule 7: lines that are, or nearly are, `id,"message"` records as csv.writer writes them.
LINE_PIECES = ["a", "1", " ", ",", '"', '""', "\r", "\0", "é", "😀", "\x85"]
line_text = st.lists(st.sampled_from(LINE_PIECES), max_size=8).map("".join)
near_pairs = st.builds(
    lambda cid, message, end: f'{cid},"{message}"{end}',
    line_text,
    line_text,
    st.sampled_from(["", "\r", "\r\r", " ", '"']),
)


def pair_batches(lines: list[str], size: int) -> tuple[list[list[str]], list[str]]:
    """Rule 7 over the lines: the records it read, and the lines it left to csv.reader."""
    text = "".join(line + "\n" for line in lines)
    batches = IncrementalCSVDecoder()._pair_batches(text, 0, len(text), size)
    rows: list[list[str]] = []
    while True:
        try:
            batch = next(batches)
        except StopIteration as stop:
            left = text[stop.value :].split("\n")[:-1]
            return rows, left
        assert 0 < len(batch) <= size
        rows += map(list, batch)


@settings(max_examples=500, deadline=None)
@given(
    lines=st.lists(st.one_of(near_pairs, line_text), min_size=1, max_size=6),
    size=st.sampled_from([1, 2, 3, _csv.BATCH_ROWS]),
)
def test_quoted_pairs_read_what_csv_reader_reads_or_step_aside(lines: list[str], size: int) -> None:
    rows, left = pair_batches(lines, size)
    read = lines[: len(lines) - len(left)]
    assert rows == list(csv.reader(read, strict=True))


no_specials = st.characters(exclude_characters=',"\r\n\0', exclude_categories=["Cs"])


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.text(no_specials, max_size=6),
            st.text(st.characters(exclude_characters="\n\0", exclude_categories=["Cs"])),
        ),
        min_size=1,
        max_size=8,
    ),
    lineterminator=st.sampled_from(["\r\n", "\n"]),
)
def test_quoted_pairs_take_every_id_and_message_with_a_comma_csv_writer_writes(
    rows: list[tuple[str, str]], lineterminator: str
) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows((i, m + ",") for i, m in rows)
    lines = out.getvalue().split("\n")[:-1]

    got, left = pair_batches(lines, 3)

    assert left == []
    assert got == [[i, m + ","] for i, m in rows]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.one_of(st.tuples(line_text, line_text.map(lambda m: m + ",")), st.just(())), max_size=12
    ),
    lineterminator=st.sampled_from(["\r\n", "\n"]),
    size=st.sampled_from([1, 2, 3, _csv.BATCH_ROWS]),
    data=st.data(),
)
def test_two_column_files_decode_like_csv_reader_in_any_chunks(
    rows: list[tuple[str, ...]], lineterminator: str, size: int, data: st.DataObject
) -> None:
    # Mostly quoted pairs, with blank lines, NULs, stray quotes and CRs among them: batches go
    # by rule 7 or by csv.reader, and either way the records are csv.reader's.
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows([("id", "message"), *rows])
    payload = out.getvalue().encode()
    chunks = split_at(payload, data.draw(split_points(payload)))
    assert decode(chunks, size) == reference(payload.decode())


@settings(max_examples=300, deadline=None)
@given(line=line_text)
def test_a_plain_first_line_is_read_as_csv_reader_reads_it_or_left_to_it(line: str) -> None:
    text = line + "\n"
    row = _csv._plain_line(text, 0, len(text))
    if row is not None:
        assert [row] == list(csv.reader([line], strict=True))


def test_a_file_that_mixes_quoted_and_unquoted_messages_goes_by_rule_7() -> None:
    mixed = b"".join(b'%d,"hi, %d"\r\n%d,plain\r\n%d,\r\n' % (i, i, i, i) for i in range(200))
    chunks = [b"id,message\r\n" + mixed, mixed]
    expected = reference(b"".join(chunks).decode())
    with mock.patch.object(_csv.csv, "reader", wraps=csv.reader) as reader:
        assert decode(chunks) == expected
    assert reader.call_count == 0


def test_a_file_rule_7_cannot_read_goes_to_csv_reader_after_two_chunks() -> None:
    # A blank line first in a chunk: rule 7 reads none of it. Two such chunks in a row hand the
    # rest of the file to csv.reader, quoted pairs included; the records are csv.reader's.
    pairs = b"".join(b'%d,"hi, %d"\r\n' % (i, i) for i in range(300))
    chunks = [b"id,message\r\n\r\n" + pairs, b"\r\n" + pairs, b"\r\n" + pairs, pairs]
    expected = reference(b"".join(chunks).decode())
    with mock.patch.object(_csv.csv, "reader", wraps=csv.reader) as reader:
        assert decode(chunks) == expected
    assert reader.call_count == 4  # one per chunk: the last, all pairs, after giving up


def test_a_two_column_file_past_its_header_goes_by_quoted_pairs() -> None:
    payload = b"id,message\r\n" + b"".join(b'%d,"hi, ""%d"""\r\n' % (i, i) for i in range(300))
    decoder = IncrementalCSVDecoder()
    with mock.patch.object(_csv.csv, "reader", wraps=csv.reader) as reader:
        rows = decoder.feed(payload) + decoder.finish()
    assert rows == reference(payload.decode())
    assert reader.call_count == 0  # a plain header, then every line matched rule 7


TRICKY = (
    "\ufeffid,message,note\r\n"
    '1,"Hello, ""world""",😀\r\n'
    '2,"line one\r\nline two\nline three\rend",\n'
    "\r\n"
    '3,"",€ and é\n'
    '4,"\ufeff inside",x\r\n'
    '5,"ends the file without a newline"'
).encode()


def test_one_byte_chunks_give_the_same_rows_as_one_chunk() -> None:
    expected = reference(TRICKY.decode().removeprefix("\ufeff"))
    assert isinstance(expected, list)
    assert len(expected) == 7

    assert decode([TRICKY[i : i + 1] for i in range(len(TRICKY))]) == expected
    assert decode([TRICKY]) == expected


def test_feed_returns_complete_records_before_the_input_ends() -> None:
    decoder = IncrementalCSVDecoder()

    first = decoder.feed(b'id,message\r\n1,"Hello, world"\r\n2,"still typ')

    assert first == [["id", "message"], ["1", "Hello, world"]]
    assert decoder.records == 2
    assert decoder.feed(b'ing"\r\n') == [["2", "still typing"]]
    assert decoder.finish() == []
    assert decoder.records == 3


def test_a_newline_inside_quotes_at_the_end_of_a_chunk_does_not_end_the_record() -> None:
    decoder = IncrementalCSVDecoder()

    assert decoder.feed(b'id,message\n1,"two\n') == [["id", "message"]]
    assert decoder.feed(b'lines"\n2,"a ""quote""\nand"\n3,x\n') == [
        ["1", "two\nlines"],
        ["2", 'a "quote"\nand'],
        ["3", "x"],
    ]
    assert decoder.finish() == []


def test_a_quoted_newline_after_many_one_line_records_keeps_its_newline() -> None:
    # One-line records reach the reader without their newlines; the first record over two
    # lines must be read again with them, and so must every record after it.
    text = "".join(f"{i},plain\n" for i in range(300)) + '300,"two\nlines"\n301,"a\r\nb"\n'
    expected = reference(text)
    assert isinstance(expected, list)
    assert expected[300] == ["300", "two\nlines"]
    assert decode([text.encode()], size=7) == expected
    assert decode([text.encode()]) == expected


def test_blank_lines_are_empty_records_as_in_csv_reader() -> None:
    assert decode([b"a\n\n\r\nb\n"]) == [["a"], [], [], ["b"]]


def test_unterminated_quote_at_end_is_reported_at_its_record() -> None:
    decoder = IncrementalCSVDecoder()
    assert len(decoder.feed(b'id,message\r\n1,ok\r\n2,"never closed\r\n3,x\r\n')) == 2

    with pytest.raises(CSVFormatError) as caught:
        decoder.finish()

    assert caught.value.row == 3
    assert caught.value.reason == "unexpected end of data inside a quoted field"
    assert str(caught.value) == (
        "malformed CSV at record 3: unexpected end of data inside a quoted field"
    )
    copied = copy.copy(caught.value)  # survives copy and pickle, e.g. across processes
    assert (copied.row, copied.reason) == (3, caught.value.reason)


def test_text_after_a_closing_quote_is_a_format_error() -> None:
    decoder = IncrementalCSVDecoder()

    with pytest.raises(CSVFormatError) as caught:
        decoder.feed(b'id,message\n1,"abc"def\n2,fine\n')

    assert caught.value.row == 2
    assert isinstance(caught.value, ValueError)


def test_invalid_utf8_is_a_format_error_at_its_record() -> None:
    with pytest.raises(CSVFormatError) as caught:
        IncrementalCSVDecoder().feed(b"id\n1\n2 \xff\n3\n")
    assert caught.value.row == 3
    assert "UTF-8" in caught.value.reason

    # A bad continuation byte arriving in the next chunk.
    decoder = IncrementalCSVDecoder()
    assert decoder.feed(b"id\n\xe2") == [["id"]]
    with pytest.raises(CSVFormatError) as caught:
        decoder.feed(b"(\n")
    assert caught.value.row == 2


def test_multibyte_character_cut_off_at_end_of_input_is_a_format_error() -> None:
    decoder = IncrementalCSVDecoder()
    assert decoder.feed(b"id\n1\n\xe2\x82") == [["id"], ["1"]]

    with pytest.raises(CSVFormatError) as caught:
        decoder.finish()

    assert caught.value.row == 3
    assert "truncated" in caught.value.reason

    decoder = IncrementalCSVDecoder()
    assert decoder.feed(b'id\n"open \xf0\x9f') == [["id"]]
    with pytest.raises(CSVFormatError, match="record 2: truncated"):
        decoder.finish()


def test_leading_bom_is_stripped_but_a_bom_in_a_later_field_is_kept() -> None:
    payload = BOM + b"id,name\r\n1," + BOM + b"x\r\n" + BOM + b"2,y\r\n"
    expected = [["id", "name"], ["1", "\ufeffx"], ["\ufeff2", "y"]]

    assert decode([payload]) == expected
    assert decode([payload[i : i + 1] for i in range(len(payload))]) == expected


def test_misplaced_cut_after_a_stray_quote_is_recovered_without_waiting_for_finish() -> None:
    decoder = IncrementalCSVDecoder()

    # Quote parity sees `"x\n` as outside quotes; csv.reader reads `ab"c` then a quoted field.
    assert decoder.feed(b'ab"c\n"x\ny"\n') == [['ab"c'], ["x\ny"]]
    assert decoder.finish() == []


def test_a_stray_quote_does_not_hold_back_the_rest_of_the_stream() -> None:
    # After the odd quote, quote parity never finds a cut again; the exact rescan must.
    lines = [b"sku,size\n", b'tv,5" screen\n'] + [b"item-%06d,plain\n" % i for i in range(80_000)]
    payload = b"".join(lines)
    chunks = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]
    decoder = IncrementalCSVDecoder()

    streamed = [row for chunk in chunks for row in decoder.feed(chunk)]

    assert len(streamed) > len(lines) // 2
    assert streamed + decoder.finish() == reference(payload.decode())


def test_batches_are_parsed_as_taken_and_hold_every_record_once() -> None:
    payload = b"id,message\n" + b"".join(b'%d,"hi, %d"\n' % (i, i) for i in range(1000))
    decoder = IncrementalCSVDecoder()

    batches = decoder.feed_batches(payload, 100)
    assert decoder.records == 0  # nothing parsed before it is taken
    header = next(batches)  # the first record comes alone: its width is looked at (rule 7)
    assert header == [["id", "message"]]
    first = next(batches)
    assert 50 < len(first) <= 100
    assert decoder.records == 1 + len(first)
    rest = [list(row) for batch in batches for row in batch]

    assert [*header, *map(list, first), *rest] == reference(payload.decode())
    assert list(decoder.finish_batches()) == []


def test_records_before_an_error_in_the_same_chunk_come_out_first() -> None:
    decoder = IncrementalCSVDecoder()
    taken: list[list[str]] = []

    with pytest.raises(CSVFormatError) as caught:
        for batch in decoder.feed_batches(b'id\n1\n2\n"3"x\n4\n', 2):
            taken += batch

    assert taken == [["id"], ["1"], ["2"]]
    assert caught.value.row == 4


def test_a_call_before_the_last_ones_batches_are_taken_is_refused() -> None:
    # Otherwise records would come out of order, or be lost with the batches left behind.
    decoder = IncrementalCSVDecoder()
    batches = decoder.feed_batches(b"a\nb\nc\n", 1)
    assert next(batches) == [["a"]]

    with pytest.raises(RuntimeError, match="previous call"):
        decoder.feed(b"d\n")
    assert [*batches] == [[["b"]], [["c"]]]
    assert decoder.feed(b"d\n") == [["d"]]


def test_decoder_keeps_raising_after_a_format_error() -> None:
    decoder = IncrementalCSVDecoder()
    with pytest.raises(CSVFormatError):
        decoder.feed(b'"abc"def\n')

    with pytest.raises(CSVFormatError) as caught:
        decoder.feed(b"more\n")
    assert caught.value.row == 1
    with pytest.raises(CSVFormatError):
        decoder.finish()


def test_feed_after_finish_is_refused() -> None:
    decoder = IncrementalCSVDecoder()
    assert decoder.feed(b"a,b") == []
    assert decoder.finish() == [["a", "b"]]

    with pytest.raises(ValueError, match="finished"):
        decoder.feed(b"c\n")
