"""`vlmbench leaderboard add | rebuild | publish` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from leaderboard_records import task_result, write_run
from typer.testing import CliRunner

from vlmbench.cli import app

runner = CliRunner()


def _runs(root: Path) -> Path:
    runs = root / "runs"
    for i, correct in enumerate((8, 5)):
        tasks = {t: task_result(t, correct, 10) for t in ("synth_chart", "synth_scene")}
        write_run(runs, f"r{i}", f"model-{i}", tasks)
    return runs


def test_add_publish_rebuild(tmp_path: Path) -> None:
    runs = _runs(tmp_path)
    store = str(tmp_path / "s.sqlite")
    first = runner.invoke(app, ["leaderboard", "add", str(runs / "r0"), str(runs / "r1"), "--store", store])
    assert first.exit_code == 0, first.output
    assert "2 added, 0 updated, 0 unchanged, 0 skipped, 0 refused" in first.output
    again = runner.invoke(app, ["leaderboard", "add", str(runs), "--store", store])
    assert "0 added, 0 updated, 2 unchanged, 0 skipped, 0 refused" in again.output
    out = tmp_path / "site"
    published = runner.invoke(
        app, ["leaderboard", "publish", "--board", "synth", "--store", store, "--out", str(out)]
    )
    assert published.exit_code == 0, published.output
    assert {p.name for p in out.iterdir()} == {
        ".vlmbench-board.json",
        "index.html",
        "README.md",
        "results.csv",
        "results.json",
        "models",
    }
    assert [r["model"] for r in json.loads((out / "results.json").read_text())["rows"]] == [
        "model-0",
        "model-1",
    ]
    rebuilt = runner.invoke(app, ["leaderboard", "rebuild", "--store", store, "--root", str(runs)])
    assert rebuilt.exit_code == 0 and "rebuilt from 2 runs" in rebuilt.output


def test_default_store_is_under_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLMBENCH_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    runs = _runs(tmp_path)
    assert runner.invoke(app, ["leaderboard", "add", str(runs)]).exit_code == 0
    assert (tmp_path / "runs" / "vlmbench.sqlite").is_file()
    (tmp_path / "runs" / "vlmbench.sqlite").unlink()
    result = runner.invoke(app, ["leaderboard", "rebuild"])  # default root: the store's folder, runs/
    assert result.exit_code == 0 and "rebuilt from 2 runs" in result.output


def test_errors_are_clear(tmp_path: Path) -> None:
    runs = _runs(tmp_path)
    (runs / "r1" / "run.json").write_text('{"run_id": "r1", "status": "do')
    store = str(tmp_path / "s.sqlite")
    bad = runner.invoke(app, ["leaderboard", "add", str(runs), "--store", store])
    assert bad.exit_code == 2
    assert "r1/run.json:1: malformed run record" in bad.output and "Traceback" not in bad.output
    partial = runner.invoke(app, ["leaderboard", "add", str(runs), "--store", store, "--skip-bad"])
    assert partial.exit_code == 1 and "1 added, 0 updated, 0 unchanged, 1 skipped" in partial.output
    assert "skipped:" in partial.output and "r1/run.json:1: malformed run record" in partial.output
    board = runner.invoke(
        app, ["leaderboard", "publish", "--board", "nope", "--store", store, "--out", str(tmp_path)]
    )
    assert board.exit_code == 2 and "unknown board 'nope'" in board.output


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["leaderboard", "--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in ("add", "rebuild", "publish"))


def _failed_and_partial(root: Path) -> tuple[Path, Path]:
    runs = root / "runs"
    dead = task_result("synth_chart", 0, 40, failed=40, reason="connection error")
    failed = write_run(runs, "dead", "served", {"synth_chart": dead}, backend="openai")
    half = write_run(runs, "half", "flaky", {"synth_chart": task_result("synth_chart", 5, 10, failed=2)})
    write_run(runs, "good", "fine", {"synth_chart": task_result("synth_chart", 7, 10)})
    return failed, half


def test_add_refuses_failed_and_partial_runs_and_says_why(tmp_path: Path) -> None:
    failed, half = _failed_and_partial(tmp_path)
    store = str(tmp_path / "s.sqlite")
    result = runner.invoke(app, ["leaderboard", "add", str(tmp_path / "runs"), "--store", store])
    assert result.exit_code == 1, result.output
    assert "1 added, 0 updated, 0 unchanged, 0 skipped, 2 refused" in result.stdout
    refused = [line for line in result.stderr.splitlines() if line.startswith("refused: ")]
    assert len(refused) == 2, result.stderr
    assert (
        f"refused: run dead ({failed}) failed: all 40 samples failed (connection error: 40)" in result.stderr
    )
    assert f"refused: run half ({half}) is partial: 2 of 10 samples failed (HTTP 500: 2)" in result.stderr
    assert "--allow-partial" in result.stderr and "Traceback" not in result.output
    allowed = runner.invoke(
        app, ["leaderboard", "add", str(tmp_path / "runs"), "--store", store, "--allow-partial"]
    )
    assert allowed.exit_code == 1  # the failed run is refused whatever the flag
    assert "1 added, 0 updated, 1 unchanged, 0 skipped, 1 refused" in allowed.stdout
    assert "refused: run dead" in allowed.stderr and "run half" not in allowed.stderr
    rebuilt = runner.invoke(
        app, ["leaderboard", "rebuild", "--store", store, "--root", str(tmp_path / "runs")]
    )
    assert rebuilt.exit_code == 0, rebuilt.output  # a refused run is news, not a broken rebuild
    assert "rebuilt from 2 runs (1 refused)" in rebuilt.stdout and "refused: run dead" in rebuilt.stderr


def test_add_help_documents_refusals_and_exit_codes() -> None:
    result = runner.invoke(app, ["leaderboard", "add", "--help"], env={"COLUMNS": "240"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--allow-partial" in text and "failed samples count as wrong" in text
    assert "A failed run (no sample answered) is always refused" in text
    assert "Exit codes: 0 every run indexed; 1 some runs refused or skipped" in text
