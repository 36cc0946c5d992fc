"""`client.messages`: publish, count, wait, fetch one file, and stream a whole export."""

from __future__ import annotations

from collections.abc import Iterable

import anyio

from .._convert import expect_mapping, int_field, pick
from .._errors import WaitTimeoutError
from .._export import ExportStream, ExportType, FileReader, check_export_args
from .._wire import FILE_COUNT_KEYS
from ..models.messages import MessageRecord, PresignedUrl, PublishResult
from ._base import Resource, check_id

PUBLISH = "/v1/messages/publish"
PAGES = "/v1/messages/pages"


class Messages(Resource):
    async def publish(self, campaign_id: str) -> PublishResult:
        """Export the campaign's messages to storage as CSV. Runs asynchronously on the
        server; use `wait_for_export` to know when the files are there. Never retried
        automatically; `503 Quota Exceeded` raises `QuotaExceededError`."""
        data = await self._write("POST", PUBLISH, {"campaign_id": check_id(campaign_id)})
        body = expect_mapping(data, endpoint=PUBLISH)
        return PublishResult(message=str(body.get("message", "")), key=pick(body, ("key",)))

    async def count_files(self, campaign_id: str, *, run_number: int | None = None) -> int:
        """How many exported files the campaign (or run `run_number`) has."""
        check_export_args("utf8", run_number)
        body: dict[str, object] = {"campaign_id": check_id(campaign_id)}
        if run_number is not None:
            body["run_number"] = run_number
        return int_field(await self._read(PAGES, body), FILE_COUNT_KEYS, endpoint=PAGES)

    async def wait_for_export(
        self,
        campaign_id: str,
        *,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        settle_time: float = 6.0,
    ) -> int:
        """Poll until the file count is non-zero and has not changed for `settle_time`
        seconds; that count.

        Publish returns no job id and the files appear one by one, so a count that holds still
        is the only sign the export is written. Raises `WaitTimeoutError` (a `TimeoutError`)
        after `timeout` seconds.
        """
        if timeout <= 0 or poll_interval <= 0 or settle_time < 0:
            raise ValueError("timeout and poll_interval must be positive, settle_time >= 0")
        previous, since = -1, anyio.current_time()
        try:
            with anyio.fail_after(timeout):
                while True:
                    count = await self.count_files(campaign_id)
                    now = anyio.current_time()
                    if count != previous:
                        previous, since = count, now
                    elif count > 0 and now - since >= settle_time:
                        return count
                    await anyio.sleep(poll_interval)
        except TimeoutError:
            raise WaitTimeoutError(
                f"campaign {campaign_id}: the export was not complete after {timeout:g}s "
                f"(last file count {max(previous, 0)})"
            ) from None

    async def fetch_file(
        self,
        campaign_id: str,
        file_num: int,
        *,
        export_type: ExportType = "utf8",
        run_number: int | None = None,
    ) -> list[MessageRecord]:
        """Every record of one exported file (retried per the policy, exactly once)."""
        check_export_args(export_type, run_number)
        records: list[MessageRecord] = []

        async def collect(batch: list[MessageRecord]) -> None:
            records.extend(batch)

        reader = FileReader(
            self._client, check_id(campaign_id), export_type=export_type, run_number=run_number
        )
        await reader.read_records(_check_file_num(file_num), collect)
        return records

    async def file_url(self, campaign_id: str, file_num: int) -> PresignedUrl:
        """A pre-signed, time-limited URL of one exported file (its repr hides the signature)."""
        reader = FileReader(self._client, check_id(campaign_id), export_type="url", run_number=None)
        return await reader.file_url(_check_file_num(file_num))

    def stream(
        self,
        campaign_id: str,
        *,
        export_type: ExportType = "utf8",
        run_number: int | None = None,
        concurrency: int = 8,
        ordered: bool = True,
        file_nums: Iterable[int] | None = None,
    ) -> ExportStream:
        """Stream a whole export as `MessageRecord`s, fetching `concurrency` files at once.

        ```python
        async with client.messages.stream(campaign_id, concurrency=16) as records:
            async for rec in records:
                ...
        ```

        `ordered=True` yields files in `file_num` order and rows in file order (memory about
        `concurrency` files); `ordered=False` yields rows as they arrive (memory about
        `concurrency` network chunks). `file_nums` restricts the export to some files, e.g.
        `range(worker, n, workers)`. A failed file is retried without losing or repeating a
        row; when retries run out the error carries `.completed_files`. One task reads the
        stream at a time (a second gets `RuntimeError`).
        """
        cid = check_id(campaign_id)
        return ExportStream(
            self._client,
            cid,
            export_type=export_type,
            run_number=run_number,
            concurrency=concurrency,
            ordered=ordered,
            file_nums=file_nums,
            count_files=lambda: self.count_files(cid, run_number=run_number),
        )


def _check_file_num(file_num: int) -> int:
    if isinstance(file_num, bool) or not isinstance(file_num, int):
        raise TypeError(f"file_num must be an integer, got {type(file_num).__name__}")
    if file_num < 0:
        raise ValueError(f"file numbers start at 0, got {file_num}")
    return file_num
