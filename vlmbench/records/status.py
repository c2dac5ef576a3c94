"""Run and task statuses, failure reasons, and the exit codes of `vlmbench eval`.

A score is only worth publishing when every sample behind it was answered. So a task that lost samples
to the backend says so (`partial`), a task or run with no answered sample is `failed` (and has no
score at all), and the exit code tells a script which of the three it got. Failed samples of a
`partial` task are counted as wrong in its score, and the count is shown beside it wherever it
appears (docs/records.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Literal

RUNNING, INTERRUPTED, DONE, PARTIAL, FAILED = "running", "interrupted", "done", "partial", "failed"
RunStatus = Literal["running", "interrupted", "done", "partial", "failed"]
TaskStatus = Literal["running", "done", "partial", "failed"]
FINAL = (DONE, PARTIAL, FAILED)


class ExitCode(IntEnum):
    """What `vlmbench eval` exits with (also in `vlmbench eval --help` and README)."""

    DONE = 0  # every sample of every task answered
    ERROR = 2  # bad input or options: nothing was evaluated (the error names the file / option)
    PARTIAL = 3  # some samples failed (counted, by reason); rerun the command to retry only those
    FAILED = 4  # no sample answered, or the backend never answered
    INTERRUPTED = 130  # Ctrl-C: the run stopped where it says; rerun the command to resume


def task_status(n_items: int, n_recorded: int, n_failed: int) -> TaskStatus:
    """`running` until every item has a row; then `done`, `partial` or `failed` by the failed rows."""
    if n_recorded < n_items:
        return RUNNING
    if n_failed == 0:
        return DONE
    return FAILED if n_failed >= n_recorded else PARTIAL


def run_status(task_statuses: Iterable[str]) -> RunStatus:
    """`failed` when no task has an answered sample, `partial` when any task lost samples, else `done`."""
    statuses = list(task_statuses)
    if any(s not in FINAL for s in statuses):
        return RUNNING
    if statuses and all(s == FAILED for s in statuses):
        return FAILED
    if any(s != DONE for s in statuses):
        return PARTIAL
    return DONE


def exit_code(status: str) -> ExitCode:
    return {
        DONE: ExitCode.DONE,
        PARTIAL: ExitCode.PARTIAL,
        FAILED: ExitCode.FAILED,
        INTERRUPTED: ExitCode.INTERRUPTED,
    }.get(status, ExitCode.FAILED)


_HTTP = re.compile(r"\bHTTP (\d{3})\b")
_EXCEPTION = re.compile(r"^([A-Z][A-Za-z0-9_.]*(?:Error|Exception|Exit|Interrupt|Warning)):")


def failure_reason(error: str) -> str:
    """A short, countable reason for a sample's error text: "HTTP 500", "connection error", "timeout",
    "malformed response", the exception's class name, else the text's first words. The full text stays
    in the sample's row."""
    text = error.strip()
    lowered = text.lower()
    if match := _HTTP.search(text):
        return f"HTTP {match.group(1)}"
    if lowered.startswith("malformed response"):  # before the words its quoted body may hold
        return "malformed response"
    if "timeout" in lowered or "timed out" in lowered:
        return "timeout"
    if lowered.startswith("connection error") or "connection refused" in lowered:
        return "connection error"
    if match := _EXCEPTION.match(text):
        return match.group(1).rsplit(".", 1)[-1]
    words = " ".join(text.split()[:6])
    return words[:60] or "unknown error"


def count_failures(errors: Iterable[str | None]) -> dict[str, int]:
    """Failure reasons with their counts, most frequent first (ties by name)."""
    counts = Counter(failure_reason(e) for e in errors if e)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def failure_text(failures: Mapping[str, int]) -> str:
    """`HTTP 500: 3, timeout: 1`: failure reasons with their counts, most frequent first (one wording for
    the terminal, the refusals of the store and the board's marks)."""
    ordered = sorted(failures.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{reason}: {count}" for reason, count in ordered)


def failed_samples(tasks: Iterable[tuple[int, int, Mapping[str, int]]]) -> str:
    """`all 40 samples failed (connection error: 40)` / `3 of 40 samples failed (HTTP 500: 3)` over
    `(n, n_failed, failures)` of one or more tasks; "" when none failed. One sentence for the run's
    `failure`, the store's refusals, the terminal and the board's marks."""
    n = n_failed = 0
    counts: Counter[str] = Counter()
    for task_n, task_failed, failures in tasks:
        n, n_failed = n + task_n, n_failed + task_failed
        counts.update(failures)
    if not n_failed:
        return ""
    share = f"all {n}" if n_failed == n else f"{n_failed} of {n}"
    return f"{share} samples failed ({failure_text(dict(counts))})"
