"""Run records on disk: `runs/<run_id>/run.json` and `runs/<run_id>/samples/<task>.jsonl`.

Samples are appended and flushed (fsync) one line at a time as they finish, so a killed run loses at
most the line being written: on resume a torn last line is cut off, finished samples are kept, and
samples whose generation failed are dropped so they run again. `run.json` is replaced atomically.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vlmbench.errors import DataError, first_validation_error, located, os_error_reason
from vlmbench.records.hashing import file_sha256
from vlmbench.schema import ImageRef, Sample

RUN_FILE = "run.json"
LOCK_FILE = ".lock"


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
        check_record(record, path)
        return record

    def write_run(self, record: dict[str, Any]) -> None:
        """Validate the record against `RunRecord` (a record that breaks its own contract is never
        written), then replace run.json atomically."""
        check_record(record, self.root / RUN_FILE)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DataError(f"{self.root}: cannot create the run folder: {os_error_reason(err)}") from None
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        _replace(self.root / RUN_FILE, text.encode("utf-8"))

    def append(self, task: str, row: dict[str, Any]) -> None:
        path = self.samples_path(task)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:  # a torn last line, if any, is cut off when the run resumes
            reason = os_error_reason(err)
            raise DataError(f"{path}: cannot append sample {row.get('id')!r}: {reason}") from None

    def samples_digest(self, task: str) -> str | None:
        """sha256 of the task's samples file as it stands (None before its first row): recorded with
        each task summary, so a samples file edited after the run is caught before it is published."""
        path = self.samples_path(task)
        return file_sha256(path) if path.is_file() else None

    def rows(self, task: str) -> list[dict[str, Any]]:
        """Every complete row of a task's samples file, read only (a torn last line is skipped, nothing is
        repaired): for rescoring and comparing runs that may still be running."""
        return [row for _, row in _parse_rows_of(self, task)]

    def done_rows(self, task: str) -> dict[str, dict[str, Any]]:
        """Finished rows by id, read only: what a resume would keep (no failed generation, last row of
        an id)."""
        return _finished(row for _, row in _parse_rows_of(self, task))

    def finished(self, task: str) -> dict[str, dict[str, Any]]:
        """Finished sample rows by id, after repairing the file: a torn last line (a kill mid-write)
        is cut off; rows of failed generations are removed so that they are retried."""
        path = self.samples_path(task)
        if not path.is_file():
            return {}
        raw = path.read_bytes()
        parsed = _parse_rows(path, raw)
        rows = _finished(row for _, row in parsed)
        kept = [line for line, row in parsed if rows.get(row["id"]) is row]
        repaired = b"".join(kept)
        if repaired != raw:
            _replace(path, repaired)
        return rows


def check_record(record: dict[str, Any], path: Path) -> None:
    """`record` as `RunRecord` validates it; else a DataError naming the file and the first field."""
    from pydantic import ValidationError

    from vlmbench.records.record import RecordVersionError, validate_record

    try:
        validate_record(record)
    except RecordVersionError as err:
        raise DataError(located(path, None, str(err))) from None
    except ValidationError as err:
        raise DataError(located(path, None, f"invalid run record: {first_validation_error(err)}")) from None


def _parse_rows_of(store: RunStore, task: str) -> list[tuple[bytes, dict[str, Any]]]:
    path = store.samples_path(task)
    if not path.is_file():
        raise DataError(f"{path}: no samples file for task {task!r}")
    return _parse_rows(path, path.read_bytes())


def _parse_rows(path: Path, raw: bytes) -> list[tuple[bytes, dict[str, Any]]]:
    """(line, row) for every complete line; a torn last line (no newline after it, or cut mid-JSON at a
    flush boundary) is left out; any other bad line is an error naming file and line."""
    complete = raw[: raw.rfind(b"\n") + 1]
    lines = complete.splitlines(keepends=True)
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):  # torn at a flush boundary: treat as unfinished
                break
            raise DataError(located(path, number, f"malformed sample row ({err.msg})")) from None
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise DataError(located(path, number, "malformed sample row (not an object with an id)"))
        out.append((line, row))
    return out


def _finished(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows by id without failed generations; the last row of an id wins (a row judged after the fact,
    `vlmbench eval --judge`, is appended as a new version of the same generation)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row.get("error"):
            out[row["id"]] = row
    return out


def sample_fields(sample: Sample) -> dict[str, Any]:
    """What a row keeps of its item, so the samples file alone can be rescored (`vlmbench score RUN_DIR`)."""
    return {
        "question": sample.question,
        "answer_type": sample.answer_type.value,
        "choices": sample.choices,
        "answer_index": sample.answer_index,
        "meta": sample.meta,
        "images": [ref.path for ref in sample.images],
    }


def sample_from_row(row: dict[str, Any]) -> Sample:
    """The item of a recorded row (images by path only; scoring never opens them)."""
    fields = row["sample"]
    return Sample(
        id=row["id"],
        question=fields["question"],
        answer=row["gold"],
        answer_type=fields["answer_type"],
        images=[ImageRef(path=p) for p in fields.get("images") or [] if p],
        choices=fields.get("choices"),
        meta=fields.get("meta") or {},
        answer_index=fields.get("answer_index"),
    )


def _replace(path: Path, data: bytes) -> None:
    """Replace `path` atomically: a kill or power loss leaves the old file or the new one, never a
    partial one (the temporary file is synced before the rename, the folder after it). The temporary
    name is unique, so two writers never share one; a failed write (disk full, read-only folder)
    leaves no temporary file behind and names the file it could not write."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        reason = os_error_reason(err)
        raise DataError(f"{path}: cannot write: {reason}; the previous version is kept") from None
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


class RunLocked(DataError):
    """Another process is writing this run folder."""


class RunLock:
    """An exclusive lock on a run folder for the whole of an eval: two identical commands started
    together would otherwise both do every sample and write duplicate rows. The holder's pid and start
    time are in `.lock` while it holds it (the file is emptied on release, so a finished run's folder
    does not change when another command merely looks at it). POSIX only (fcntl); elsewhere no lock."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_FILE
        self.handle: Any = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as err:
            raise DataError(f"{self.root}: cannot create the run folder: {os_error_reason(err)}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunLocked(
                f"{self.root}: this run is being written by {holder}; wait for it to finish (then rerun "
                "to reuse its samples) or stop it"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} (since {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ})\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *_: object) -> None:
        if self.handle is None:
            return
        import fcntl

        self.handle.seek(0)
        self.handle.truncate()
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        self.handle = None
