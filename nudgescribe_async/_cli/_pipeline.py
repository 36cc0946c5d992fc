"""Records from an export stream into a file (atomically, resumably) or a text stream.

Rules of this file:
1. The stream is ordered, so "file N is complete" is well defined: every record before the
   first record of a later file belongs to a complete file. A checkpoint is taken at exactly
   those points, never after a file's first rows.
2. Records are taken a batch at a time (`batches()`), the fast way through the stream.
3. Progress goes to stderr (through `ExportProgress`); records to the file or stream given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import attrs

from .._client import Client
from .._export import ExportStream, ExportType
from ._common import CommandError, Context, UsageError
from ._output import Format, RecordWriter, make_writer
from ._partial import Checkpoint, PartialOutput, resume_problem
from ._progress import ExportProgress

if TYPE_CHECKING:
    from rich.console import Console


@attrs.frozen
class ExportOptions:
    campaign_id: str
    fmt: Format = "jsonl"
    export_type: ExportType = "utf8"
    run_number: int | None = None
    concurrency: int = 8
    raw: bool = False

    def identity(self) -> dict[str, object]:
        """What a resumed export must share with the part file it continues."""
        return {
            "campaign_id": self.campaign_id,
            "format": self.fmt,
            "export_type": self.export_type,
            "run_number": self.run_number,
            "raw": self.raw,
        }


@attrs.frozen
class ExportResult:
    records: int  # in the output, counting those a resumed export kept
    files: int
    nbytes: int  # downloaded by this run
    seconds: float


async def export_to_stream(
    client: Client, opts: ExportOptions, out: TextIO, *, console: Console
) -> ExportResult:
    writer = make_writer(opts.fmt, out, raw=opts.raw)
    started = time.perf_counter()
    async with _stream(client, opts, None) as stream:
        if stream.files_total == 0:
            raise _nothing_to_export(opts)
        bar = ExportProgress(
            console, "export", files_total=stream.files_total, enabled=not out.isatty()
        )
        with bar:
            records = await _pump(stream, writer, bar, Checkpoint({}, stream.files_total), None)
    writer.finish()
    out.flush()
    return ExportResult(records, stream.files_total, stream.bytes, time.perf_counter() - started)


async def export_to_file(
    client: Client,
    opts: ExportOptions,
    path: Path,
    ctx: Context,
    *,
    resume: bool,
    console: Console,
) -> ExportResult:
    """Export into `path` atomically; with `resume`, continue an interrupted export of it."""
    partial = PartialOutput(path)
    total = await client.messages.count_files(opts.campaign_id, run_number=opts.run_number)
    if total == 0:
        raise _nothing_to_export(opts)
    start = _starting_point(partial, opts, total, resume=resume, console=console)
    remaining = [n for n in range(total) if n not in start.completed]
    started = time.perf_counter()
    try:
        writer = make_writer(opts.fmt, partial.open(start), raw=opts.raw, columns=start.columns)
        ctx.advice = (
            f"the partial export is kept in {partial.part}; run the same command with "
            "--resume to continue it"
        )

        def checkpoint(completed: set[int], records: int) -> None:
            partial.checkpoint(start, completed, records, writer.columns)

        async with _stream(client, opts, remaining) as stream:
            bar = ExportProgress(
                console,
                path.name,
                files_total=total,
                files_done=len(start.completed),
                records=start.records,
            )
            with bar:
                records = await _pump(stream, writer, bar, start, checkpoint)
        writer.finish()
        checkpoint(stream.completed_files, records)
        partial.commit()
        ctx.advice = None
    finally:
        partial.close()
    seconds = time.perf_counter() - started
    return ExportResult(start.records + records, total, stream.bytes, seconds)


def _stream(client: Client, opts: ExportOptions, file_nums: list[int] | None) -> ExportStream:
    return client.messages.stream(
        opts.campaign_id,
        export_type=opts.export_type,
        run_number=opts.run_number,
        concurrency=opts.concurrency,
        ordered=True,  # rule 1
        file_nums=file_nums,
    )


def _starting_point(
    partial: PartialOutput, opts: ExportOptions, total: int, *, resume: bool, console: Console
) -> Checkpoint:
    fresh = Checkpoint(opts.identity(), total)
    if not resume:
        return fresh
    saved = partial.saved()
    if saved is None:
        console.print(
            f"nudgescribe: no interrupted export of {partial.final} to resume; "
            "starting from the beginning",
            highlight=False,
        )
        return fresh
    problem = resume_problem(
        saved, options=opts.identity(), part_size=partial.part_size(), files_total=total
    )
    if problem is not None:
        raise UsageError(
            f"cannot resume {partial.part}: {problem} — run without --resume to start over"
        )
    return saved


async def _pump(
    stream: ExportStream,
    writer: RecordWriter,
    bar: ExportProgress,
    start: Checkpoint,
    checkpoint: Callable[[set[int], int], None] | None,
) -> int:
    """Write every batch; checkpoint each time files complete (rule 1). Records written."""
    written = 0
    seen = 0  # completed files already checkpointed

    def files_completed() -> None:
        nonlocal seen
        if checkpoint is not None and len(stream.completed_files) != seen:
            seen = len(stream.completed_files)
            checkpoint(stream.completed_files, written)

    def show() -> None:
        bar.update(
            files_done=len(start.completed) + stream.files_done,
            files_total=len(start.completed) + stream.files_total,
            records=start.records + written,
            nbytes=stream.bytes,
        )

    try:
        while (batch := await stream.batches()) is not None:
            files_completed()  # before writing: this batch belongs to a later file
            writer.write(batch)
            written += len(batch)
            show()
    except Exception:
        files_completed()  # files that ended just before the failure; nothing written since
        raise
    show()  # the last file's end is known only now
    return written


def _nothing_to_export(opts: ExportOptions) -> CommandError:
    return CommandError(
        f"campaign {opts.campaign_id} has no exported files yet — publish them with "
        "--publish, or add --wait if they were published a moment ago"
    )
