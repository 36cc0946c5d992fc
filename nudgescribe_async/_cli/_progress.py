"""The export's live progress bar: files, records, MB and records/s, on stderr.

Shown only when stderr is a terminal: in a pipe or a log it would be noise. Never when the
records themselves scroll past on the same terminal (stdout a terminal too): they would tear
the bar apart. stdout is never touched, and never redirected.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


class ExportProgress:
    """`with ExportProgress(console, "label") as bar: bar.update(...)`; silent off a terminal."""

    def __init__(
        self,
        console: Console,
        description: str,
        *,
        files_total: int,
        files_done: int = 0,
        records: int = 0,
        enabled: bool = True,
    ) -> None:
        self._enabled = enabled
        self._console = console
        self._description = description
        self._start = (files_total, files_done)
        self._base_records = records  # resumed: already written, not part of the rate
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._started = time.monotonic()

    def __enter__(self) -> ExportProgress:
        if not (self._enabled and self._console.is_terminal):
            return self
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} files"),
            TextColumn("{task.fields[records]:>9,} records"),
            TextColumn("{task.fields[mb]:>7.1f} MB"),
            TextColumn("{task.fields[rate]:>8,.0f} records/s"),
            TimeElapsedColumn(),
            console=self._console,
            redirect_stdout=False,  # stdout may be the records' own stream
            redirect_stderr=False,
        )
        total, done = self._start
        self._task = self._progress.add_task(
            self._description,
            total=total,
            completed=done,
            records=self._base_records,
            mb=0.0,
            rate=0.0,
        )
        self._progress.start()
        self._started = time.monotonic()
        return self

    def update(self, *, files_done: int, files_total: int, records: int, nbytes: int) -> None:
        if self._progress is None or self._task is None:
            return
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self._progress.update(
            self._task,
            completed=files_done,
            total=files_total,
            records=records,
            mb=nbytes / 1e6,
            rate=(records - self._base_records) / elapsed,
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.refresh()
            self._progress.stop()
