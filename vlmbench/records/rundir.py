"""Run records on disk: `runs/<run_id>/run.json` and `runs/<run_id>/samples/<task>.jsonl`.

Samples are appended as each batch finishes, one line per sample, and synced (fsync) once per batch, so
a killed run loses at most the batch in flight: on resume a torn last line is cut off, finished samples
are kept, and samples whose generation failed are dropped so they run again. `run.json` is replaced
atomically.

A data-parallel run (vlmbench.parallel) has each rank append to its own part file,
`parts/<task>/rank-<k>.jsonl`, under the same rules; when the task's ranks are done, rank 0 merges the
parts into `samples/<task>.jsonl` in one atomic replace (rows a one-process run would have appended, in
the order it would have appended them) and deletes them. Parts a killed run left behind are read by
any later run, with any number of processes, so their rows are reused and never duplicated.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vlmbench.errors import DataError, first_validation_error, located, os_error_reason
from vlmbench.records.hashing import file_sha256
from vlmbench.schema import ImageRef, Sample

RUN_FILE = "run.json"
LOCK_FILE = ".lock"
PARTS_DIR = "parts"


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

    def part_path(self, task: str, rank: int) -> Path:
        """Where rank `rank` of a data-parallel run appends its rows of `task` (outside `samples/`, so
        nothing that reads a run's samples mistakes a part for a task)."""
        return self.root / PARTS_DIR / task / f"rank-{rank}.jsonl"

    def part_paths(self, task: str) -> list[Path]:
        """Every part file of `task`, whatever number of processes wrote them, in rank order."""
        folder = self.root / PARTS_DIR / task
        found = folder.glob("rank-*.jsonl") if folder.is_dir() else []
        return sorted(found, key=lambda p: (len(p.name), p.name))

    def append(self, task: str, row: dict[str, Any]) -> None:
        """One row, synced (a batch of one)."""
        self.append_batch(task, [row])

    def append_batch(self, task: str, rows: Sequence[dict[str, Any]], rank: int | None = None) -> None:
        """Append a batch of rows to the task's samples file (or rank `rank`'s part file), one line each,
        and sync once: a kill loses at most this batch, which a rerun redoes."""
        if not rows:
            return
        path = self.samples_path(task) if rank is None else self.part_path(task, rank)
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:  # a torn last line, if any, is cut off when the run resumes
            reason = os_error_reason(err)
            ids = ", ".join(repr(r.get("id")) for r in rows)
            raise DataError(f"{path}: cannot append sample{'s' * (len(rows) > 1)} {ids}: {reason}") from None

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

    def done_anywhere(self, task: str) -> dict[str, dict[str, Any]]:
        """Finished rows by id in the samples file and in every part file, read only: what is left to do
        is the rest, however many processes wrote these rows."""
        done = self.done_rows(task) if self.samples_path(task).is_file() else {}
        for path in self.part_paths(task):
            done.update(_finished(row for _, row in _parse_rows(path, path.read_bytes())))
        return done

    def repair_part(self, task: str, rank: int) -> None:
        """Cut a torn last line off rank `rank`'s part file (a kill mid-write), so that its next batch
        starts on a line of its own. Only the rank that appends to a part repairs it."""
        path = self.part_path(task, rank)
        if not path.is_file():
            return
        raw = path.read_bytes()
        repaired = b"".join(line for line, _ in _parse_rows(path, raw))
        if repaired != raw:
            _replace(path, repaired)

    def merge_parts(self, task: str, order: Mapping[str, int]) -> dict[str, dict[str, Any]]:
        """Move every part file's rows into the samples file: rows of samples it has no finished row for,
        one per sample (a finished row before a failed one), in dataset order (`order`: id -> position),
        after the rows it holds; then the parts are deleted. Returns the samples file's rows by id (its
        finished rows and the merged ones, failed included), as a one-process run would hold them.

        The samples file is replaced in one step, so a kill leaves it before or after the merge; parts
        a kill left behind hold only rows it already has, which the next merge skips."""
        path = self.samples_path(task)
        raw = path.read_bytes() if path.is_file() else b""
        rows = _finished(row for _, row in _parse_rows(path, raw))
        merged: dict[str, tuple[bytes, dict[str, Any]]] = {}
        parts = self.part_paths(task)
        for part in parts:
            for line, row in _parse_rows(part, part.read_bytes()):
                if row["id"] in rows:
                    continue
                known = merged.get(row["id"])
                if known is None or known[1].get("error") or not row.get("error"):
                    merged[row["id"]] = (line, row)
        last = len(order)
        new = sorted(merged.values(), key=lambda lr: (order.get(lr[1]["id"], last), lr[1]["id"]))
        if new:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise DataError(f"{path.parent}: cannot create: {os_error_reason(err)}") from None
            complete = raw[: raw.rfind(b"\n") + 1]
            _replace(path, complete + b"".join(line for line, _ in new))
        for part in parts:
            part.unlink(missing_ok=True)
        if parts:
            try:
                parts[0].parent.rmdir()
                parts[0].parent.parent.rmdir()  # `parts/` itself, once no task has parts left
            except OSError:
                pass
        rows.update((row["id"], row) for _, row in new)
        return rows

    def has_parts(self, task: str) -> bool:
        return bool(self.part_paths(task))


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
