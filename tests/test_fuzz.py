"""Fuzzing: random JSON into every response decoder, random bytes into the export decoder,
random bad arguments into public methods. Only typed outcomes are allowed."""

from __future__ import annotations

import contextlib
import csv
import io
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudgescribe_async import Client, ResponseDecodeError
from nudgescribe_async._auth import TokenSet
from nudgescribe_async._convert import int_field
from nudgescribe_async._export import RecordDecoder, presigned_url_from, records_from_json
from nudgescribe_async._transport import error_message
from nudgescribe_async._wire import FILE_COUNT_KEYS
from nudgescribe_async.resources.campaigns import flatten_workspaces
from nudgescribe_async.testing import Emulator

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "workspaces",
                    "campaigns",
                    "campaign_id",
                    "status",
                    "start_date",
                    "num_files",
                    "pages",
                    "url",
                    "expires_at",
                    "data",
                    "messages",
                    "customer_id",
                    "message",
                    "access_token",
                    "token",
                    "expires_in",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


def _decoders() -> dict[str, Callable[[Any], object]]:
    def tokens(data: Any) -> object:
        if not isinstance(data, dict):
            raise ResponseDecodeError("not an object", endpoint="/v1/auth")
        try:
            return TokenSet.from_response(data, now=0.0)
        except ValueError as exc:  # the client turns this into ResponseDecodeError
            raise ResponseDecodeError(str(exc), endpoint="/v1/auth") from exc

    from nudgescribe_async.resources.customer_groups import group_from
    from nudgescribe_async.resources.customers import check_result, customers_of
    from nudgescribe_async.resources.profile_fields import field_from
    from nudgescribe_async.resources.reruns import decode_history, decode_messages, decode_started

    return {
        "rerun history": decode_history,
        "rerun messages": decode_messages,
        "rerun started": decode_started,
        "customer group": group_from,
        "profile field": field_from,
        "customers page": customers_of,
        "check result": check_result,
        "campaigns": flatten_workspaces,
        "file count": lambda d: int_field(d, FILE_COUNT_KEYS, endpoint="/v1/messages/pages"),
        "json export": lambda d: records_from_json(d, "c", 0),
        "url export": presigned_url_from,
        "tokens": tokens,
    }


@pytest.mark.parametrize("name", list(_decoders()))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=JSON)
def test_every_decoder_gives_a_result_or_a_decode_error(name: str, data: Any) -> None:
    decoder = _decoders()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 1000-row warning is not the point here
        with contextlib.suppress(ResponseDecodeError):
            decoder(data)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "", "x"]))
def test_error_bodies_of_any_shape_yield_a_message(raw: bytes, content_type: str) -> None:
    message, _ = error_message(raw, content_type)
    assert isinstance(message, str)


@settings(max_examples=300, deadline=None)
@given(
    payload=st.binary(max_size=300)
    | st.lists(
        st.lists(st.text(alphabet='ab,"\r\n é🎉', max_size=6), min_size=0, max_size=4),
        max_size=6,
    ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode()),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6),
)
def test_export_decoder_on_random_bytes_gives_rows_or_a_decode_error_naming_the_file(
    payload: bytes, cuts: list[int]
) -> None:
    body = b"customer_id,message\r\n" + payload
    decoder = RecordDecoder("camp", 7)
    points = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    try:
        records = [r for chunk in chunks for batch in decoder.feed(chunk) for r in batch]
        records += [r for batch in decoder.finish() for r in batch]
    except ResponseDecodeError as exc:
        error = str(exc)
        assert "camp" in error
        assert "file 7" in error
        return
    # What decoded must be what Python's csv module reads from the whole text.
    rows = [r for r in csv.reader(io.StringIO(body.decode("utf-8")), strict=True) if r][1:]
    assert [[r.customer_id, r.message] for r in records] == rows
    assert [r.row for r in records] == list(range(len(records)))


BAD_IDS = st.one_of(st.none(), st.integers(), st.just(""), st.just("   "), st.binary(max_size=3))
BAD_NUMS = st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2), st.booleans())


@pytest.mark.parametrize(
    "call",
    [
        lambda c, bad, n: c.messages.publish(bad),
        lambda c, bad, n: c.messages.count_files(bad),
        lambda c, bad, n: c.messages.fetch_file(bad, 0),
        lambda c, bad, n: c.messages.file_url(bad, 0),
        lambda c, bad, n: c.messages.fetch_file("c", n),
        lambda c, bad, n: c.messages.count_files("c", run_number=n),
        lambda c, bad, n: c.reruns.history(bad),
        lambda c, bad, n: c.reruns.messages(bad),
        lambda c, bad, n: c.reruns.messages("c", run_number=n),
        lambda c, bad, n: c.reruns.initiate(bad, "g"),
        lambda c, bad, n: c.reruns.initiate("c", bad),
        lambda c, bad, n: c.reruns.wait(bad, 1),
        lambda c, bad, n: c.reruns.wait("c", n),
        lambda c, bad, n: c.customer_groups.create(bad),
        lambda c, bad, n: c.customer_groups.update(bad, name="x"),
        lambda c, bad, n: c.customer_groups.delete(bad),
        lambda c, bad, n: c.profile_fields.create(bad, "string"),
        lambda c, bad, n: c.profile_fields.create("f", bad),
        lambda c, bad, n: c.profile_fields.delete(bad),
        lambda c, bad, n: c.customers.check(bad, customers=[{}]),
        lambda c, bad, n: c.customers.count_pages(bad),
        lambda c, bad, n: c.customers.count_pages("g", page_size=n),
        lambda c, bad, n: c.customers.delete([bad]),
        lambda c, bad, n: c.customers.update(bad),
    ],
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bad=BAD_IDS, n=BAD_NUMS)
async def test_bad_arguments_are_refused_before_any_request(
    client: Client, emulator: Emulator, call: Any, bad: Any, n: Any
) -> None:
    before = sum(emulator.counts.values())
    with pytest.raises((ValueError, TypeError)):
        await call(client, bad, n)
    assert sum(emulator.counts.values()) == before


@settings(max_examples=40, deadline=None)
@given(
    export_type=st.text(max_size=5),
    concurrency=BAD_NUMS | st.just(0),
    file_nums=st.one_of(st.just("012"), st.lists(BAD_NUMS, min_size=1, max_size=3)),
)
def test_bad_stream_arguments_are_refused_at_once(
    export_type: str, concurrency: Any, file_nums: Any
) -> None:
    client = Client("https://api.example.com", email="e", password="p", api_code="c")
    for kwargs in (
        {"export_type": export_type},
        {"concurrency": concurrency},
        {"file_nums": file_nums},
    ):
        if kwargs.get("export_type") in ("utf8", "json", "url"):
            continue
        with pytest.raises((ValueError, TypeError)):
            client.messages.stream("campaign", **kwargs)
