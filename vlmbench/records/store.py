"""The results store: an SQLite index over run records (`run.json`, wherever a run folder lies).

Run records stay the source of truth; the index only makes a board of hundreds of runs quick to
query, and `rebuild()` recreates it from the records at any time. Every write is one transaction
(`BEGIN IMMEDIATE`, WAL journal, busy timeout), so several processes may add runs at once and a bad
record never leaves half a run behind. Adding is idempotent: a record whose bytes did not change is
skipped, and a record that changed (a run that finished since) replaces its old rows.

Only scores that stand for the model they name are indexed: a `failed` run is refused, a run with a
`partial` task (samples the backend never answered) only when the caller allows it - its failed
samples count as wrong, and the board says how many - and a failed or unfinished task of an indexed
run has no row at all.

Nothing here imports `vlmbench.models`, torch or transformers: the store reads records, it never
runs a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vlmbench.errors import VlmbenchError, first_validation_error, located, os_error_reason
from vlmbench.records.hashing import canonical_hash, file_sha256
from vlmbench.records.record import RecordVersionError, RunRecord, TaskResult, validate_record
from vlmbench.records.rundir import RUN_FILE
from vlmbench.records.status import DONE, FAILED, PARTIAL, failed_samples

SCHEMA_VERSION = "3"  # 3: a task may have a second, judged result (its own protocol hash)
DEFAULT_STORE = Path("runs") / "vlmbench.sqlite"
STORE_ENV = "VLMBENCH_STORE"
BUSY_TIMEOUT_S = 60.0
# folders a search for run records never enters (a run folder's own sub-folders are not searched either)
NOT_RUNS = frozenset({".venv", "__pycache__", "node_modules"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    record_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    allow_partial INTEGER NOT NULL,
    model_key TEXT NOT NULL,
    model_name TEXT NOT NULL,
    backend TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    n_params INTEGER,
    algorithm TEXT,
    base_model TEXT,
    created TEXT,
    finished TEXT,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS protocols (
    protocol_hash TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    task_version TEXT NOT NULL,
    protocol TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    task TEXT NOT NULL,
    protocol_hash TEXT NOT NULL REFERENCES protocols(protocol_hash),
    task_version TEXT NOT NULL,
    status TEXT NOT NULL,
    metric TEXT,
    n INTEGER,
    n_failed INTEGER,
    failures TEXT NOT NULL,
    official REAL,
    official_lo REAL,
    official_hi REAL,
    robust REAL,
    unparsed_rate REAL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    truncation_rate REAL,
    generation_seconds REAL,
    metrics TEXT,
    PRIMARY KEY (run_id, task, protocol_hash)
);
CREATE INDEX IF NOT EXISTS results_task ON results(task, protocol_hash);
"""


class StoreError(VlmbenchError):
    """A run record that cannot be indexed, or a store that cannot be opened."""


class StoreCorruptError(StoreError):
    """The index file is damaged or not a database: `rebuild` recreates it from the run records."""


class StoreAccessError(StoreError):
    """The store cannot be read or written (read-only, disk full, locked, I/O): the file itself may be
    sound, so this is never answered with a rebuild, and `rebuild` never deletes a store for it."""


# SQLite result codes (https://sqlite.org/rescode.html) that say the store cannot be used now, not that
# the file is broken, and what each means
_SQLITE_ACCESS = {
    3: "the store is not writable; it is unchanged",  # PERM
    8: "the store is not writable; it is unchanged",  # READONLY
    13: "the disk is full; the store is unchanged",  # FULL
    5: "the store is locked by another process",  # BUSY
    6: "the store is locked by another process",  # LOCKED
    10: "cannot read or write the store (I/O error)",  # IOERR
}
_SQLITE_CANTOPEN, _SQLITE_READONLY_DIRECTORY = 14, 1544  # why is told by `_cannot_open`
_SQLITE_CORRUPT = (11, 26)  # CORRUPT, NOTADB
_SQLITE_SQL_ERROR = 1  # our statements are fixed: a table or column they miss is another schema's index
_SQLITE_MESSAGES = {  # for errors without a code (raised by hand, or by an older sqlite3 module)
    "readonly database": 8,
    "disk is full": 13,
    "unable to open database file": 14,
    "database is locked": 5,
    "disk i/o error": 10,
    "malformed": 11,
    "not a database": 26,
    "no such table": 1,
    "no such column": 1,
}


def _sqlite_code(err: sqlite3.Error) -> int | None:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return int(code)
    message = str(err).lower()
    return next((c for words, c in _SQLITE_MESSAGES.items() if words in message), None)


def sqlite_failure(path: Path, err: sqlite3.Error) -> StoreError:
    """A one-line StoreError for an SQLite error: only a damaged file is told to rebuild."""
    code = _sqlite_code(err)
    for key in (code, None if code is None else code & 0xFF):
        if key in (_SQLITE_CANTOPEN, _SQLITE_READONLY_DIRECTORY):
            return StoreAccessError(f"{path}: {_cannot_open(path)} ({err})")
        if key in _SQLITE_ACCESS:
            return StoreAccessError(f"{path}: {_SQLITE_ACCESS[key]} ({err})")
        if key in _SQLITE_CORRUPT:
            return StoreCorruptError(f"{path}: {err} (run `vlmbench leaderboard rebuild` to recreate it)")
        if key == _SQLITE_SQL_ERROR:
            return StoreError(
                f"{path}: {err} (an index of another store schema? run `vlmbench leaderboard rebuild`)"
            )
    return StoreError(f"{path}: {err}")


def _cannot_open(path: Path) -> str:
    """Why SQLite could not open the store, from what the file system says (SQLite does not say)."""
    folder = path.parent
    if not folder.is_dir():
        return f"cannot open the store: its folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return (
            f"cannot open the store: its folder {folder} is not writable (SQLite keeps "
            f"{path.name}-wal and {path.name}-shm beside the store, even to read it)"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "cannot open the store: the file is not readable and writable"
    return "cannot open the store"


def default_store_path() -> Path:
    """`$VLMBENCH_STORE`, else `runs/vlmbench.sqlite` (beside the run folders `vlmbench eval` writes)."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


# ---------------------------------------------------------------- reading run records


@dataclass(frozen=True)
class RecordFile:
    """A run record read from disk and validated (`record`): what `add` indexes."""

    path: Path
    sha256: str
    record: RunRecord

    @property
    def run_id(self) -> str:
        return self.record.run_id


def model_key(record: RunRecord) -> str:
    """Identity of a leaderboard row: the model - by its content fingerprint, so a checkpoint retrained
    under the same name is another row - and how it is served; not the run. How it was trained
    (lineage) describes those same weights, so it is not part of the key: the blank-image run of a
    trained checkpoint, or a later plain `vlmbench eval` of it, lands in the checkpoint's own row."""
    model = record.model
    ident = {
        "name": model.name,
        "backend": model.backend,
        "args": model.args,
        "fingerprint": model.fingerprint.digest,
    }
    return canonical_hash(ident)[:16]


def read_record(run_dir: str | Path, known_tasks: Iterable[str] | None = None) -> RecordFile:
    """Read and validate `run_dir/run.json`; every error names the file (and the field at fault)."""
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    raw = _read_bytes(path)
    data = _parse(path, raw)
    try:
        record = validate_record(data)
    except RecordVersionError as err:
        raise StoreError(located(path, None, str(err))) from None
    except ValidationError as err:
        raise StoreError(located(path, None, f"invalid run record: {first_validation_error(err)}")) from None
    known = set(known_tasks) if known_tasks is not None else None
    for name in record.tasks:
        if known is not None and name not in known:
            raise StoreError(
                located(
                    path,
                    None,
                    f"run of unknown task {name!r} (not in the task registry; see `vlmbench tasks`)",
                )
            )
    if record.run_id != run_dir.resolve().name:
        raise StoreError(
            located(path, None, f"names run {record.run_id!r} but lies in folder {run_dir.resolve().name!r} "
                    "(copied or edited by hand?): a run's folder is its id")
        )  # fmt: skip
    for name, result in record.tasks.items():
        _check_samples(run_dir / "samples" / f"{name}.jsonl", result.samples_sha256)
    return RecordFile(run_dir.resolve(), hashlib.sha256(raw).hexdigest(), record)


def _check_samples(path: Path, recorded: str | None) -> None:
    """The samples file is the one its task summary was computed from: a file edited after the run
    (outputs changed by hand, rows lost) would publish scores no row supports. Records that carry no
    digest (written by hand, by tests) are not checked; a digest detects edits, it is not a signature."""
    if recorded is None:
        return
    try:
        digest = file_sha256(path)
    except FileNotFoundError:
        raise StoreError(
            located(path, None, "missing: the run record scores samples it no longer has")
        ) from None
    except OSError as err:
        raise StoreError(located(path, None, f"cannot read: {os_error_reason(err)}")) from None
    if digest != recorded:
        raise StoreError(
            located(path, None, f"changed after the run recorded it (sha256 {digest[:12]}, recorded "
                    f"{recorded[:12]}): rerun the eval, or `vlmbench score RUN_DIR` to see what changed")
        )  # fmt: skip


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StoreError(located(path, None, "no run record here (is this a run folder?)")) from None
    except OSError as err:
        raise StoreError(located(path, None, f"cannot read run record ({err.strerror})")) from None


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StoreError(located(path, None, "run record is not UTF-8 text")) from None
    except json.JSONDecodeError as err:
        hint = " - truncated?" if err.pos >= len(raw.rstrip()) else ""
        raise StoreError(located(path, err.lineno, f"malformed run record ({err.msg}{hint})")) from None
    if not isinstance(data, dict):
        raise StoreError(located(path, 1, "malformed run record (not a JSON object)"))
    return data


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Run folders from the paths given: a run folder itself, or any folder with run folders anywhere
    below it (`runs/`, or a training tree such as `train-runs/grpo/<name>/runs/<run_id>/`)."""
    found: list[Path] = []
    for entry in map(Path, paths):
        if (entry / RUN_FILE).is_file() or not entry.is_dir():
            found.append(entry)  # a missing folder is reported by read_record, with its name
            continue
        below = walk_run_dirs(entry)
        if not below:
            raise StoreError(located(entry / RUN_FILE, None, "no run record here or in its sub-folders"))
        found.extend(below)
    return found


def walk_run_dirs(root: str | Path) -> list[Path]:
    """Every folder under `root` holding a run.json, in path order. A run folder's own sub-folders are
    not searched, nor hidden folders, virtual environments, `__pycache__` and `node_modules`."""
    found: list[Path] = []
    for folder, subdirs, files in os.walk(root):
        if RUN_FILE in files:
            found.append(Path(folder))
            subdirs.clear()
            continue
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in NOT_RUNS)
    return sorted(found)


def _known_tasks() -> set[str]:
    from vlmbench.registry import task_names

    return set(task_names())


# ---------------------------------------------------------------- what is indexed, what is refused


def indexed_tasks(record: RunRecord, allow_partial: bool) -> dict[str, TaskResult]:
    """The tasks whose scores stand: `done` ones, and `partial` ones when allowed (a failed task has no
    score; a running one has none yet, so an interrupted run's finished tasks still count)."""
    wanted = (DONE, PARTIAL) if allow_partial else (DONE,)
    return {name: result for name, result in record.tasks.items() if result.status in wanted}


def is_partial(record: RunRecord) -> bool:
    return record.status == PARTIAL or any(t.status == PARTIAL for t in record.tasks.values())


def refusal(rec: RecordFile, allow_partial: bool) -> str | None:
    """Why the run must not be indexed (None: it may): a failed run never, a partial one unless allowed."""
    where = f"run {rec.run_id} ({rec.path})"
    record = rec.record
    if record.status == FAILED:
        why = record.failure or _failed_samples(record) or "its status is failed"
        return f"{where} failed: {why}; a failed run has no score and is never indexed"
    if is_partial(record) and not allow_partial:
        return (
            f"{where} is partial: {_failed_samples(record)}. Rerun the same `vlmbench eval` command to "
            "retry only those samples, or add it with --allow-partial to publish it with them counted "
            "as wrong (the board marks its cells)"
        )
    return None


def _failed_samples(record: RunRecord) -> str:
    return failed_samples((t.n, t.n_failed, t.failures) for t in record.tasks.values())


# ---------------------------------------------------------------- the index


@dataclass(frozen=True)
class AddResult:
    run_id: str
    path: Path
    action: str  # "added" | "updated" | "unchanged" | "refused" | "skipped"
    error: str | None = None  # why a run was refused, or skipped (add(..., skip_bad=True))


INDEXED = ("added", "updated", "unchanged")


class Store:
    """The SQLite index at `path` (created on first use)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()

    def _open(self) -> sqlite3.Connection:
        """A connection (the folder made first); every OS or SQLite error is a one-line StoreError."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreAccessError(
                f"{self.path}: cannot create the store's folder: {os_error_reason(err)}"
            ) from None
        try:
            return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as err:
            raise sqlite_failure(self.path, err) from None
        except OSError as err:
            raise StoreAccessError(f"{self.path}: cannot open the store: {os_error_reason(err)}") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = self._open()
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.DatabaseError as err:
            raise sqlite_failure(self.path, err) from None
        except OSError as err:
            raise StoreAccessError(f"{self.path}: {os_error_reason(err)}") from None
        finally:
            conn.close()  # an open transaction is rolled back here at the latest

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it lands, or nothing does (a failed COMMIT - disk full -
        included: SQLite keeps the old pages until the commit is complete)."""
        with self._connect() as conn:
            _retry(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                _check_schema(conn, self.path)
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    def add(
        self, run_dirs: Iterable[str | Path], skip_bad: bool = False, allow_partial: bool = False
    ) -> list[AddResult]:
        """Index runs (idempotent). Every record is read and checked first; one bad record fails the
        call with its file named and nothing of the call is written - or, with `skip_bad`, is
        reported as "skipped" (with the error) while the good ones are indexed. Runs that must not be
        published (failed; partial without `allow_partial`) are reported as "refused" and the others
        are indexed. A run once added with `allow_partial` keeps that choice (here and in `rebuild`)."""
        folders = find_run_dirs(run_dirs)
        chosen = self._partial_choices()
        return self._index(folders, lambda rec: allow_partial or chosen.get(rec.run_id, False), skip_bad)

    def rebuild(self, roots: Iterable[str | Path] | None = None, skip_bad: bool = False) -> list[AddResult]:
        """Recreate the index from the run records: those it knew whose folders still exist (each judged
        as it was added: with or without allow_partial), and every run folder anywhere under `roots`
        (default: the store's own folder, i.e. `runs/`), judged without it."""
        chosen = self._partial_choices()
        roots = [self.path.parent] if roots is None else [Path(r) for r in roots]
        dirs = {p.resolve() for p in self._known_paths() if (p / RUN_FILE).is_file()}
        for root in roots:
            dirs.update(p.resolve() for p in walk_run_dirs(root))
        if self.path.exists() and not self._sound():
            self._remove()  # a broken or older index: start afresh (the records are the truth)
        return self._index(sorted(dirs), lambda rec: chosen.get(rec.run_id, False), skip_bad, fresh=True)

    def _index(
        self,
        folders: list[Path],
        allowed: Callable[[RecordFile], bool],
        skip_bad: bool,
        fresh: bool = False,
    ) -> list[AddResult]:
        """Read and judge every folder, then write the runs that may be indexed in one transaction
        (`fresh`: replacing everything the index held)."""
        known = _known_tasks()
        accepted: list[tuple[RecordFile, bool]] = []
        reports: list[AddResult] = []
        for folder in folders:
            try:
                rec = read_record(folder, known)
            except StoreError as err:
                if not skip_bad:
                    raise
                reports.append(AddResult(Path(folder).name, Path(folder), "skipped", str(err)))
                continue
            allow = allowed(rec)
            why = refusal(rec, allow)
            if why:
                reports.append(AddResult(rec.run_id, rec.path, "refused", why))
            else:
                accepted.append((rec, allow and is_partial(rec.record)))  # the choice, where it matters
        with self._write() as conn:
            if fresh:
                for table in ("results", "protocols", "runs"):
                    conn.execute(f"DELETE FROM {table}")
            return [_upsert(conn, rec, allow) for rec, allow in accepted] + reports

    def _partial_choices(self) -> dict[str, bool]:
        """run_id -> whether it was added with allow_partial (an unreadable or older index: none)."""
        rows = self._query_or_none("SELECT run_id, allow_partial FROM runs")
        return {r["run_id"]: bool(r["allow_partial"]) for r in rows or []}

    def _known_paths(self) -> list[Path]:
        return [Path(r["path"]) for r in self._query_or_none("SELECT path FROM runs") or []]

    def _query_or_none(self, query: str) -> list[sqlite3.Row] | None:
        """Rows of a query on an index that may be broken or of an older schema (what rebuild is for)."""
        if not self.path.exists():
            return None
        try:
            with self._connect() as conn:
                return conn.execute(query).fetchall()
        except StoreAccessError:
            raise  # a sound file we cannot use now is not a broken one
        except (StoreError, sqlite3.Error):
            return None

    def _sound(self) -> bool:
        """Whether the index file is a sound one of this schema; an unreadable or unwritable store is
        an error, never "unsound" (rebuild must not delete a store it merely cannot open)."""
        if not _is_sqlite(self.path):
            return False
        try:
            return self.check() == [] and self._schema_version() in (None, SCHEMA_VERSION)
        except StoreAccessError:
            raise
        except (StoreError, sqlite3.Error):
            return False

    def _remove(self) -> None:
        for stale in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            try:
                stale.unlink(missing_ok=True)
            except OSError as err:
                raise StoreAccessError(
                    f"{stale}: cannot remove the old index: {os_error_reason(err)}"
                ) from None

    def _schema_version(self) -> str | None:
        rows = self._query_or_none("SELECT value FROM meta WHERE key = 'schema_version'")
        return rows[0]["value"] if rows else None

    # -------------------------------------------------------------- reading

    def runs(self) -> list[dict[str, Any]]:
        """Every indexed run: its columns, with `record` parsed."""
        with self._connect() as conn:
            if not _has_tables(conn):
                return []
            rows = conn.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
        return [{**dict(r), "record": json.loads(r["record"])} for r in rows]

    def results(self, tasks: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Task results joined with their run's model columns (`metrics` and `failures` parsed)."""
        query = (
            "SELECT r.*, runs.model_key, runs.model_name, runs.backend, runs.status AS run_status, "
            "runs.created, runs.finished, runs.path FROM results r JOIN runs USING (run_id)"
        )
        params: tuple[str, ...] = ()
        if tasks is not None:
            names = tuple(tasks)
            if not names:
                return []
            query += f" WHERE r.task IN ({','.join('?' * len(names))})"
            params = names
        with self._connect() as conn:
            if not _has_tables(conn):
                return []
            rows = conn.execute(query + " ORDER BY r.task, r.run_id", params).fetchall()
        return [
            {
                **dict(r),
                "metrics": json.loads(r["metrics"]) if r["metrics"] else {},
                "failures": json.loads(r["failures"]),
            }
            for r in rows
        ]

    def protocols(self) -> dict[str, dict[str, Any]]:
        with self._connect() as conn:
            if not _has_tables(conn):
                return {}
            rows = conn.execute("SELECT protocol_hash, protocol FROM protocols").fetchall()
        return {r["protocol_hash"]: json.loads(r["protocol"]) for r in rows}

    def check(self) -> list[str]:
        """SQLite's integrity and foreign-key checks: an empty list when the index is sound."""
        with self._connect() as conn:
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
            problems += [f"dangling row in {r[0]}" for r in conn.execute("PRAGMA foreign_key_check")]
        return problems


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """An index written by another store schema is not added to (its tables differ): rebuild it."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
        return
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is not None and row["value"] != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: index of store schema {row['value']} (this vlmbench writes {SCHEMA_VERSION}); "
            "run `vlmbench leaderboard rebuild` to recreate it from the run records"
        )


def _upsert(conn: sqlite3.Connection, rec: RecordFile, allow_partial: bool) -> AddResult:
    old = conn.execute(
        "SELECT record_sha256, path, allow_partial FROM runs WHERE run_id = ?", (rec.run_id,)
    ).fetchone()
    same = (rec.sha256, str(rec.path), int(allow_partial))
    if old is not None and (old["record_sha256"], old["path"], old["allow_partial"]) == same:
        return AddResult(rec.run_id, rec.path, "unchanged")
    conn.execute("DELETE FROM runs WHERE run_id = ?", (rec.run_id,))  # cascades to its results
    record = rec.record
    conn.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _run_row(rec, allow_partial)
    )
    for task, result in indexed_tasks(record, allow_partial).items():
        _insert_result(conn, rec.run_id, task, result, _rule_based(result))
        if judged_indexable(result, allow_partial):
            _insert_result(conn, rec.run_id, task, result, _judged(result))
    return AddResult(rec.run_id, rec.path, "updated" if old is not None else "added")


def _run_row(rec: RecordFile, allow_partial: bool) -> tuple[Any, ...]:
    record = rec.record
    model, lineage = record.model, record.lineage
    return (
        rec.run_id,
        str(rec.path),
        rec.sha256,
        record.status,
        int(allow_partial),
        model_key(record),
        model.name,
        model.backend,
        model.fingerprint.digest,
        model.n_params,
        lineage.algorithm if lineage else None,
        lineage.base_model if lineage else None,
        record.created,
        record.finished,
        json.dumps(record.model_dump(mode="json"), ensure_ascii=False),
    )


@dataclass(frozen=True)
class _Scored:
    """One scored column of a task result: the rule-based one, or the judged one (`--judge`)."""

    protocol_hash: str
    protocol: dict[str, Any]
    status: str
    n: int
    n_failed: int
    failures: dict[str, int]
    metrics: dict[str, Any]


def _rule_based(result: TaskResult) -> _Scored:
    metrics = result.metrics.model_dump(mode="json") if result.metrics else {}
    proto = result.protocol.model_dump(mode="json")
    return _Scored(
        result.protocol_hash, proto, result.status, result.n, result.n_failed, result.failures, metrics
    )


def _judged(result: TaskResult) -> _Scored:
    """The judged column as a result of its own: the protocol with the judge, the judged score as its
    `official` (no robust: the judge has no rule-based twin)."""
    judge = result.judge
    assert judge is not None and judge.official is not None and judge.official_ci95 is not None
    metrics = {"official": judge.official, "official_ci95": list(judge.official_ci95), "judge": judge.model}
    status = PARTIAL if judge.n_failed else DONE
    return _Scored(
        judge.protocol_hash,
        result.judged_protocol(),
        status,
        judge.n,
        judge.n_failed,
        judge.failures,
        metrics,
    )


def _insert_result(
    conn: sqlite3.Connection, run_id: str, task: str, result: TaskResult, scored: _Scored
) -> None:
    version = str(result.protocol.task_version)
    conn.execute(
        "INSERT OR IGNORE INTO protocols VALUES (?, ?, ?, ?)",
        (scored.protocol_hash, task, version, json.dumps(scored.protocol, ensure_ascii=False)),
    )
    metrics = scored.metrics
    low, high = metrics.get("official_ci95") or (None, None)
    conn.execute(
        "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            task,
            scored.protocol_hash,
            version,
            scored.status,
            result.metric,
            scored.n,
            scored.n_failed,
            json.dumps(scored.failures, ensure_ascii=False),
            metrics.get("official"),
            low,
            high,
            metrics.get("robust"),
            metrics.get("unparsed_rate"),
            result.tokens_in,
            result.tokens_out,
            result.truncation_rate,
            result.generation_seconds,
            json.dumps(metrics, ensure_ascii=False),
        ),
    )


def judged_indexable(result: TaskResult, allow_partial: bool) -> bool:
    """A task's judged column stands when it has a score and, unless partial results are allowed, no
    sample lacks a judged verdict (a failed judge call counts like a failed sample)."""
    judge = result.judge
    return judge is not None and judge.official is not None and (allow_partial or judge.n_failed == 0)


def _retry(step: Any, attempts: int = 50) -> Any:
    """Retry a statement that SQLite answers 'database is locked' before the busy handler applies
    (switching to WAL, or BEGIN IMMEDIATE racing another writer on a brand-new file)."""
    for attempt in range(attempts):
        try:
            return step()
        except sqlite3.OperationalError as err:
            if ("locked" not in str(err) and "busy" not in str(err)) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None  # pragma: no cover


def _has_tables(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'results'").fetchone()
    return row is not None


def _rollback(conn: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already (it does on some errors, e.g. disk full),
    without hiding the error that got us here."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):  # closing the connection rolls back too
            conn.execute("ROLLBACK")


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as err:
        raise StoreAccessError(f"{path}: cannot read the store: {os_error_reason(err)}") from None
    return header in (b"", b"SQLite format 3\x00")
