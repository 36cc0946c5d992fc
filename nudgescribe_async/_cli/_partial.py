"""An output file that appears whole or not at all, and can be resumed after a kill.

`--out FILE` is written to `.FILE.part` in the same directory and renamed onto FILE with
`os.replace` only when complete, so FILE is never half written. Beside the part file,
`.FILE.part.json` records a checkpoint: which export files it holds, how many records and
how many bytes. A resumed export cuts the part file back to that size (dropping the rows of a
file that was cut off midway) and appends the remaining files.

Rules of this file:
1. A checkpoint is written only after the part file is flushed; it is replaced atomically.
2. A resume is refused, with the reason, when the checkpoint was made with other options or
   the part file is shorter than the checkpoint says.
3. The decisions (`resume_problem`) are pure functions over plain values.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import attrs

STATE_VERSION = 1


@attrs.frozen
class Checkpoint:
    """What the part file holds: the options it was made with and the files complete in it."""

    options: dict[str, Any]
    files_total: int
    completed: frozenset[int] = frozenset()
    records: int = 0
    size: int = 0
    columns: list[str] | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "options": self.options,
                "files_total": self.files_total,
                "completed": sorted(self.completed),
                "records": self.records,
                "size": self.size,
                "columns": self.columns,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint | None:
        """The checkpoint in `text`, or None if it is not one this version wrote."""
        try:
            data = json.loads(text)
            if data.get("version") != STATE_VERSION:
                return None
            return cls(
                options=dict(data["options"]),
                files_total=int(data["files_total"]),
                completed=frozenset(int(n) for n in data["completed"]),
                records=int(data["records"]),
                size=int(data["size"]),
                columns=None if data["columns"] is None else [str(c) for c in data["columns"]],
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def resume_problem(
    checkpoint: Checkpoint, *, options: dict[str, Any], part_size: int, files_total: int
) -> str | None:
    """Why `checkpoint` cannot be resumed with these options and this export; None if it can."""
    if checkpoint.options != options:
        changed = sorted(
            k
            for k in {*options, *checkpoint.options}
            if options.get(k) != checkpoint.options.get(k)
        )
        return f"it was started with other options ({', '.join(changed)})"
    if part_size < checkpoint.size:
        return f"it holds {part_size} bytes where its checkpoint says {checkpoint.size}"
    if checkpoint.files_total != files_total:
        return (
            f"the export has changed since: {files_total} files now, {checkpoint.files_total} then"
        )
    if not checkpoint.completed <= set(range(files_total)):
        return "its checkpoint names files the export does not have"
    return None


class PartialOutput:
    """`open` (fresh or resumed), `checkpoint` after each complete file, `commit` at the end.
    Leaving without `commit` keeps the part file and its checkpoint for `--resume`."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.part = final.with_name(f".{final.name}.part")
        self.state = final.with_name(f".{final.name}.part.json")
        self._file: TextIO | None = None

    def saved(self) -> Checkpoint | None:
        """The checkpoint of an interrupted export, if there is one with its part file."""
        if not self.part.exists():
            return None
        try:
            return Checkpoint.from_json(self.state.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def part_size(self) -> int:
        return self.part.stat().st_size

    def open(self, start: Checkpoint) -> TextIO:
        """The part file, cut back to `start.size` (0 for a fresh export), ready to append."""
        self.final.parent.mkdir(parents=True, exist_ok=True)
        with open(self.part, "a", encoding="utf-8"):
            pass  # exists from here on, so truncate has a file to cut
        os.truncate(self.part, start.size)
        self._file = open(self.part, "a", encoding="utf-8", newline="")  # noqa: SIM115
        self._save(start)
        return self._file

    def checkpoint(
        self, start: Checkpoint, completed: Iterable[int], records: int, columns: list[str] | None
    ) -> None:
        """Record that the part file now holds `completed` files (flushing it first)."""
        assert self._file is not None
        self._file.flush()
        size = os.fstat(self._file.fileno()).st_size
        self._save(
            attrs.evolve(
                start,
                completed=start.completed | frozenset(completed),
                records=start.records + records,
                size=size,
                columns=columns,
            )
        )

    def commit(self) -> None:
        """Make the output whole under its final name."""
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.part, self.final)
        with contextlib.suppress(FileNotFoundError):
            self.state.unlink()

    def close(self) -> None:
        """Leave the part file and its checkpoint as they are (the export did not finish)."""
        if self._file is not None and not self._file.closed:
            self._file.close()

    def _save(self, checkpoint: Checkpoint) -> None:
        tmp = self.state.with_name(self.state.name + ".tmp")
        tmp.write_text(checkpoint.to_json(), encoding="utf-8")
        os.replace(tmp, self.state)
