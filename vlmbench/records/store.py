"""The results store: an SQLite index over run records (`runs/<run_id>/run.json`).

Run records stay the source of truth; the index only makes a board of hundreds of runs quick to
query, and `rebuild()` recreates it from the records at any time. Every write is one transaction
(`BEGIN IMMEDIATE`, WAL journal, busy timeout), so several processes may add runs at once and a bad
record never leaves half a run behind. Adding is idempotent: a record whose bytes did not change is
skipped, and a record that changed (a run that finished since) replaces its old rows.

Nothing here imports `vlmbench.models`, torch or transformers: the store reads records, it never
runs a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vlmbench.errors import VlmbenchError, located
from vlmbench.records.hashing import canonical_hash

SCHEMA_VERSION = "1"
RUN_FILE = "run.json"
DEFAULT_STORE = Path("runs") / "vlmbench.sqlite"
STORE_ENV = "VLMBENCH_STORE"
BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    record_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    model_key TEXT NOT NULL,
    model_name TEXT NOT NULL,
    backend TEXT NOT NULL,
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
    PRIMARY KEY (run_id, task)
);
CREATE INDEX IF NOT EXISTS results_task ON results(task, protocol_hash);
"""


class StoreError(VlmbenchError):
    """A run record that cannot be indexed, or a store that cannot be opened."""


def default_store_path() -> Path:
    """`$VLMBENCH_STORE`, else `runs/vlmbench.sqlite` (beside the run folders `vlmbench eval` writes)."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


# ---------------------------------------------------------------- the part of a run record we rely on


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Weights(_Open):
    """`vlmbench.records.provenance.weights_hash`: a local checkpoint's weight files, hashed."""

    sha256: str = Field(min_length=1)


class _Model(_Open):
    name: str = Field(min_length=1)
    backend: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    weights: _Weights | None = None
    n_params: int | None = Field(None, ge=0)


class _Lineage(_Open):
    base_model: str | None = None
    algorithm: str | None = None
    config_hash: str | None = None
    steps: int | None = None


class _Protocol(_Open):
    task: str
    task_version: str


class _Metrics(_Open):
    official: float = Field(ge=0.0, le=1.0)
    official_ci95: tuple[float, float]
    robust: float | None = Field(None, ge=0.0, le=1.0)
    unparsed_rate: float | None = Field(None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ci_holds_value(self) -> _Metrics:
        low, high = self.official_ci95
        if not 0.0 <= low <= self.official + 1e-9 or not self.official - 1e-9 <= high <= 1.0:
            raise ValueError(f"official_ci95 {[low, high]} does not hold official {self.official}")
        return self


class _TaskResult(_Open):
    protocol_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    protocol: _Protocol
    status: str
    n: int | None = Field(None, ge=0)
    n_failed: int | None = Field(None, ge=0)
    metric: str | None = None
    metrics: _Metrics | None = None
    tokens_in: int | None = Field(None, ge=0)
    tokens_out: int | None = Field(None, ge=0)
    truncation_rate: float | None = Field(None, ge=0.0, le=1.0)
    generation_seconds: float | None = Field(None, ge=0.0)

    @model_validator(mode="after")
    def _done_has_results(self) -> _TaskResult:
        if self.status == "done" and (self.n is None or self.metrics is None or self.metric is None):
            raise ValueError("a finished task needs n, metric and metrics")
        return self


class _Record(_Open):
    run_id: str = Field(min_length=1)
    status: str
    model: _Model
    lineage: _Lineage | None = None
    tasks: dict[str, _TaskResult]


@dataclass(frozen=True)
class RunRecord:
    """A run record read from disk and checked: what `add` indexes."""

    path: Path
    sha256: str
    record: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.record["run_id"])


def model_key(record: dict[str, Any]) -> str:
    """Identity of a leaderboard row: the model and how it was served and trained, not the run."""
    model = record["model"]
    lineage = record.get("lineage") or {}
    ident = {
        "name": model["name"],
        "backend": model["backend"],
        "args": model.get("args") or {},
        "weights": (model.get("weights") or {}).get("sha256"),
        "lineage": {k: lineage.get(k) for k in ("base_model", "algorithm", "config_hash", "steps")},
    }
    return canonical_hash(ident)[:16]


def read_record(run_dir: str | Path, known_tasks: Iterable[str] | None = None) -> RunRecord:
    """Read and check `run_dir/run.json`; every error names the file (and the field at fault)."""
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StoreError(located(path, None, "no run record here (is this a run folder?)")) from None
    except OSError as err:
        raise StoreError(located(path, None, f"cannot read run record ({err.strerror})")) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StoreError(located(path, None, "run record is not UTF-8 text")) from None
    except json.JSONDecodeError as err:
        hint = " - truncated?" if err.pos >= len(raw.rstrip()) else ""
        raise StoreError(located(path, err.lineno, f"malformed run record ({err.msg}{hint})")) from None
    if not isinstance(data, dict):
        raise StoreError(located(path, 1, "malformed run record (not a JSON object)"))
    try:
        checked = _Record.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise StoreError(located(path, None, f"invalid run record: {where}: {first['msg']}{more}")) from None
    known = set(known_tasks) if known_tasks is not None else None
    for name, result in checked.tasks.items():
        if known is not None and name not in known:
            raise StoreError(
                located(
                    path,
                    None,
                    f"run of unknown task {name!r} (not in the task registry; see `vlmbench tasks`)",
                )
            )
        if result.protocol.task != name:
            raise StoreError(
                located(path, None, f"tasks.{name}: protocol names task {result.protocol.task!r}")
            )
        if canonical_hash(data["tasks"][name]["protocol"]) != result.protocol_hash:
            raise StoreError(
                located(
                    path, None, f"tasks.{name}: protocol does not match its protocol_hash (edited by hand?)"
                )
            )
    return RunRecord(run_dir.resolve(), hashlib.sha256(raw).hexdigest(), data)


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Run folders from the paths given: a run folder itself, or a folder of run folders (`runs/`)."""
    found: list[Path] = []
    for entry in map(Path, paths):
        if (entry / RUN_FILE).is_file() or not entry.is_dir():
            found.append(entry)  # a missing folder is reported by read_record, with its name
            continue
        children = sorted(p.parent for p in entry.glob(f"*/{RUN_FILE}"))
        if not children:
            raise StoreError(located(entry / RUN_FILE, None, "no run record here or in its sub-folders"))
        found.extend(children)
    return found


def _known_tasks() -> set[str]:
    from vlmbench.registry import task_names

    return set(task_names())


# ---------------------------------------------------------------- the index


@dataclass(frozen=True)
class AddResult:
    run_id: str
    path: Path
    action: str  # "added" | "updated" | "unchanged" | "skipped"
    error: str | None = None  # why a run was skipped (add(..., skip_bad=True))


class Store:
    """The SQLite index at `path` (created on first use)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open the store ({err})") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.DatabaseError as err:
            raise StoreError(
                f"{self.path}: {err} (run `vlmbench leaderboard rebuild` to recreate it)"
            ) from None
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it lands, or nothing does."""
        with self._connect() as conn:
            _retry(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def add(self, run_dirs: Iterable[str | Path], skip_bad: bool = False) -> list[AddResult]:
        """Index runs (idempotent). Every record is read and checked first; one bad record fails the
        call with its file named and nothing of the call is written - or, with `skip_bad`, is
        reported as "skipped" (with the error) while the good ones are indexed."""
        known = _known_tasks()
        records: list[RunRecord] = []
        skipped: list[AddResult] = []
        for folder in find_run_dirs(run_dirs):
            try:
                records.append(read_record(folder, known))
            except StoreError as err:
                if not skip_bad:
                    raise
                skipped.append(AddResult(Path(folder).name, Path(folder), "skipped", str(err)))
        with self._write() as conn:
            return [_upsert(conn, rec) for rec in records] + skipped

    def rebuild(self, roots: Iterable[str | Path] | None = None) -> list[AddResult]:
        """Recreate the index from the run records: those it knew whose folders still exist, and every
        run folder under `roots` (default: the store's own folder, i.e. `runs/`)."""
        known_paths: list[Path] = []
        if self.path.exists():
            try:
                with self._connect() as conn:
                    known_paths = [Path(r["path"]) for r in conn.execute("SELECT path FROM runs")]
            except (StoreError, sqlite3.Error):
                known_paths = []  # an unreadable index is what rebuild is for
        roots = [self.path.parent] if roots is None else [Path(r) for r in roots]
        dirs = {p.resolve() for p in known_paths if (p / RUN_FILE).is_file()}
        for root in roots:
            dirs.update(p.parent.resolve() for p in Path(root).glob(f"*/{RUN_FILE}"))
            if (Path(root) / RUN_FILE).is_file():
                dirs.add(Path(root).resolve())
        known = _known_tasks()
        records = [read_record(d, known) for d in sorted(dirs)]
        if self.path.exists() and not self._sound():
            for stale in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                stale.unlink(missing_ok=True)  # a broken index: start afresh (the records are the truth)
        with self._write() as conn:
            for table in ("results", "protocols", "runs"):
                conn.execute(f"DELETE FROM {table}")
            return [_upsert(conn, rec) for rec in records]

    def _sound(self) -> bool:
        if not _is_sqlite(self.path):
            return False
        try:
            return self.check() == []
        except (StoreError, sqlite3.Error):
            return False

    # -------------------------------------------------------------- reading

    def runs(self) -> list[dict[str, Any]]:
        """Every indexed run: its columns, with `record` parsed."""
        with self._connect() as conn:
            if not _has_tables(conn):
                return []
            rows = conn.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
        return [{**dict(r), "record": json.loads(r["record"])} for r in rows]

    def results(self, tasks: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Task results joined with their run's model columns (`metrics` parsed)."""
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
        return [{**dict(r), "metrics": json.loads(r["metrics"]) if r["metrics"] else {}} for r in rows]

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


def _upsert(conn: sqlite3.Connection, rec: RunRecord) -> AddResult:
    data = rec.record
    old = conn.execute("SELECT record_sha256, path FROM runs WHERE run_id = ?", (rec.run_id,)).fetchone()
    if old is not None and old["record_sha256"] == rec.sha256 and old["path"] == str(rec.path):
        return AddResult(rec.run_id, rec.path, "unchanged")
    conn.execute("DELETE FROM runs WHERE run_id = ?", (rec.run_id,))  # cascades to its results
    model, lineage = data["model"], data.get("lineage") or {}
    conn.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rec.run_id,
            str(rec.path),
            rec.sha256,
            data["status"],
            model_key(data),
            model["name"],
            model["backend"],
            model.get("n_params"),
            lineage.get("algorithm"),
            lineage.get("base_model"),
            data.get("created"),
            data.get("finished"),
            json.dumps(data, ensure_ascii=False),
        ),
    )
    for task, result in data["tasks"].items():
        proto = result["protocol"]
        conn.execute(
            "INSERT OR IGNORE INTO protocols VALUES (?, ?, ?, ?)",
            (
                result["protocol_hash"],
                task,
                str(proto["task_version"]),
                json.dumps(proto, ensure_ascii=False),
            ),
        )
        metrics = result.get("metrics") or {}
        low, high = metrics.get("official_ci95") or (None, None)
        conn.execute(
            "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rec.run_id,
                task,
                result["protocol_hash"],
                str(proto["task_version"]),
                result["status"],
                result.get("metric"),
                result.get("n"),
                result.get("n_failed"),
                metrics.get("official"),
                low,
                high,
                metrics.get("robust"),
                metrics.get("unparsed_rate"),
                result.get("tokens_in"),
                result.get("tokens_out"),
                result.get("truncation_rate"),
                result.get("generation_seconds"),
                json.dumps(metrics, ensure_ascii=False),
            ),
        )
    return AddResult(rec.run_id, rec.path, "updated" if old is not None else "added")


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


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        header = handle.read(16)
    return header in (b"", b"SQLite format 3\x00")
