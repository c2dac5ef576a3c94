"""Run records on disk: `runs/<run_id>/run.json` and `runs/<run_id>/samples/<task>.jsonl`.

Samples are appended and flushed (fsync) one line at a time as they finish, so a killed run loses at
most the line being written: on resume a torn last line is cut off, finished samples are kept, and
samples whose generation failed are dropped so they run again. `run.json` is replaced atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vlmbench.errors import DataError, located

RUN_FILE = "run.json"


class RunStore:
    """One run directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def samples_path(self, task: str) -> Path:
        return self.root / "samples" / f"{task}.jsonl"

    def read_run(self) -> dict[str, Any] | None:
        path = self.root / RUN_FILE
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataError(located(path, err.lineno, f"malformed run record ({err.msg})")) from None
        if not isinstance(record, dict) or not isinstance(record.get("tasks"), dict):
            raise DataError(located(path, None, "malformed run record (not an object with 'tasks')"))
        return record

    def write_run(self, record: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        _replace(self.root / RUN_FILE, text.encode("utf-8"))

    def append(self, task: str, row: dict[str, Any]) -> None:
        path = self.samples_path(task)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def rows(self, task: str) -> list[dict[str, Any]]:
        """Every complete row of a task's samples file, read only (a torn last line is skipped, nothing is
        repaired): for rescoring and comparing runs that may still be running."""
        path = self.samples_path(task)
        if not path.is_file():
            raise DataError(f"{path}: no samples file for task {task!r}")
        lines = path.read_bytes().split(b"\n")
        out = []
        for number, line in enumerate(lines[:-1], start=1):  # the last piece is "" or a torn line
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(located(path, number, f"malformed sample row ({err.msg})")) from None
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                raise DataError(located(path, number, "malformed sample row (not an object with an id)"))
            out.append(row)
        return out

    def finished(self, task: str) -> dict[str, dict[str, Any]]:
        """Finished sample rows by id, after repairing the file: a torn last line (a kill mid-write)
        is cut off; rows of failed generations are removed so that they are retried."""
        path = self.samples_path(task)
        if not path.is_file():
            return {}
        raw = path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        rows: dict[str, dict[str, Any]] = {}
        kept: list[bytes] = []
        lines = complete.splitlines(keepends=True)
        for number, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                if number == len(lines):  # torn at a flush boundary: treat as unfinished
                    break
                raise DataError(located(path, number, f"malformed sample row ({err.msg})")) from None
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                raise DataError(located(path, number, "malformed sample row (not an object with an id)"))
            if row.get("error") or row["id"] in rows:
                continue
            rows[row["id"]] = row
            kept.append(line)
        repaired = b"".join(kept)
        if repaired != raw:
            _replace(path, repaired)
        return rows


def _replace(path: Path, data: bytes) -> None:
    """Replace `path` atomically: a kill or power loss leaves the old file or the new one, never a
    partial one (the temporary file is synced before the rename, the folder after it)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    try:  # POSIX: make the rename itself durable (not every platform or file system allows it)
        fd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
