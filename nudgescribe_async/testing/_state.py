"""The emulator's state: accounts, workspaces, campaigns, runs, exports, groups, fields.

Rules of this file:
1. Plain data and small pure helpers; no HTTP. Handlers read and change it.
2. Everything is scoped to an account; lookups take the account and never find another's data.
3. Ids are deterministic (uuid5 of the seed and a name) so demo data is the same every run.
4. Exports are rendered on demand from a spec, file by file, so a million-row campaign costs
   no memory until a file is asked for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

NAMESPACE = uuid.UUID("6f1d7c2e-3a0b-4d55-9f0e-9a3c2b1d0e4f")


def make_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def iso(ts: float) -> str:
    """Epoch seconds as the API writes timestamps: `2026-03-09T07:44:30.404Z`."""
    moment = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Clock:
    """Wall time plus an offset the tests can move: `emu.clock.advance(3600)`."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Account:
    account_id: str
    user_id: str
    email: str
    password: str
    api_key: str
    role_code: str = "admin"
    quota: int | None = None  # units left; None is unlimited


@dataclass
class Workspace:
    workspace_id: str
    account_id: str
    name: str


# -- exports ---------------------------------------------------------------------------------

TRICKY = (
    "Hi {name}, your 20% code is SPRING, valid today!",
    'She said "hello" -- and then "goodbye", twice.',
    "Line one\nLine two\r\nLine three",
    "Emoji time 🎉🚀 ünïcödé ✓ 日本語",
    '",,"\n""',
    "",
)


@dataclass(eq=False)
class Export:
    """The CSV files of one run, made from `rows_for(file_num)`; they appear over time."""

    num_files: int
    rows_for: Callable[[int], list[tuple[str, str]]]
    published_at: float
    ready_after: float = 0.0  # seconds after publish before the first file shows
    spread: float = 0.0  # seconds over which the files show up one by one
    extra_columns: tuple[str, ...] = ()

    def visible_files(self, now: float) -> int:
        elapsed = now - self.published_at - self.ready_after
        if elapsed < 0:
            return 0
        if self.spread <= 0 or self.num_files <= 1:
            return self.num_files
        return min(self.num_files, 1 + int(elapsed / self.spread * (self.num_files - 1)))

    def csv_bytes(self, file_num: int) -> bytes:
        return _render_csv(self, file_num)


# Exports hash by identity (eq=False), so the cache keys on the export object itself.
@lru_cache(maxsize=64)
def _render_csv(export: Export, file_num: int) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(("customer_id", "message", *export.extra_columns))
    extras = [f"{c}-{file_num}" for c in export.extra_columns]
    for customer_id, message in export.rows_for(file_num):
        writer.writerow((customer_id, message, *extras))
    return buf.getvalue().encode("utf-8")


def synthetic_rows(
    seed: str, *, rows: int, message_length: int, tricky: bool
) -> Callable[[int], list[tuple[str, str]]]:
    """Deterministic rows: customer ids unique across files, messages of a given length."""
    stem = uuid.uuid5(NAMESPACE, seed).hex[:12]
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * (
        message_length // 56 + 1
    )

    def rows_for(file_num: int) -> list[tuple[str, str]]:
        out = []
        for row in range(rows):
            cid = f"{file_num:08x}-{row:04x}-4{row % 4096:03x}-8000-{stem}"
            if tricky:
                base = TRICKY[(file_num + row) % len(TRICKY)].format(name=f"Customer {row}")
                text = base + " " + filler[: max(0, message_length - len(base) - 1)]
            else:
                text = f"#{file_num}.{row} " + filler[: max(0, message_length - 12)]
            out.append((cid, text))
        return out

    return rows_for


def rows_per_file(
    messages: list[tuple[str, str]], size: int
) -> Callable[[int], list[tuple[str, str]]]:
    frozen = list(messages)

    def rows_for(file_num: int) -> list[tuple[str, str]]:
        return frozen[file_num * size : (file_num + 1) * size]

    return rows_for


# -- content -----------------------------------------------------------------------------------


@dataclass
class Customer:
    customer_id: str
    profile: dict[str, Any]
    segment: str


@dataclass
class CustomerGroup:
    customer_group_id: str
    account_id: str
    workspace_id: str
    name: str
    description: str | None
    created_at: float
    customers: dict[str, Customer] = field(default_factory=dict)

    def segments(self) -> set[str]:
        return {c.segment for c in self.customers.values()}


@dataclass
class ProfileField:
    field_id: str
    account_id: str
    workspace_id: str
    field_name: str
    field_type: str
    field_format: str | None = None
    required: bool = False
    options: list[str] | None = None


@dataclass
class PendingImport:
    """A large customer upload, checked and waiting to be written at `ready_at`."""

    job_uid: str
    customer_group_id: str
    rows: list[dict[str, Any]]
    ready_at: float


# -- campaigns and runs ------------------------------------------------------------------------


@dataclass
class Message:
    message_id: str
    customer_id: str
    run_number: int
    segment: str
    message: str
    review_status: str = "Approved"
    approval_stage: str = "Published"
    status: str = "Published"
    is_archived: bool = False
    archived_at: float | None = None


@dataclass
class Run:
    run_number: int
    rerun_id: str
    customer_group_id: str | None
    customer_group_name: str | None
    segments_count: int
    status: str
    started_at: float
    completed_at: float | None
    created_by: str = "Demo User"
    comparison: dict[str, int] = field(default_factory=dict)
    export: Export | None = None
    synthesised: bool = False
    segments: tuple[str, ...] = ()  # the segments of the run's customer group
    due_at: float | None = None  # while a rerun is processing: when its job completes


@dataclass
class Campaign:
    campaign_id: str
    account_id: str
    workspace_id: str
    name: str
    status: str
    stage: str
    start_date: str
    end_date: str
    published_at: float | None = None
    runs: dict[int, Run] = field(default_factory=dict)
    current_run: int = 1
    messages: list[Message] = field(default_factory=list)
    # How publish builds the current run's export when it has no messages of its own.
    synthetic: dict[str, Any] | None = None

    def run(self, number: int | None = None) -> Run | None:
        return self.runs.get(self.current_run if number is None else number)


@dataclass
class Job:
    """Work the server finishes later (a rerun's processing), due at a clock time."""

    due_at: float
    run: Callable[[], None]


@dataclass
class State:
    """Everything the emulator knows. One instance per `Emulator`.

    Jobs run lazily: every campaign lookup first runs the jobs whose time has come, so they
    follow the emulator clock (`clock.advance()` makes them due) and need no timer to cancel.
    """

    clock: Clock = field(default_factory=Clock)
    accounts: dict[str, Account] = field(default_factory=dict)
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    groups: dict[str, CustomerGroup] = field(default_factory=dict)
    fields: dict[str, ProfileField] = field(default_factory=dict)
    imports: list[PendingImport] = field(default_factory=list)
    publish_ready_after: float = 0.05
    publish_spread: float = 0.1
    rerun_delay: float = 0.2
    jobs: list[Job] = field(default_factory=list)

    def schedule(self, delay: float, run: Callable[[], None]) -> Job:
        job = Job(self.clock.now() + delay, run)
        self.jobs.append(job)
        return job

    def run_due_jobs(self) -> None:
        now = self.clock.now()
        due = sorted((j for j in self.jobs if j.due_at <= now), key=lambda j: j.due_at)
        if due:
            self.jobs = [j for j in self.jobs if j.due_at > now]
            for job in due:
                job.run()

    def account_by_email(self, email: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.email == email), None)

    def workspaces_of(self, account_id: str) -> Iterator[Workspace]:
        return (w for w in self.workspaces.values() if w.account_id == account_id)

    def campaign(self, account_id: str, campaign_id: Any) -> Campaign | None:
        self.run_due_jobs()
        found = self.campaigns.get(campaign_id) if isinstance(campaign_id, str) else None
        return found if found is not None and found.account_id == account_id else None

    def group(self, account_id: str, group_id: Any) -> CustomerGroup | None:
        found = self.groups.get(group_id) if isinstance(group_id, str) else None
        return found if found is not None and found.account_id == account_id else None

    def profile_field(self, account_id: str, field_id: Any) -> ProfileField | None:
        found = self.fields.get(field_id) if isinstance(field_id, str) else None
        return found if found is not None and found.account_id == account_id else None

    def workspace(self, account_id: str, workspace_id: Any) -> Workspace | None:
        found = self.workspaces.get(workspace_id) if isinstance(workspace_id, str) else None
        return found if found is not None and found.account_id == account_id else None

    def default_workspace(self, account_id: str) -> Workspace:
        return next(self.workspaces_of(account_id))

    def publish(self, campaign: Campaign) -> Export:
        """Export the current run: files appear over `publish_ready_after`/`publish_spread`."""
        run = campaign.run()
        assert run is not None
        now = self.clock.now()
        active = [
            m for m in campaign.messages if m.run_number == run.run_number and not m.is_archived
        ]
        if active or campaign.synthetic is None:
            size = 1000
            pairs = [(m.customer_id, m.message) for m in active]
            export = Export(
                num_files=max(1, -(-len(pairs) // size)) if pairs else 0,
                rows_for=rows_per_file(pairs, size),
                published_at=now,
            )
            for m in active:
                m.status = "Published"
                m.approval_stage = "Published"
        else:
            spec = campaign.synthetic
            export = Export(
                num_files=spec["files"],
                rows_for=synthetic_rows(
                    f"{campaign.campaign_id}/{run.run_number}",
                    rows=spec["rows"],
                    message_length=spec["message_length"],
                    tricky=spec.get("tricky", True),
                ),
                published_at=now,
                extra_columns=tuple(spec.get("extra_columns", ())),
            )
        export.ready_after = self.publish_ready_after
        export.spread = self.publish_spread
        run.export = export
        campaign.status = campaign.stage = "Published"
        run.status = "Published"
        campaign.published_at = now
        return export
