"""`client.reruns`: run history, run messages, initiating a rerun, waiting and watching.

Rules of this file:
1. Arguments are checked before anything is sent: misuse raises `TypeError`/`ValueError`.
2. History and messages are reads (retried); `initiate` is a write, sent exactly once.
3. Responses are decoded leniently (CONTRACT §5): the listed alternative shapes are accepted,
   unknown fields ignored (kept in `RunMessage.extra`), anything else is a
   `ResponseDecodeError` naming the endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._convert import expect_mapping, structure, unwrap_list
from .._wire import (
    HISTORY_LIST_KEYS,
    RUN_MESSAGE_FIELDS,
    RUN_MESSAGES_LIST_KEYS,
    SEGMENT_NAME,
)
from ..models.reruns import RerunStarted, RunHistoryEntry, RunMessage
from ._args import positive_int, positive_seconds
from ._base import Resource, check_id
from ._rerun_watch import DEFAULT_WATCH_CONCURRENCY, RunWatch, wait_for_run

PATH_HISTORY = "/v1/campaign/rerun/history"
PATH_MESSAGES = "/v1/campaign/rerun/messages"
PATH_INITIATE = "/v1/campaign/rerun/initiate"


class Reruns(Resource):
    async def history(self, campaign_id: str) -> list[RunHistoryEntry]:
        """Every run of the campaign, newest first (a never-rerun campaign has Run #1)."""
        campaign_id = check_id(campaign_id, "campaign_id")
        data = await self._read(PATH_HISTORY, {"campaign_id": campaign_id})
        return decode_history(data, campaign_id=campaign_id)

    async def messages(
        self, campaign_id: str, *, run_number: int | None = None
    ) -> list[RunMessage]:
        """The current run's active messages, or run `run_number`'s including archived ones."""
        body: dict[str, Any] = {"campaign_id": check_id(campaign_id, "campaign_id")}
        if run_number is not None:
            body["run_number"] = positive_int(run_number, "run_number")
        return decode_messages(await self._read(PATH_MESSAGES, body))

    async def initiate(self, campaign_id: str, new_customer_group_id: str) -> RerunStarted:
        """Start run N+1 against another customer group. Sent once, never retried.

        Raises `RerunPreconditionError` (`.reason` says which) when the campaign or one of
        its messages is not Published, `NotFoundError` for an unknown campaign or group.
        """
        body = {
            "campaign_id": check_id(campaign_id, "campaign_id"),
            "new_customer_group_id": check_id(new_customer_group_id, "new_customer_group_id"),
        }
        return decode_started(await self._write("POST", PATH_INITIATE, body))

    async def wait(
        self,
        campaign_id: str,
        run_number: int,
        *,
        timeout: float | None = 600.0,
        poll_interval: float = 2.0,
        max_poll_interval: float = 30.0,
    ) -> RunHistoryEntry:
        """Poll the history (jittered backoff) until the run is finished; its entry.

        Raises `WaitTimeoutError` (a `TimeoutError`) once `timeout` seconds have passed.
        """
        campaign_id = check_id(campaign_id, "campaign_id")
        run_number = positive_int(run_number, "run_number")
        interval = positive_seconds(poll_interval, "poll_interval")
        cap = max(interval, positive_seconds(max_poll_interval, "max_poll_interval"))
        deadline = None if timeout is None else positive_seconds(timeout, "timeout")
        return await wait_for_run(
            self.history,
            campaign_id,
            run_number,
            timeout=deadline,
            poll_interval=interval,
            max_poll_interval=cap,
        )

    def watch(
        self,
        campaign_ids: Iterable[str],
        *,
        poll_interval: float = 10.0,
        concurrency: int = DEFAULT_WATCH_CONCURRENCY,
    ) -> RunWatch:
        """Updates whenever a campaign's latest run changes (see `RunWatch`, `RunUpdate`)."""
        return RunWatch(
            self.history,
            check_ids(campaign_ids),
            poll_interval=positive_seconds(poll_interval, "poll_interval"),
            concurrency=positive_int(concurrency, "concurrency"),
        )


# -- argument checks ----------------------------------------------------------------------------


def check_ids(values: Iterable[str]) -> list[str]:
    """Campaign ids, in order, without duplicates; at least one."""
    if isinstance(values, (str, bytes)):
        raise TypeError("campaign_ids must be an iterable of ids, not a single string")
    ids = list(dict.fromkeys(check_id(v, "campaign id") for v in values))
    if not ids:
        raise ValueError("campaign_ids must hold at least one id")
    return ids


# -- decoding -----------------------------------------------------------------------------------


def decode_history(data: Any, *, campaign_id: str | None = None) -> list[RunHistoryEntry]:
    """A JSON array, one bare entry, or `{"history"|"runs"|"data": [...]}`; newest first."""
    entries = []
    for item in unwrap_list(data, HISTORY_LIST_KEYS, endpoint=PATH_HISTORY, allow_single=True):
        row = dict(expect_mapping(item, endpoint=PATH_HISTORY))
        if campaign_id is not None:
            row.setdefault("campaign_id", campaign_id)
        entries.append(structure(row, RunHistoryEntry, endpoint=PATH_HISTORY))
    return sorted(entries, key=lambda e: e.run_number, reverse=True)


def decode_messages(data: Any) -> list[RunMessage]:
    """A JSON array or `{"messages"|"data": [...]}`; unknown keys go to `extra`."""
    return [
        _decode_message(expect_mapping(item, endpoint=PATH_MESSAGES))
        for item in unwrap_list(data, RUN_MESSAGES_LIST_KEYS, endpoint=PATH_MESSAGES)
    ]


def _decode_message(item: Any) -> RunMessage:
    row = {k: v for k, v in item.items() if k in RUN_MESSAGE_FIELDS}
    if isinstance(row.get("segment"), str):
        row["segment"] = {SEGMENT_NAME: row["segment"]}
    row["extra"] = {k: v for k, v in item.items() if k not in RUN_MESSAGE_FIELDS}
    return structure(row, RunMessage, endpoint=PATH_MESSAGES)


def decode_started(data: Any) -> RerunStarted:
    return structure(
        expect_mapping(data, endpoint=PATH_INITIATE), RerunStarted, endpoint=PATH_INITIATE
    )
