"""The emulator's rerun engine: compare groups, start run N+1, finish it later; JSON views.

Rules of this file:
1. Works on `State` only, no HTTP: the handler checks the request and answers errors.
2. Initiate is one atomic step (CONTRACT §5): archive the current run's active messages, open
   run N+1 as `Processing`, set the campaign status from the segment comparison (new segments:
   `Ready for review`; all matched: `Ready to publish`) and queue the job.
3. The job is due `state.rerun_delay` seconds later on the emulator clock. It writes the new
   run's messages, one per customer of the new group (a snapshot taken at initiate): copied
   from the previous run for a matched segment when that customer had one, generated
   otherwise; it counts the previous run's messages of orphaned segments as archived, and
   completes the run with the status chosen at initiate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._wire import RUN_PROCESSING_STATUS
from ._state import Campaign, CustomerGroup, Message, Run, State, iso, make_id

FOR_REVIEW = "Ready for review"
TO_PUBLISH = "Ready to publish"
PUBLISHED = "Published"
NOT_PUBLISHED = "Only Published campaigns can be rerun"
MESSAGES_NOT_PUBLISHED = "All campaign messages must be published before initiating a rerun"
SUMMARY_MESSAGE_KEYS = ("reused_message_count", "generated_message_count", "archived_message_count")


@dataclass(frozen=True)
class Comparison:
    matched: frozenset[str]
    new: frozenset[str]
    orphaned: frozenset[str]

    def counts(self) -> dict[str, int]:
        return {
            "matched_count": len(self.matched),
            "new_count": len(self.new),
            "orphaned_count": len(self.orphaned),
        }


def compare(old: Iterable[str], new: Iterable[str]) -> Comparison:
    before, after = frozenset(old), frozenset(new)
    return Comparison(before & after, after - before, before - after)


def run_messages(campaign: Campaign, run_number: int) -> list[Message]:
    return [m for m in campaign.messages if m.run_number == run_number]


def active_messages(campaign: Campaign) -> list[Message]:
    return [m for m in run_messages(campaign, campaign.current_run) if not m.is_archived]


def precondition_failure(campaign: Campaign) -> str | None:
    """The documented 400 message when the campaign cannot be rerun now, else None."""
    if campaign.status.casefold() != PUBLISHED.casefold():
        return NOT_PUBLISHED
    if any(m.status.casefold() != PUBLISHED.casefold() for m in active_messages(campaign)):
        return MESSAGES_NOT_PUBLISHED
    return None


def run_segments(campaign: Campaign, run: Run) -> set[str]:
    return set(run.segments) or {m.segment for m in run_messages(campaign, run.run_number)}


def start_rerun(
    state: State, campaign: Campaign, group: CustomerGroup, *, created_by: str
) -> dict[str, Any]:
    """Initiate (rule 2); the documented response body."""
    previous = campaign.run()
    assert previous is not None
    now = state.clock.now()
    archived = active_messages(campaign)
    for message in archived:
        message.is_archived, message.archived_at = True, now
    comparison = compare(run_segments(campaign, previous), group.segments())
    status = FOR_REVIEW if comparison.new else TO_PUBLISH
    number = max(campaign.runs) + 1
    run = Run(
        run_number=number,
        rerun_id=str(uuid.uuid4()),
        customer_group_id=group.customer_group_id,
        customer_group_name=group.name,
        segments_count=len(group.segments()),
        status=RUN_PROCESSING_STATUS,
        started_at=now,
        completed_at=None,
        created_by=created_by,
        comparison=comparison.counts(),
        segments=tuple(sorted(group.segments())),
    )
    campaign.runs[number] = run
    campaign.current_run = number
    campaign.status = campaign.stage = status
    customers = [
        (c.customer_id, c.segment, str(c.profile.get("first_name", "there")))
        for c in group.customers.values()
    ]
    job = state.schedule(
        state.rerun_delay,
        lambda: _finish(campaign, run, previous.run_number, comparison, customers, status),
    )
    run.due_at = job.due_at
    return {
        "success": True,
        "rerun_id": run.rerun_id,
        "run_number": number,
        "campaign_status": status,
        "job_uid": str(uuid.uuid4()),
        "archived_count": len(archived),
        "comparison": comparison.counts(),
        "message": "Campaign rerun initiated successfully",
    }


def _finish(
    campaign: Campaign,
    run: Run,
    previous_number: int,
    comparison: Comparison,
    customers: list[tuple[str, str, str]],
    status: str,
) -> None:
    """The processing job (rule 3)."""
    previous = {(m.customer_id, m.segment): m for m in run_messages(campaign, previous_number)}
    reused = generated = 0
    for customer_id, segment, first_name in customers:
        source = previous.get((customer_id, segment)) if segment in comparison.matched else None
        if source is not None:
            text, reused = source.message, reused + 1
        else:
            text, generated = _generated_text(first_name, segment), generated + 1
        campaign.messages.append(_new_message(campaign, run, customer_id, segment, text, source))
    orphaned = sum(1 for m in previous.values() if m.segment in comparison.orphaned)
    run.comparison.update(
        reused_message_count=reused,
        generated_message_count=generated,
        archived_message_count=orphaned,
    )
    run.status = status
    run.completed_at = run.due_at  # finished when it was due, however late it is looked at
    run.due_at = None


def _new_message(
    campaign: Campaign,
    run: Run,
    customer_id: str,
    segment: str,
    text: str,
    source: Message | None,
) -> Message:
    stage = TO_PUBLISH if source is not None else FOR_REVIEW
    return Message(
        message_id=make_id("message", campaign.campaign_id, run.run_number, customer_id),
        customer_id=customer_id,
        run_number=run.run_number,
        segment=segment,
        message=text,
        review_status="Approved" if source is not None else "Pending review",
        approval_stage=stage,
        status=stage,
    )


def _generated_text(first_name: str, segment: str) -> str:
    return f"{first_name}, something new for {segment}: this season's picks, chosen for you ✨"


# -- JSON views ---------------------------------------------------------------------------------


def history_entry(campaign: Campaign, run: Run) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "matched_count": 0,
        "new_count": run.segments_count if run.synthesised else 0,
        "orphaned_count": 0,
        "reused_message_count": 0,
        "generated_message_count": (
            len(run_messages(campaign, run.run_number)) if run.synthesised else 0
        ),
        "archived_message_count": 0,
        **run.comparison,
    }
    if run.due_at is not None:  # still processing: message counts are not known yet
        summary.update(dict.fromkeys(SUMMARY_MESSAGE_KEYS))
    return {
        "rerun_id": run.rerun_id,
        "campaign_id": campaign.campaign_id,
        "run_number": run.run_number,
        "customer_group_id": run.customer_group_id,
        "customer_group_name": run.customer_group_name,
        "segments_count": run.segments_count,
        "status": run.status,
        "started_at": iso(run.started_at),
        "completed_at": None if run.completed_at is None else iso(run.completed_at),
        "created_by": run.created_by,
        "comparison_summary": summary,
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "customer_id": message.customer_id,
        "run_number": message.run_number,
        "segment": {"segment_id": make_id("segment", message.segment), "name": message.segment},
        "message": message.message,
        "review_status": message.review_status,
        "approval_stage": message.approval_stage,
        "status": message.status,
        "is_archived": message.is_archived,
        "archived_at": None if message.archived_at is None else iso(message.archived_at),
    }
