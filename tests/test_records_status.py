"""Statuses, failure reasons and exit codes (`vlmbench.records.status`): what a record says it holds."""

from __future__ import annotations

import pytest

from vlmbench.records.status import (
    ExitCode,
    count_failures,
    exit_code,
    failure_reason,
    run_status,
    task_status,
)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("HTTP 500 from http://h/v1/chat/completions: overloaded (gave up after 5 attempts)", "HTTP 500"),
        ("HTTP 429 from http://h/v1/chat/completions: slow down", "HTTP 429"),
        ("connection error to http://127.0.0.1:9/v1: [Errno 111] Connection refused", "connection error"),
        ("timeout after 60s from http://h/v1/chat/completions (gave up after 5 attempts)", "timeout"),
        ("malformed response: KeyError: 'choices'; body starts '{}'", "malformed response"),
        ("RuntimeError: cannot decode the image of x", "RuntimeError"),
        ("ContextLengthError: prompt of 9000 tokens", "ContextLengthError"),
        ("something odd happened to the model server today at noon", "something odd happened to the model"),
        ("   ", "unknown error"),
    ],
)  # fmt: skip
def test_failure_reasons_are_short_and_countable(error: str, reason: str) -> None:
    assert failure_reason(error) == reason


def test_failures_are_counted_most_frequent_first() -> None:
    errors = [None, "HTTP 500 from u: x", "timeout after 1s from u", "HTTP 500 from u: y", "", None]
    assert count_failures(errors) == {"HTTP 500": 2, "timeout": 1}
    assert list(count_failures(["b: x", "timeout", "a: y"])) == ["a: y", "b: x", "timeout"]  # ties by name


@pytest.mark.parametrize(
    ("n_items", "recorded", "failed", "status"),
    [
        (10, 10, 0, "done"),
        (10, 10, 3, "partial"),
        (10, 10, 10, "failed"),
        (10, 4, 0, "running"),
        (0, 0, 0, "done"),
    ],
)
def test_a_task_is_done_partial_or_failed_once_every_item_has_a_row(
    n_items: int, recorded: int, failed: int, status: str
) -> None:
    assert task_status(n_items, recorded, failed) == status


@pytest.mark.parametrize(
    ("tasks", "status"),
    [
        (["done", "done"], "done"),
        (["done", "partial"], "partial"),
        (["done", "failed"], "partial"),  # one task answered: the run is not a total failure
        (["failed", "failed"], "failed"),
        (["done", "running"], "running"),
    ],
)
def test_the_run_status_follows_its_tasks(tasks: list[str], status: str) -> None:
    assert run_status(tasks) == status


def test_only_a_done_run_exits_zero() -> None:
    assert [exit_code(s) for s in ("done", "partial", "failed", "interrupted")] == [0, 3, 4, 130]
    assert len({code.value for code in ExitCode}) == len(ExitCode)  # each outcome its own code
