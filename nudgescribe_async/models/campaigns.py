"""Campaigns and their statuses."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from .._wire import RUN_PROCESSING_STATUS


class CampaignStatus(str, enum.Enum):
    """A campaign's (or run's) status. Compared case-insensitively; unknown values stay `str`.

    The docs write `Ready to publish` and `Ready to Publish` for the same state. `PROCESSING`
    is the status of a rerun still being processed (a name the docs do not fix).
    """

    READY_FOR_REVIEW = "Ready for review"
    READY_TO_PUBLISH = "Ready to publish"
    PUBLISHED = "Published"
    PROCESSING = RUN_PROCESSING_STATUS

    @classmethod
    def _missing_(cls, value: object) -> CampaignStatus | None:
        if isinstance(value, str):
            folded = value.strip().casefold()
            for member in cls:
                if member.value.casefold() == folded:
                    return member
        return None

    def __str__(self) -> str:
        return self.value


def status_of(value: CampaignStatus | str | None) -> CampaignStatus | str | None:
    """A known status as the enum, anything else as the string it was."""
    if value is None or isinstance(value, CampaignStatus):
        return value
    try:
        return CampaignStatus(value)
    except ValueError:
        return value


def same_status(a: CampaignStatus | str | None, b: CampaignStatus | str | None) -> bool:
    """Case-insensitive status comparison that also works for unknown statuses."""
    if a is None or b is None:
        return a is b
    return str(a).strip().casefold() == str(b).strip().casefold()


@attrs.frozen
class Campaign:
    """One campaign, flattened out of its workspace."""

    campaign_id: str
    campaign_name: str | None = None
    status: CampaignStatus | str | None = None
    stage: CampaignStatus | str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    published_at: dt.datetime | None = None
    workspace_id: str | None = None
    workspace_name: str | None = None

    @property
    def name(self) -> str | None:
        return self.campaign_name
