"""`vlmbench train-baseline` / `make-preferences`: dry runs, clear errors, and a trained checkpoint that is
evaluated under the base model's protocol with its lineage recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.cli import app

runner = CliRunner()


def test_dry_run_prints_the_resolved_recipe(tmp_path):
    result = runner.invoke(
        app, ["train-baseline", "grpo", "--model", "org/model", "--task", "synth_chart", "--dry-run",
              "--output-dir", str(tmp_path / "out"), "grpo.beta=0.02", "learning_rate=2e-6"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    resolved = json.loads(result.stdout)
    recipe = resolved["recipe"]
    assert (recipe["model"], recipe["data"]["task"], recipe["grpo"]["beta"]) == (
        "org/model",
        "synth_chart",
        0.02,
    )
    assert recipe["learning_rate"] == 2e-6 and recipe["output_dir"] == str(tmp_path / "out")
    assert "ppo" not in recipe and "dpo" not in recipe  # only the chosen algorithm's section
    assert len(resolved["config_hash"]) == 64
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


def test_bad_key_is_a_clear_error():
    result = runner.invoke(app, ["train-baseline", "ppo", "--model", "org/model", "--dry-run", "ppo.kl=1"])
    assert result.exit_code == 2
    assert "ppo.yaml: ppo.kl: unknown key" in result.output


def test_unknown_algorithm_is_a_clear_error():
    result = runner.invoke(app, ["train-baseline", "rlhf", "--dry-run"])
    assert result.exit_code == 2 and "unknown algorithm 'rlhf'" in result.output


def test_train_then_evaluate_with_lineage(tmp_path):
    pytest.importorskip("trl")
    from vlmbench.models.tiny import make_tiny_model

    tiny = make_tiny_model(tmp_path / "tiny", "llava")
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["train-baseline", "sft", "--model", str(tiny), "--output-dir", str(out), "max_steps=2",
              "learning_rate=1e-3", "batch_size=2", "save_steps=0", "data.train_n=4", "eval.n=4",
              "eval.visual_gain=true"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "train_result.json").read_text())
    base, trained = summary["eval_base"], summary["eval_trained"]
    assert base["protocol_hash"] == trained["protocol_hash"]  # same protocol: comparable rows
    assert base["n"] == trained["n"] == 4
    for evaluated in (base, trained):  # eval.visual_gain: each model again on the same items, images blank
        gain = evaluated["visual_gain"]
        blank = json.loads(
            (tmp_path / "run" / "runs" / Path(gain["blank_run"]).name / "run.json").read_text()
        )
        assert (
            blank["model"]["name"]
            == json.loads((Path(evaluated["run"]) / "run.json").read_text())["model"]["name"]
        )
        assert blank["tasks"]["synth_scene"]["protocol"]["image_ablation"] == "blank"
        assert gain["n"] == 4 and gain["same_protocol"] is False
        assert gain["diff"] == evaluated["official"] - blank["tasks"]["synth_scene"]["metrics"]["official"]
    record = json.loads(
        (tmp_path / "run" / "runs" / trained["run"].rsplit("/", 1)[-1] / "run.json").read_text()
    )
    lineage = record["lineage"]
    assert lineage["base_model"] == str(tiny) and lineage["algorithm"] == "sft" and lineage["steps"] == 2
    assert lineage["config_hash"] == summary["config_hash"]
    base_record = json.loads(
        (tmp_path / "run" / "runs" / base["run"].rsplit("/", 1)[-1] / "run.json").read_text()
    )
    assert "lineage" not in base_record


def test_make_preferences_command(tmp_path):
    pytest.importorskip("trl")
    from vlmbench.models.tiny import make_tiny_model

    tiny = make_tiny_model(tmp_path / "tiny", "llava")
    out = tmp_path / "pairs" / "pairs.jsonl"
    result = runner.invoke(
        app, ["make-preferences", "--model", str(tiny), "--task", "synth_geometry", "--out", str(out),
              "--n", "2", "--k", "2", "--max-new-tokens", "4"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["prompts"] == 2 and out.is_file()
    assert len(out.read_text().splitlines()) == stats["pairs"]
