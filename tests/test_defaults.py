"""What `vlmbench eval` runs when told nothing: the tiny model (cached once) on the procedural tasks plus
any local data, or the random baseline with a note where torch / transformers are missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import shared_data_dir
from typer.testing import CliRunner

from vlmbench import defaults
from vlmbench.cli import app


def test_default_tasks_are_the_procedural_ones_plus_tasks_found_under_the_data_dir() -> None:
    assert defaults.default_tasks(None) == "synth_*"
    names = defaults.default_tasks(shared_data_dir()).split(",")
    assert names[0] == "synth_*"
    assert {"chartqa", "scienceqa_img", "mathvista_testmini", "geometry3k", "gqa_testdev_balanced"} <= set(
        names
    )
    assert "ai2d" not in names  # no ai2d folder in the shared data


def test_without_torch_the_default_is_the_random_baseline_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(defaults, "has_hf_stack", lambda: False)
    chosen = defaults.default_model()
    assert (chosen.backend, chosen.model) == ("baseline", "random")
    assert chosen.note and "vlmbench[hf]" in chosen.note


def test_the_tiny_model_is_built_once_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    monkeypatch.setenv("VLMBENCH_CACHE", str(tmp_path))
    first = defaults.default_model()
    assert first.backend == "hf" and Path(first.model).parent == tmp_path
    stamp = (Path(first.model) / "model.safetensors").stat().st_mtime_ns
    again = defaults.default_model()
    assert again == first and (Path(again.model) / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [Path(first.model).name]  # no staging folder left


def test_eval_without_a_model_evaluates_the_tiny_model_on_the_default_set(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    result = CliRunner().invoke(app, ["eval", "--limit", "2", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    record = json.loads(next(tmp_path.glob("*/run.json")).read_text())
    assert record["model"]["backend"] == "hf" and Path(record["model"]["name"]).name.startswith("tiny-llava")
    assert set(record["tasks"]) == {
        "synth_chart",
        "synth_geometry",
        "synth_scene",
        "synth_shapes",
        "synth_table_math",
    }
    for task in record["tasks"].values():
        assert (
            task["n"] == 2
            and task["protocol"]["generation"]["max_new_tokens"] == defaults.DEFAULT_MAX_NEW_TOKENS
        )
    assert "run record:" in result.output
