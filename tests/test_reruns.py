"""Campaign reruns through `client.reruns` against the emulator, and the pure decoders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nudgescribe_async import (
    BadRequestError,
    CampaignStatus,
    Client,
    ComparisonSummary,
    NotFoundError,
    RerunPreconditionError,
    RerunPreconditionReason,
    RerunStarted,
    ResponseDecodeError,
    RunHistoryEntry,
    ServerError,
)
from nudgescribe_async.resources.reruns import decode_history, decode_messages, decode_started
from nudgescribe_async.testing import Emulator

HISTORY = "/v1/campaign/rerun/history"
MESSAGES = "/v1/campaign/rerun/messages"
INITIATE = "/v1/campaign/rerun/initiate"
UTC = dt.timezone.utc


def group_id(emulator: Emulator, name: str, account_id: str | None = None) -> str:
    owner = account_id or emulator.credentials.account_id
    return next(
        g.customer_group_id
        for g in emulator.state.groups.values()
        if g.name == name and g.account_id == owner
    )


async def publish(client: Client, campaign_id: str) -> None:
    body = {"campaign_id": campaign_id}
    await client.request_json("POST", "/v1/messages/publish", body, idempotent=False)


async def export_rows(client: Client, campaign_id: str, **extra: Any) -> list[dict[str, Any]]:
    body = {"campaign_id": campaign_id, **extra}
    pages = await client.request_json("POST", "/v1/messages/pages", body, idempotent=True)
    rows: list[dict[str, Any]] = []
    for file_num in range(pages["num_files"]):
        rows += await client.request_json(
            "POST",
            "/v1/messages/fetch",
            {**body, "file_num": file_num, "export_type": "json"},
            idempotent=True,
        )
    return rows


# -- the lifecycle ----------------------------------------------------------------------------


async def test_publish_rerun_wait_publish_exports_the_new_run_and_keeps_the_old(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Loyalty Nudges")
    await publish(client, cid)
    old_messages = await client.reruns.messages(cid)

    started = await client.reruns.initiate(cid, group_id(emulator, "New Signups"))

    assert started.run_number == 2
    assert started.campaign_status is CampaignStatus.READY_FOR_REVIEW
    assert started.archived_count == len(old_messages) == 9
    assert started.comparison == ComparisonSummary(matched_count=2, new_count=1, orphaned_count=1)
    assert started.job_uid
    processing = await client.reruns.history(cid)
    assert [e.run_number for e in processing] == [2, 1]
    assert processing[0].status is CampaignStatus.PROCESSING
    assert processing[0].completed_at is None
    assert not processing[0].is_finished

    done = await client.reruns.wait(cid, 2, timeout=10, poll_interval=0.02)

    assert done.status is CampaignStatus.READY_FOR_REVIEW
    assert done.rerun_id == started.rerun_id
    assert done.customer_group_name == "New Signups"
    assert done.started_at is not None
    assert done.completed_at is not None
    assert done.completed_at.tzinfo is not None
    assert done.completed_at >= done.started_at
    assert done.comparison_summary == ComparisonSummary(2, 1, 1, 6, 3, 3)

    new_messages = await client.reruns.messages(cid)
    assert {m.run_number for m in new_messages} == {2}
    assert not any(m.is_archived for m in new_messages)
    old_text = {m.customer_id: m.message for m in old_messages}
    reused = [m for m in new_messages if m.customer_id in old_text]
    assert len(reused) == 6
    assert all(m.message == old_text[m.customer_id] for m in reused)
    archived = await client.reruns.messages(cid, run_number=1)
    assert len(archived) == 9
    assert all(m.is_archived and m.archived_at is not None for m in archived)

    await publish(client, cid)
    emulator.clock.advance(1)  # past the export's ready delay, instead of sleeping

    current = await export_rows(client, cid)
    assert {(r["customer_id"], r["message"]) for r in current} == {
        (m.customer_id, m.message) for m in new_messages
    }
    previous = await export_rows(client, cid, run_number=1)
    assert {(r["customer_id"], r["message"]) for r in previous} == {
        (m.customer_id, m.message) for m in old_messages
    }
    [latest, _] = await client.reruns.history(cid)
    assert latest.status is CampaignStatus.PUBLISHED
    assert all(m.status is CampaignStatus.PUBLISHED for m in await client.reruns.messages(cid))


async def test_rerun_whose_segments_all_match_is_ready_to_publish_with_nothing_generated(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Loyalty Nudges")
    started = await client.reruns.initiate(cid, group_id(emulator, "Loyal Subset"))
    assert started.campaign_status is CampaignStatus.READY_TO_PUBLISH

    done = await client.reruns.wait(cid, started.run_number, timeout=10, poll_interval=0.02)

    assert done.status is CampaignStatus.READY_TO_PUBLISH
    assert done.comparison_summary == ComparisonSummary(2, 0, 1, 6, 0, 3)


async def test_never_rerun_campaign_has_a_synthesised_first_run(
    client: Client, emulator: Emulator
) -> None:
    [entry] = await client.reruns.history(emulator.campaign_id("Spring Sale"))
    assert entry.run_number == 1
    assert entry.status is CampaignStatus.PUBLISHED
    assert entry.is_finished


async def test_unknown_run_number_of_messages_is_not_found(
    client: Client, emulator: Emulator
) -> None:
    with pytest.raises(NotFoundError):
        await client.reruns.messages(emulator.campaign_id("Loyalty Nudges"), run_number=7)


# -- errors -------------------------------------------------------------------------------------


async def test_rerun_of_an_unpublished_campaign_is_refused_with_its_reason(
    client: Client, emulator: Emulator
) -> None:
    with pytest.raises(RerunPreconditionError) as caught:
        await client.reruns.initiate(
            emulator.campaign_id("Summer Preview"), group_id(emulator, "New Signups")
        )
    assert caught.value.reason is RerunPreconditionReason.CAMPAIGN_NOT_PUBLISHED
    assert caught.value.status == 400


async def test_rerun_with_an_unpublished_message_is_refused_with_its_reason(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Loyalty Nudges")
    emulator.state.campaigns[cid].messages[0].status = "Ready for review"
    with pytest.raises(RerunPreconditionError) as caught:
        await client.reruns.initiate(cid, group_id(emulator, "New Signups"))
    assert caught.value.reason is RerunPreconditionReason.MESSAGES_NOT_PUBLISHED
    assert [e.run_number for e in await client.reruns.history(cid)] == [1]


async def test_second_rerun_before_publishing_the_first_is_refused(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Loyalty Nudges")
    await client.reruns.initiate(cid, group_id(emulator, "Loyal Subset"))
    with pytest.raises(RerunPreconditionError) as caught:
        await client.reruns.initiate(cid, group_id(emulator, "New Signups"))
    assert caught.value.reason is RerunPreconditionReason.CAMPAIGN_NOT_PUBLISHED


async def test_unknown_group_and_another_accounts_group_are_not_found(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Loyalty Nudges")
    other = emulator.add_account("other@example.com")
    foreign = group_id(emulator, "other@example.com group", other.account_id)
    for gid in ("no-such-group", foreign):
        with pytest.raises(NotFoundError, match="Customer group not found"):
            await client.reruns.initiate(cid, gid)
    assert [e.run_number for e in await client.reruns.history(cid)] == [1]


async def test_unknown_campaign_is_not_found_everywhere(client: Client, emulator: Emulator) -> None:
    with pytest.raises(NotFoundError, match="Campaign not found"):
        await client.reruns.initiate("no-such-campaign", group_id(emulator, "New Signups"))
    with pytest.raises(NotFoundError):
        await client.reruns.history("no-such-campaign")
    with pytest.raises(NotFoundError):
        await client.reruns.messages("no-such-campaign")


async def test_initiate_is_sent_once_even_when_the_server_fails(
    client: Client, emulator: Emulator
) -> None:
    emulator.faults.fail(INITIATE, 500)
    with pytest.raises(ServerError):
        await client.reruns.initiate(
            emulator.campaign_id("Loyalty Nudges"), group_id(emulator, "New Signups")
        )
    assert emulator.count(INITIATE) == 1


async def test_history_and_messages_are_retried_after_server_errors(
    client: Client, emulator: Emulator
) -> None:
    cid = emulator.campaign_id("Loyalty Nudges")
    emulator.faults.fail(HISTORY, 503, times=2)
    emulator.faults.fail(MESSAGES, 502, times=1)
    assert len(await client.reruns.history(cid)) == 1
    assert len(await client.reruns.messages(cid)) == 9
    assert (emulator.count(HISTORY), emulator.count(MESSAGES)) == (3, 2)


async def test_emulator_answers_missing_fields_with_401(client: Client) -> None:
    with pytest.raises(BadRequestError, match="Missing required fields"):
        await client.request_json("POST", INITIATE, {"campaign_id": "x"}, idempotent=False)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.reruns.history(""), ValueError),
        (lambda c: c.reruns.history(None), TypeError),
        (lambda c: c.reruns.messages("c", run_number=0), ValueError),
        (lambda c: c.reruns.messages("c", run_number=True), TypeError),
        (lambda c: c.reruns.messages(42), TypeError),
        (lambda c: c.reruns.initiate("c", "  "), ValueError),
        (lambda c: c.reruns.initiate("c", 7), TypeError),
        (lambda c: c.reruns.wait("c", 0), ValueError),
        (lambda c: c.reruns.wait("c", "2"), TypeError),
        (lambda c: c.reruns.wait("c", 2, timeout=0), ValueError),
        (lambda c: c.reruns.wait("c", 2, poll_interval=-1), ValueError),
    ],
)
async def test_bad_arguments_are_refused_before_sending(
    client: Client, emulator: Emulator, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await call(client)
    assert sum(emulator.counts.values()) == 0


@pytest.mark.parametrize(
    ("ids", "options", "error"),
    [
        ("campaign-id", {}, TypeError),
        ([], {}, ValueError),
        (["a", ""], {}, ValueError),
        (["a"], {"concurrency": 0}, ValueError),
        (["a"], {"poll_interval": 0}, ValueError),
    ],
)
def test_bad_watch_arguments_are_refused_at_once(
    client: Client, ids: Any, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        client.reruns.watch(ids, **options)


# -- decoding (no network) ----------------------------------------------------------------------

DOC_HISTORY_EXAMPLE = {  # doc page 000, verbatim
    "rerun_id": "your-rerun-uudi",
    "campaign_id": "your-campaign-uuid",
    "run_number": 2,
    "customer_group_id": "your-customer-group-uuid",
    "customer_group_name": "Customer Group B",
    "segments_count": 12,
    "status": "Ready for review",
    "started_at": "2026-03-09T07:44:30.404Z",
    "completed_at": "2026-03-09T07:44:30.404Z",
    "created_by": "Jane Doe",
    "comparison_summary": {
        "matched_count": 8,
        "new_count": 4,
        "orphaned_count": 2,
        "reused_message_count": 8,
        "generated_message_count": 4,
        "archived_message_count": 2,
    },
}


def test_documented_history_example_is_parsed_field_by_field() -> None:
    [entry] = decode_history(DOC_HISTORY_EXAMPLE)
    assert entry.rerun_id == "your-rerun-uudi"
    assert entry.campaign_id == "your-campaign-uuid"
    assert entry.run_number == 2
    assert entry.customer_group_id == "your-customer-group-uuid"
    assert entry.customer_group_name == "Customer Group B"
    assert entry.segments_count == 12
    assert entry.status is CampaignStatus.READY_FOR_REVIEW
    assert entry.started_at == dt.datetime(2026, 3, 9, 7, 44, 30, 404000, tzinfo=UTC)
    assert entry.completed_at == dt.datetime(2026, 3, 9, 7, 44, 30, 404000, tzinfo=UTC)
    assert entry.created_by == "Jane Doe"
    summary = entry.comparison_summary
    assert summary is not None
    assert (summary.matched_count, summary.new_count, summary.orphaned_count) == (8, 4, 2)
    assert summary.reused_message_count == 8
    assert summary.generated_message_count == 4
    assert summary.archived_message_count == 2
    assert entry.is_finished


def _run(number: int, **fields: Any) -> dict[str, Any]:
    return {"campaign_id": "c", "run_number": number, "status": "Published", **fields}


@pytest.mark.parametrize("wrap", [None, "history", "runs", "data"])
def test_history_is_accepted_bare_or_wrapped_and_comes_newest_first(wrap: str | None) -> None:
    runs = [_run(1), _run(3, completed_at=None, status="Processing"), _run(2)]
    entries = decode_history(runs if wrap is None else {wrap: runs})
    assert [e.run_number for e in entries] == [3, 2, 1]
    assert entries[0].completed_at is None
    assert not entries[0].is_finished


def test_history_entry_without_campaign_id_takes_the_requested_one() -> None:
    [entry] = decode_history([{"run_number": 1}], campaign_id="asked-for")
    assert entry.campaign_id == "asked-for"


def test_statuses_compare_case_insensitively_and_unknown_ones_stay_strings() -> None:
    entries = decode_history(
        [
            _run(1, status="ready to PUBLISH"),
            _run(2, status="Archived", completed_at="2026-03-09T07:44:30Z"),
            _run(3, status="processing"),
        ]
    )
    assert [e.status for e in entries] == [
        CampaignStatus.PROCESSING,
        "Archived",
        CampaignStatus.READY_TO_PUBLISH,
    ]
    assert [e.is_finished for e in entries] == [False, True, False]


@pytest.mark.parametrize(
    "data",
    [
        42,
        "history",
        {"history": "nope"},
        [1, 2],
        [{"campaign_id": "c"}],
        [_run(1, started_at="yesterday")],
        [_run(1, comparison_summary={"matched_count": "many"})],
    ],
)
def test_malformed_history_is_a_decode_error_naming_the_endpoint(data: Any) -> None:
    with pytest.raises(ResponseDecodeError, match=HISTORY):
        decode_history(data)


@pytest.mark.parametrize("wrap", [None, "messages", "data"])
def test_run_messages_keep_unknown_keys_and_accept_a_bare_segment_name(wrap: str | None) -> None:
    item = {
        "message_id": "m1",
        "customer_id": "cust",
        "run_number": 2,
        "segment": "Loyal Regulars",
        "message": "Hi",
        "review_status": "Approved",
        "approval_stage": "ready to publish",
        "status": "Published",
        "is_archived": True,
        "archived_at": "2026-03-09T07:44:30.404Z",
        "channel": "email",
    }
    [message] = decode_messages([item] if wrap is None else {wrap: [item]})
    assert message.segment == {"name": "Loyal Regulars"}
    assert message.extra == {"channel": "email"}
    assert message.approval_stage is CampaignStatus.READY_TO_PUBLISH
    assert message.is_archived
    assert message.archived_at == dt.datetime(2026, 3, 9, 7, 44, 30, 404000, tzinfo=UTC)


@pytest.mark.parametrize("data", [{"messages": {}}, [3], [{"is_archived": "perhaps"}]])
def test_malformed_run_messages_are_a_decode_error_naming_the_endpoint(data: Any) -> None:
    with pytest.raises(ResponseDecodeError, match=MESSAGES):
        decode_messages(data)


def test_documented_initiate_response_is_parsed() -> None:
    started = decode_started(
        {
            "success": True,
            "rerun_id": "your-campaign-rerun-uuid",
            "run_number": 3,
            "campaign_status": "Ready for review",
            "job_uid": "your-job-uuid",
            "archived_count": 10,
            "comparison": {"matched_count": 8, "new_count": 4, "orphaned_count": 2},
            "message": "Campaign rerun initiated successfully",
        }
    )
    assert started == RerunStarted(
        rerun_id="your-campaign-rerun-uuid",
        run_number=3,
        campaign_status=CampaignStatus.READY_FOR_REVIEW,
        job_uid="your-job-uuid",
        archived_count=10,
        comparison=ComparisonSummary(8, 4, 2),
        message="Campaign rerun initiated successfully",
    )


@pytest.mark.parametrize("data", [[], {"success": False}, {"rerun_id": "r", "run_number": "x"}])
def test_unusable_initiate_response_is_a_decode_error(data: Any) -> None:
    with pytest.raises(ResponseDecodeError, match=INITIATE):
        decode_started(data)


@pytest.mark.parametrize(
    ("status", "completed", "finished"),
    [
        ("Processing", None, False),
        ("Processing", "2026-03-09T07:44:30Z", False),
        ("Ready for review", None, False),
        ("Ready for review", "2026-03-09T07:44:30Z", True),
        ("Published", None, True),
        (None, None, False),
    ],
)
def test_a_run_is_finished_once_it_completed_and_no_longer_processes(
    status: str | None, completed: str | None, finished: bool
) -> None:
    [entry] = decode_history([_run(1, status=status, completed_at=completed)])
    assert isinstance(entry, RunHistoryEntry)
    assert entry.is_finished is finished
