from __future__ import annotations

import datetime as dt

import pytest

from nudgescribe_async import Campaign, CampaignStatus, Client, ResponseDecodeError
from nudgescribe_async.resources.campaigns import flatten_workspaces
from nudgescribe_async.testing import Emulator


async def test_campaigns_are_flattened_across_workspaces_with_their_workspace(
    client: Client, emulator: Emulator
) -> None:
    campaigns = await client.campaigns.list()
    by_name = {c.campaign_name: c for c in campaigns}
    assert {"Spring Sale", "Summer Preview", "Weekend Getaways"} <= set(by_name)
    assert by_name["Weekend Getaways"].workspace_name == "Acme Travel"
    assert by_name["Spring Sale"].workspace_name == "Acme Retail"
    assert by_name["Spring Sale"].campaign_id == emulator.campaign_id("Spring Sale")
    assert by_name["Summer Preview"].status is CampaignStatus.READY_TO_PUBLISH
    assert by_name["Spring Sale"].start_date == dt.date(2026, 3, 1)


async def test_date_window_filters_by_publication_date(client: Client) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    recent = await client.campaigns.list(start_date=today - dt.timedelta(days=1))
    assert recent
    assert all(c.status is CampaignStatus.PUBLISHED for c in recent)
    assert await client.campaigns.list(end_date=dt.date(2000, 1, 1)) == []


async def test_reversed_date_window_is_refused_before_sending(
    client: Client, emulator: Emulator
) -> None:
    with pytest.raises(ValueError, match="before start_date"):
        await client.campaigns.list(start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 3, 1))
    assert emulator.count("/v1/campaign/all") == 0


def test_bare_list_of_workspaces_and_unknown_status_are_accepted() -> None:
    data = [
        {
            "workspace_id": "w1",
            "workspace_name": "W",
            "campaigns": [{"campaign_id": "c1", "status": "Archived", "new_field": 1}],
        }
    ]
    [campaign] = flatten_workspaces(data)
    assert campaign == Campaign(
        campaign_id="c1", status="Archived", workspace_id="w1", workspace_name="W"
    )


def test_status_compares_case_insensitively() -> None:
    assert CampaignStatus("Ready to Publish") is CampaignStatus.READY_TO_PUBLISH
    assert CampaignStatus("ready FOR review") is CampaignStatus.READY_FOR_REVIEW


@pytest.mark.parametrize(
    "data",
    [
        {"workspaces": "nope"},
        {"workspaces": [{"campaigns": [{"campaign_name": "no id"}]}]},
        {"workspaces": [{"campaigns": [{"campaign_id": "c", "start_date": "garbage"}]}]},
        42,
    ],
)
def test_unusable_campaign_list_is_a_decode_error_naming_the_endpoint(data: object) -> None:
    with pytest.raises(ResponseDecodeError, match="/v1/campaign/all"):
        flatten_workspaces(data)
