"""Deterministic demo data: workspaces, campaigns in several statuses, groups with segments."""

from __future__ import annotations

from typing import Any

from ._state import (
    Account,
    Campaign,
    Customer,
    CustomerGroup,
    Message,
    Run,
    State,
    Workspace,
    make_id,
)

SEGMENTS = ("Bargain Hunters", "Loyal Regulars", "Weekend Browsers", "New Parents")


def add_campaign(
    state: State,
    account: Account,
    workspace: Workspace,
    name: str,
    *,
    status: str = "Published",
    files: int = 2,
    rows: int = 50,
    message_length: int = 80,
    tricky: bool = True,
    published: bool = True,
    extra_columns: tuple[str, ...] = (),
) -> Campaign:
    """A campaign whose export is synthetic (`files` x `rows` messages, rendered on demand)."""
    campaign_id = make_id("campaign", account.account_id, name)
    now = state.clock.now()
    campaign = Campaign(
        campaign_id=campaign_id,
        account_id=account.account_id,
        workspace_id=workspace.workspace_id,
        name=name,
        status=status,
        stage=status,
        start_date="2026-03-01",
        end_date="2026-03-31",
        synthetic={
            "files": files,
            "rows": rows,
            "message_length": message_length,
            "tricky": tricky,
            "extra_columns": extra_columns,
        },
    )
    campaign.runs[1] = _first_run(campaign_id, now, status, SEGMENTS, group=None)
    state.campaigns[campaign_id] = campaign
    if published:
        export = state.publish(campaign)
        export.ready_after = export.spread = 0.0
        export.published_at = now - 3600
    campaign.status = campaign.stage = status
    return campaign


def _first_run(
    campaign_id: str,
    now: float,
    status: str,
    segments: tuple[str, ...],
    *,
    group: CustomerGroup | None,
) -> Run:
    """Run #1 of a seeded campaign, finished a day ago (the history synthesises it)."""
    return Run(
        run_number=1,
        rerun_id=make_id("run", campaign_id, 1),
        customer_group_id=group.customer_group_id if group else None,
        customer_group_name=group.name if group else None,
        segments_count=len(segments),
        status=status,
        started_at=now - 86400,
        completed_at=now - 86000,
        synthesised=True,
        segments=segments,
    )


def add_group(
    state: State,
    account: Account,
    workspace: Workspace,
    name: str,
    segments: tuple[str, ...],
    *,
    per_segment: int = 3,
) -> CustomerGroup:
    group = CustomerGroup(
        customer_group_id=make_id("group", account.account_id, name),
        account_id=account.account_id,
        workspace_id=workspace.workspace_id,
        name=name,
        description=f"{name} (demo)",
        created_at=state.clock.now() - 7 * 86400,
    )
    for segment in segments:
        for i in range(per_segment):
            cid = make_id("customer", account.account_id, segment, i)
            group.customers[cid] = Customer(
                cid, {"first_name": f"{segment.split()[0]} {i}", "segment": segment}, segment
            )
    state.groups[group.customer_group_id] = group
    return group


def add_group_campaign(
    state: State, account: Account, workspace: Workspace, name: str, group: CustomerGroup
) -> Campaign:
    """A Published campaign whose messages come from `group`'s customers (rerun-ready)."""
    campaign_id = make_id("campaign", account.account_id, name)
    now = state.clock.now()
    campaign = Campaign(
        campaign_id=campaign_id,
        account_id=account.account_id,
        workspace_id=workspace.workspace_id,
        name=name,
        status="Published",
        stage="Published",
        start_date="2026-02-01",
        end_date="2026-04-30",
    )
    for customer in group.customers.values():
        campaign.messages.append(
            Message(
                message_id=make_id("message", campaign_id, 1, customer.customer_id),
                customer_id=customer.customer_id,
                run_number=1,
                segment=customer.segment,
                message=f"{customer.profile['first_name']}, a note for {customer.segment}: "
                'our "thank you" offer, 15% off, ends Sunday 🎁',
            )
        )
    segments = tuple(sorted(group.segments()))
    campaign.runs[1] = _first_run(campaign_id, now, "Published", segments, group=group)
    state.campaigns[campaign_id] = campaign
    export = state.publish(campaign)
    export.ready_after = export.spread = 0.0
    return campaign


def seed_account(
    state: State, account: Account, *, seed: str, demo: bool, bulk: dict[str, Any]
) -> None:
    main = Workspace(
        make_id("workspace", account.account_id, "main"),
        account.account_id,
        "Acme Retail" if demo else f"{account.email} workspace",
    )
    state.workspaces[main.workspace_id] = main
    if not demo:
        add_campaign(state, account, main, f"{seed} campaign", files=1, rows=10)
        add_group(state, account, main, f"{seed} group", SEGMENTS[:2])
        return
    travel = Workspace(
        make_id("workspace", account.account_id, "travel"), account.account_id, "Acme Travel"
    )
    state.workspaces[travel.workspace_id] = travel
    add_campaign(state, account, main, "Spring Sale", files=3, rows=50)
    add_campaign(state, account, main, "Bulk Export", tricky=False, **bulk)
    add_campaign(
        state,
        account,
        main,
        "Summer Preview",
        status="Ready to Publish",
        published=False,
        files=2,
        rows=40,
    )
    add_campaign(state, account, main, "Autumn Review", status="Ready for review", published=False)
    add_campaign(
        state, account, travel, "Weekend Getaways", files=1, rows=20, extra_columns=("channel",)
    )
    loyal = add_group(state, account, main, "Loyal Customers", SEGMENTS[:3])
    add_group(state, account, main, "New Signups", SEGMENTS[1:])
    add_group(state, account, main, "Loyal Subset", SEGMENTS[:2])
    add_group_campaign(state, account, main, "Loyalty Nudges", loyal)
