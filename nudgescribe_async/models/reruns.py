"""Campaign reruns: run history, run messages, a started rerun, and watch events.

Rules of this file:
1. Plain attrs data; decoding lives in `resources/reruns.py`, decisions in `_polling.py`.
2. Statuses are open enums (`CampaignStatus | str`): an unknown status stays the string it was.
3. A run is finished when its status is not a processing one and either `completed_at` is set
   or it is `Published` (a synthesised Run #1 may carry no `completed_at`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from .._errors import NudgescribeError
from .._wire import RUN_PROCESSING_ALIASES
from .campaigns import CampaignStatus, same_status


@attrs.frozen
class ComparisonSummary:
    """How the new customer group compares with the previous run's.

    Segment counts: `matched_count` (in both groups), `new_count` (only in the new group, to
    generate), `orphaned_count` (only in the old one). The message counts are `None` where
    the server did not report them: the `comparison` of a just-started rerun, or a run still
    processing.
    """

    matched_count: int = 0
    new_count: int = 0
    orphaned_count: int = 0
    reused_message_count: int | None = None
    generated_message_count: int | None = None
    archived_message_count: int | None = None


@attrs.frozen
class RunHistoryEntry:
    """One run of a campaign. `completed_at` is `None` while the run is processing."""

    campaign_id: str
    run_number: int
    rerun_id: str | None = None
    customer_group_id: str | None = None
    customer_group_name: str | None = None
    segments_count: int | None = None
    status: CampaignStatus | str | None = None
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    created_by: str | None = None
    comparison_summary: ComparisonSummary | None = None

    @property
    def is_processing(self) -> bool:
        return is_processing_status(self.status)

    @property
    def is_finished(self) -> bool:
        """True once processing is over (see the module rules)."""
        if self.is_processing:
            return False
        return self.completed_at is not None or same_status(self.status, CampaignStatus.PUBLISHED)


def is_processing_status(status: CampaignStatus | str | None) -> bool:
    """Whether `status` names a run still being processed (case-insensitive)."""
    if status is None:
        return False
    return str(status).strip().casefold() in RUN_PROCESSING_ALIASES


@attrs.frozen
class RunMessage:
    """One message of a run. `segment` is the server's segment object; unknown keys are kept
    in `extra`."""

    message_id: str | None = None
    customer_id: str | None = None
    run_number: int | None = None
    # Mappings take no part in the hash, so a message stays hashable.
    segment: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    message: str | None = None
    review_status: str | None = None
    approval_stage: CampaignStatus | str | None = None
    status: CampaignStatus | str | None = None
    is_archived: bool = False
    archived_at: dt.datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class RerunStarted:
    """The answer to `initiate`: the new run's number and how the groups compare."""

    rerun_id: str
    run_number: int
    campaign_status: CampaignStatus | str | None = None
    job_uid: str | None = None
    archived_count: int | None = None
    comparison: ComparisonSummary | None = None
    message: str | None = None


@attrs.frozen
class RunUpdate:
    """A change in a watched campaign's latest run, or a failure to read it.

    The first observation of a campaign is a change from `None`. When polling a campaign
    fails, one update with `error` set is sent for the failure streak; the first success
    after it is always sent (with `error=None`), so a dashboard can clear its error badge.
    """

    campaign_id: str
    run_number: int | None
    old_status: CampaignStatus | str | None
    new_status: CampaignStatus | str | None
    entry: RunHistoryEntry | None = None
    error: NudgescribeError | None = None
