"""The on-disk cache of judge answers: rescoring a judged run again costs nothing and needs no server.

One SQLite file (`$VLMBENCH_CACHE/judge-cache.sqlite`, `VLMBENCH_JUDGE_CACHE=0` turns it off), keyed by
(judge model, sha256 of the full request): the request holds the judge prompt's instructions, the
question and the response, so the key changes whenever any of them does. Failed calls are never cached.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from vlmbench.defaults import cache_dir
from vlmbench.records.hashing import text_sha256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    model TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    judge_sha256 TEXT NOT NULL,
    response_sha256 TEXT NOT NULL,
    answer TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (model, request_sha256)
)
"""


class JudgeCache:
    """Thread-safe (one connection per call); several processes may share the file (SQLite locking)."""

    def __init__(self, path: Path | None = None, enabled: bool | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / "judge-cache.sqlite"
        self.enabled = os.environ.get("VLMBENCH_JUDGE_CACHE", "1") != "0" if enabled is None else enabled
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        if not self._ready:
            with self._lock:
                conn.execute(_SCHEMA)
                conn.commit()
                self._ready = True
        return conn

    def get(self, model: str, request: str) -> str | None:
        if not self.enabled or not self.path.is_file():
            return None
        conn = self._connect()
        try:
            row = conn.execute(
                "SELECT answer FROM answers WHERE model = ? AND request_sha256 = ?",
                (model, text_sha256(request)),
            ).fetchone()
        finally:
            conn.close()
        return None if row is None else str(row[0])

    def put(self, model: str, request: str, judge_sha256: str, response: str, answer: str) -> None:
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        model,
                        text_sha256(request),
                        judge_sha256,
                        text_sha256(response),
                        answer,
                        datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    ),
                )
        finally:
            conn.close()

    def __len__(self) -> int:
        if not self.path.is_file():
            return 0
        conn = self._connect()
        try:
            return int(conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
        finally:
            conn.close()
