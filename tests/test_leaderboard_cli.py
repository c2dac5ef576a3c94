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
    assert "2 added, 0 updated, 0 unchanged, 0 skipped" in first.output
    again = runner.invoke(app, ["leaderboard", "add", str(runs), "--store", store])
    assert "0 added, 0 updated, 2 unchanged, 0 skipped" in again.output
    out = tmp_path / "site"
    published = runner.invoke(
        app, ["leaderboard", "publish", "--board", "synth", "--store", store, "--out", str(out)]
    )
    assert published.exit_code == 0, published.output
    assert {p.name for p in out.iterdir()} == {
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
