"""client.messages: publish, count, wait, fetch one file (utf8 | json | url), pre-signed URLs."""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

from nudgescribe_async import (
    Client,
    MessageRecord,
    NotFoundError,
    QuotaExceededError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    WaitTimeoutError,
)
from nudgescribe_async._export import JsonRowLimitWarning
from nudgescribe_async.testing import Emulator

FETCH = "/v1/messages/fetch"
PUBLISH = "/v1/messages/publish"


def expected_rows(emulator: Emulator, campaign_id: str, file_num: int) -> list[tuple[str, str]]:
    run = emulator.state.campaigns[campaign_id].run()
    assert run is not None and run.export is not None
    return run.export.rows_for(file_num)


async def test_publish_then_wait_sees_every_file(client: Client, emulator: Emulator) -> None:
    cid = emulator.campaign_id("Summer Preview")
    assert await client.messages.count_files(cid) == 0
    result = await client.messages.publish(cid)
    assert result.message == "Messages created successfully"
    assert result.key is not None and cid in result.key
    assert (
        await client.messages.wait_for_export(cid, poll_interval=0.02, settle_time=0.3, timeout=10)
        == 2
    )
    campaign = next(c for c in await client.campaigns.list() if c.campaign_id == cid)
    assert str(campaign.status) == "Published"


async def test_wait_for_an_export_that_never_comes_times_out(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Autumn Review")
    with pytest.raises(WaitTimeoutError, match="not complete") as caught:
        await client.messages.wait_for_export(cid, poll_interval=0.02, timeout=0.2)
    assert isinstance(caught.value, TimeoutError)


async def test_publish_is_never_retried(client: Client, emulator: Emulator) -> None:
    emulator.faults.fail(PUBLISH, 502, times=None)
    with pytest.raises(ServerError):
        await client.messages.publish(emulator.campaign_id("Summer Preview"))
    assert emulator.count(PUBLISH) == 1


async def test_quota_exceeded_on_publish(client: Client, emulator: Emulator) -> None:
    emulator.set_quota(0)
    with pytest.raises(QuotaExceededError) as caught:
        await client.messages.publish(emulator.campaign_id("Summer Preview"))
    assert caught.value.status == 503
    assert caught.value.endpoint == PUBLISH
    assert emulator.count(PUBLISH) == 1


async def test_fetch_file_utf8_returns_every_tricky_row(client: Client, emulator: Emulator) -> None:
    cid = emulator.campaign_id("Spring Sale")
    records = await client.messages.fetch_file(cid, 1)
    assert [(r.customer_id, r.message) for r in records] == expected_rows(emulator, cid, 1)
    assert [r.row for r in records] == list(range(len(records)))
    assert {r.file_num for r in records} == {1}
    joined = "".join(r.message for r in records)
    for tricky in (",", '"', "\n", "\r\n", "🎉"):
        assert tricky in joined


async def test_fetch_file_json_matches_utf8(client: Client, emulator: Emulator) -> None:
    cid = emulator.campaign_id("Spring Sale")
    as_json = await client.messages.fetch_file(cid, 0, export_type="json")
    as_csv = await client.messages.fetch_file(cid, 0)
    assert as_json == as_csv


async def test_json_file_of_exactly_1000_rows_warns_that_it_may_be_cut(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.add_campaign("Big Files", files=1, rows=1500)
    with pytest.warns(JsonRowLimitWarning, match="1000"):
        records = await client.messages.fetch_file(cid, 0, export_type="json")
    assert len(records) == 1000
    assert len(await client.messages.fetch_file(cid, 0)) == 1500


async def test_fetch_file_cut_midway_is_fetched_again_without_repeats(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.add_campaign("Cut", files=1, rows=400, message_length=200)
    emulator.faults.truncate(FETCH, times=2, after_bytes=30_000)
    records = await client.messages.fetch_file(cid, 0)
    assert [(r.customer_id, r.message) for r in records] == expected_rows(emulator, cid, 0)
    assert [r.row for r in records] == list(range(400))
    assert emulator.count(FETCH) == 3


async def test_extra_csv_columns_are_kept_by_name(client: Client, emulator: Emulator) -> None:
    records = await client.messages.fetch_file(emulator.campaign_id("Weekend Getaways"), 0)
    assert records[0].extra == {"channel": "channel-0"}


async def test_file_outside_the_export_is_not_found(client: Client, emulator: Emulator) -> None:
    with pytest.raises(NotFoundError, match="File not found"):
        await client.messages.fetch_file(emulator.campaign_id("Spring Sale"), 3)


async def test_url_export_sends_no_api_credentials_to_storage(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Spring Sale")
    records = await client.messages.fetch_file(cid, 2, export_type="url")
    assert [(r.customer_id, r.message) for r in records] == expected_rows(emulator, cid, 2)
    [headers] = emulator.storage_headers
    lowered = {k.lower() for k in headers}
    assert not lowered & {"authorization", "x-auth-context", "x-api-key", "x-ip"}


async def test_expired_presigned_url_is_replaced_once(client: Client, emulator: Emulator) -> None:
    cid = emulator.campaign_id("Spring Sale")
    account = emulator.credentials.account_id
    emulator.faults.fail(f"/storage/{account}/{cid}/1/0.csv", 403, times=1, message="expired")
    records = await client.messages.fetch_file(cid, 0, export_type="url")
    assert len(records) == 50
    assert emulator.count(FETCH) == 2  # a fresh URL was asked for once


async def test_presigned_url_repr_hides_the_signature(client: Client, emulator: Emulator) -> None:
    link = await client.messages.file_url(emulator.campaign_id("Spring Sale"), 0)
    assert "signature=" in link.url
    signature = link.url.split("signature=")[1]
    assert signature not in repr(link)
    assert signature not in str(link)
    assert link.expires_at is not None
    assert link.expires_at.tzinfo is not None


async def test_url_with_run_number_is_refused_before_sending(
    client: Client, emulator: Emulator
) -> None:
    with pytest.raises(ValueError, match="run_number"):
        await client.messages.fetch_file("c", 0, export_type="url", run_number=1)
    with pytest.raises(ValueError, match="run_number"):
        client.messages.stream("c", export_type="url", run_number=2)
    with pytest.raises(ValueError, match="export_type"):
        await client.messages.fetch_file("c", 0, export_type="xml")  # type: ignore[arg-type]
    assert sum(emulator.counts.values()) == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.messages.fetch_file("", 0), ValueError),
        (lambda c: c.messages.fetch_file(123, 0), TypeError),
        (lambda c: c.messages.fetch_file("c", -1), ValueError),
        (lambda c: c.messages.fetch_file("c", 1.5), TypeError),
        (lambda c: c.messages.count_files("c", run_number=0), ValueError),
        (lambda c: c.messages.wait_for_export("c", timeout=0), ValueError),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    client: Client, emulator: Emulator, call: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await call(client)  # type: ignore[operator]
    assert sum(emulator.counts.values()) == 0


# -- decoding at the transport edge ------------------------------------------------------------

BASE = "https://api.example.test"


def _mocked_client() -> Client:
    return Client(
        BASE, email="e@example.com", password="pw", api_code="c", retry=RetryPolicy.no_wait()
    )


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"customer_id,text\r\na,b\r\n", "no message column"),
        (b'customer_id,message\r\na,"unterminated\r\n', "malformed CSV"),
        (b"customer_id,message\r\na,b,c\r\n", "3 fields"),
        (b"", "empty"),
        (b"customer_id,message\r\n\xff\xfe,x\r\n", "malformed CSV"),
    ],
)
async def test_bad_csv_is_a_decode_error_naming_campaign_and_file(body: bytes, match: str) -> None:
    with aioresponses() as mock:
        mock.post(BASE + "/v1/auth", payload={"access_token": "t"})
        mock.post(BASE + FETCH, body=body, content_type="text/csv")
        async with _mocked_client() as client:
            with pytest.raises(ResponseDecodeError, match=match) as caught:
                await client.messages.fetch_file("camp-1", 4)
    assert "camp-1" in str(caught.value)
    assert "file 4" in str(caught.value)
    assert caught.value.endpoint == FETCH


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"data": "customer_id,message\nc1,hi\n"}, [MessageRecord("c1", "hi", 0, 0)]),
        ("customer_id,message\nc1,hi\n", [MessageRecord("c1", "hi", 0, 0)]),
    ],
)
async def test_utf8_export_wrapped_in_json_is_accepted(
    payload: object, expected: list[MessageRecord]
) -> None:
    with aioresponses() as mock:
        mock.post(BASE + "/v1/auth", payload={"access_token": "t"})
        mock.post(BASE + FETCH, payload=payload)  # type: ignore[arg-type]
        async with _mocked_client() as client:
            assert await client.messages.fetch_file("c", 0) == expected


async def test_presigned_url_to_a_plain_http_host_is_refused() -> None:
    with aioresponses() as mock:
        mock.post(BASE + "/v1/auth", payload={"access_token": "t"})
        mock.post(BASE + FETCH, payload={"url": "http://evil.example.com/f.csv?signature=s"})
        async with _mocked_client() as client:
            with pytest.raises(ResponseDecodeError, match="not https") as caught:
                await client.messages.file_url("c", 0)
    assert "signature=s" not in str(caught.value)


@pytest.mark.parametrize("payload", [{"num_files": 3}, {"pages": 3}, {"count": 3}, 3])
async def test_file_count_accepts_each_documented_shape(payload: object) -> None:
    with aioresponses() as mock:
        mock.post(BASE + "/v1/auth", payload={"access_token": "t"})
        mock.post(BASE + "/v1/messages/pages", payload=payload)  # type: ignore[arg-type]
        async with _mocked_client() as client:
            assert await client.messages.count_files("c") == 3
