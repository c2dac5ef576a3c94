"""`vlmbench train-baseline` / `make-preferences`: dry runs, clear errors, run folders that are never
overwritten or shared, and a trained checkpoint that is evaluated - its own weights, by fingerprint -
under the base model's protocol with its lineage recorded."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.cli import app

runner = CliRunner()
TINY_SFT = ["max_steps=2", "learning_rate=1e-3", "batch_size=2", "save_steps=0", "data.train_n=4", "eval.n=4"]


def _digest(folder: Path) -> str:
    from vlmbench.records.fingerprint import local_fingerprint

    return local_fingerprint(folder).digest


def _record(results: Path, run_id: str) -> dict:
    return json.loads((results / run_id / "run.json").read_text())


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under `folder` by content and mtime: what "untouched" means."""
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _fake_run(folder: Path, config_hash: str, started: str, *, checkpoint: int | None = 1) -> Path:
    """A run folder as train-baseline leaves it when training stopped early (no model inside)."""
    folder.mkdir(parents=True)
    record = {"algorithm": "sft", "config_hash": config_hash, "started": started, "recipe": {}}
    (folder / "train_recipe.json").write_text(json.dumps(record))
    if checkpoint is not None:
        (folder / f"checkpoint-{checkpoint}").mkdir()
    return folder


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
    # --output-dir is the run folder itself, and its evals stay inside it
    assert resolved["run_dir"] == str(tmp_path / "out")
    assert resolved["results_dir"] == str(tmp_path / "out" / "runs")
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


def test_dry_run_shows_the_default_run_folder(tmp_path):
    root = tmp_path / "train-runs"
    base = ["train-baseline", "grpo", "--model", "org/model", "--dry-run", f"output_root={root}"]
    resolved = json.loads(runner.invoke(app, base).stdout)
    shown = f"grpo-model-{resolved['config_hash'][:8]}"  # <algo>-<start>-<config hash[:8]>
    assert resolved["run_dir"] == str(root / "grpo" / shown)
    assert resolved["recipe"]["name"] == resolved["display_name"] == shown
    assert resolved["results_dir"] == str(root / "runs")  # one results folder for the root's runs
    named = json.loads(runner.invoke(app, [*base, "--name", "trial"]).stdout)
    assert named["run_dir"] == str(root / "grpo" / "trial") and named["display_name"] == "trial"
    assert named["config_hash"] == resolved["config_hash"]  # where a run goes is not what it trains
    for bad in ("latest", "a/b", ".."):
        result = runner.invoke(app, [*base, "--name", bad])
        assert result.exit_code == 2 and "is not a run folder name" in result.output, bad
    assert not root.exists()


def test_resume_with_nothing_to_resume_is_a_clear_error(tmp_path):
    root = tmp_path / "train-runs"
    base = ["train-baseline", "sft", "--model", "org/model", f"output_root={root}", "--resume"]
    config_hash = json.loads(runner.invoke(app, [*base[:-1], "--dry-run"]).stdout)["config_hash"]
    result = runner.invoke(app, base)
    assert result.exit_code == 2
    assert f"--resume: no unfinished sft run with config hash {config_hash[:12]}" in result.output
    assert str(root / "sft") in result.output
    result = runner.invoke(app, [*base, "--name", "nope"])
    assert result.exit_code == 2 and f"{root / 'sft' / 'nope'} does not exist" in result.output
    finished = _fake_run(root / "sft" / "finished", config_hash, "2026-01-01T00:00:00+00:00")
    (finished / "train_result.json").write_text("{}")
    result = runner.invoke(app, [*base, "--output-dir", str(finished)])
    assert result.exit_code == 2 and "is finished (train_result.json)" in result.output
    _fake_run(root / "sft" / "bare", config_hash, "2026-01-01T00:00:00+00:00", checkpoint=None)
    result = runner.invoke(app, [*base, "--name", "bare"])
    assert result.exit_code == 2 and "holds no checkpoint-N" in result.output
    _fake_run(root / "sft" / "other", "0" * 64, "2026-01-01T00:00:00+00:00")
    result = runner.invoke(app, [*base, "--name", "other"])
    assert result.exit_code == 2 and "--resume refused" in result.output
    assert f"config hash 000000000000 and this recipe has {config_hash[:12]}" in result.output
    result = runner.invoke(app, base)  # none of those is an unfinished run of this recipe with a checkpoint
    assert result.exit_code == 2 and "--resume: no unfinished sft run" in result.output


def test_resume_finds_the_newest_unfinished_run_of_the_recipe(tmp_path):
    root = tmp_path / "train-runs"
    base = ["train-baseline", "sft", "--model", "org/model", f"output_root={root}", "--dry-run"]
    config_hash = json.loads(runner.invoke(app, base).stdout)["config_hash"]
    _fake_run(root / "sft" / "old", config_hash, "2026-01-01T00:00:00+00:00", checkpoint=4)
    wanted = _fake_run(root / "sft" / "new", config_hash, "2026-01-02T00:00:00+00:00", checkpoint=2)
    (wanted / "checkpoint-10").mkdir()
    _fake_run(root / "sft" / "newer-other-recipe", "1" * 64, "2026-01-03T00:00:00+00:00")
    done = _fake_run(root / "sft" / "newest-finished", config_hash, "2026-01-04T00:00:00+00:00")
    (done / "train_result.json").write_text("{}")
    result = runner.invoke(app, [*base, "--resume"])
    assert result.exit_code == 0, result.output
    resolved = json.loads(result.stdout)
    assert resolved["run_dir"] == str(wanted)
    assert resolved["resume_from"] == str(wanted / "checkpoint-10")  # by step number, not by name


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
        app, ["train-baseline", "sft", "--model", str(tiny), "--output-dir", str(out), *TINY_SFT,
              "eval.visual_gain=true", "logging_steps=1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "train_result.json").read_text())
    printed = json.loads(result.stdout)  # stdout is the summary alone: the trainer's log lines go to stderr
    assert printed["steps"] == summary["steps"] == 2
    # one compact line per logging step, not transformers' raw dicts (those need --verbose)
    steps = [line for line in result.stderr.splitlines() if line.startswith("step ")]
    assert [line.split("  ")[0] for line in steps] == ["step 1/2", "step 2/2"]
    assert all(re.search(r"  loss \d+\.\d{3}  lr \d\.\de[-+]\d\d  \(", line) for line in steps), steps
    assert "'loss'" not in result.stderr
    # the curves: per-step history in train_result.json, a PNG beside it, TensorBoard events
    assert [h["step"] for h in summary["log_history"]] == [1, 2]
    assert all({"loss", "lr"} <= set(h) for h in summary["log_history"])
    assert (
        summary["curves"] == str(out / "curves.png") and (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    )
    if importlib.util.find_spec("tensorboard"):  # report_to's default; without it: none, said once
        assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert summary["display_name"] == f"sft-tiny-{summary['config_hash'][:8]}"  # --output-dir: still named
    base, trained = summary["eval_base"], summary["eval_trained"]
    assert base["protocol_hash"] == trained["protocol_hash"]  # same protocol: comparable rows
    assert base["n"] == trained["n"] == 4 and base["status"] == trained["status"] == "done"
    results = out / "runs"  # --output-dir: the run's evals stay inside its folder
    assert (base["fingerprint"], trained["fingerprint"]) == (_digest(tiny), _digest(out / "final"))
    for evaluated in (base, trained):  # eval.visual_gain: each model again on the same items, images blank
        record = _record(results, evaluated["run_id"])
        assert evaluated["run"] == str(results / evaluated["run_id"])
        assert record["model"]["fingerprint"]["digest"] == evaluated["fingerprint"]
        gain = evaluated["visual_gain"]
        blank = _record(results, gain["blank_run_id"])
        assert gain["blank_run"] == str(results / gain["blank_run_id"])
        assert gain["blank_fingerprint"] == evaluated["fingerprint"]
        assert blank["model"]["fingerprint"]["digest"] == evaluated["fingerprint"]
        assert blank["model"]["name"] == record["model"]["name"]
        (task,) = blank["tasks"]  # the recipe's task
        assert blank["tasks"][task]["protocol"]["image_ablation"] == "blank"
        assert gain["n"] == 4 and gain["same_protocol"] is False
        assert gain["diff"] == evaluated["official"] - blank["tasks"][task]["metrics"]["official"]
    lineage = _record(results, trained["run_id"])["lineage"]
    assert lineage == {
        "base_model": str(tiny), "algorithm": "sft", "config_hash": summary["config_hash"], "steps": 2,
        "train_dir": str(out), "base_fingerprint": _digest(tiny),
    }  # fmt: skip
    blank = _record(results, trained["visual_gain"]["blank_run_id"])
    assert blank["lineage"] == lineage  # the trained weights' blank-image run says how they were made too
    assert summary["base_fingerprint"] == _digest(tiny)
    assert _record(results, base["run_id"])["lineage"] is None


def test_two_runs_from_one_start_never_share_a_folder_or_an_eval(tmp_path):
    """The same start, trained twice with other seeds: two folders, two evals of the trained weights,
    each naming its own `final/`; a third run into a folder already used is refused, nothing touched."""
    pytest.importorskip("trl")
    from vlmbench.models.tiny import make_tiny_model

    tiny = make_tiny_model(tmp_path / "tiny", "llava")
    root = tmp_path / "train-runs"
    base = ["train-baseline", "sft", "--model", str(tiny), *TINY_SFT, f"output_root={root}"]
    first = runner.invoke(app, [*base, "--name", "first", "seed=0"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*base, "seed=1"])  # default name: UTC time + config hash
    assert second.exit_code == 0, second.output
    folders = sorted(p for p in (root / "sft").iterdir() if not p.is_symlink())
    assert len(folders) == 2 and root / "sft" / "first" in folders
    summaries = [json.loads((f / "train_result.json").read_text()) for f in folders]
    trained = [s["eval_trained"] for s in summaries]
    assert trained[0]["run_id"] != trained[1]["run_id"]
    for folder, summary in zip(folders, summaries, strict=True):
        ev = summary["eval_trained"]
        record = _record(root / "runs", ev["run_id"])  # evals of one root share one results folder
        assert summary["run_dir"] == str(folder) and summary["checkpoint"] == str(folder / "final")
        assert ev["fingerprint"] == record["model"]["fingerprint"]["digest"] == _digest(folder / "final")
        assert record["lineage"]["train_dir"] == str(folder)
        assert record["lineage"]["base_fingerprint"] == _digest(tiny) == summary["eval_base"]["fingerprint"]
    assert trained[0]["fingerprint"] != trained[1]["fingerprint"]  # other seed, other weights
    # the start model is one model: its eval is shared by both runs, legitimately (same fingerprint)
    assert summaries[0]["eval_base"]["run_id"] == summaries[1]["eval_base"]["run_id"]
    newest = next(f for f in folders if f.name != "first")
    assert (root / "sft" / "latest").resolve() == newest.resolve()
    # a run into a folder that holds one is refused, whichever way it is named
    before = _snapshot(root)
    for where in (["--output-dir", str(root / "sft" / "first")], ["--name", "first"]):
        refused = runner.invoke(app, [*base, *where, "seed=2"])
        assert refused.exit_code == 2
        message = " ".join(refused.output.split())
        assert f"{root / 'sft' / 'first'} already holds a training run" in message
        assert all(way in message for way in ("--name", "--output-dir", "--resume"))
    assert _snapshot(root) == before
    assert sorted(p.name for p in (root / "sft").iterdir()) == sorted([*(f.name for f in folders), "latest"])


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


@pytest.mark.parametrize("algo", ["grpo", "dpo", "ppo"])
def test_a_dry_run_of_an_rl_recipe_on_a_fresh_machine_plans_its_sft_start(algo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a fresh machine: no train-runs/sft/latest/final yet
    result = runner.invoke(app, ["train-baseline", algo, "--dry-run"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    start = plan["start"]
    assert start["model"] == "train-runs/sft/latest/final" and start["built_first"] is True
    assert start["sft_recipe"]["algorithm"] == "sft" and start["sft_recipe"]["output_root"] == "train-runs"
    assert re.fullmatch(r"train-runs/sft/sft-tiny-llava-[0-9a-f]{8}", start["sft_run_dir"])
    assert plan["display_name"] == f"{algo}-sft-tiny-llava-{plan['config_hash'][:8]}"
    assert plan["run_dir"] == f"train-runs/{algo}/{plan['display_name']}"
    assert plan["trl_config"]["max_steps"] == plan["recipe"]["max_steps"]
    assert plan["trl_config"]["report_to"] in (["tensorboard"], ["none"])  # none where it is not installed
    assert not list(tmp_path.iterdir())  # nothing trained, built or written


def test_a_dry_run_with_the_start_there_builds_nothing(tmp_path):
    result = runner.invoke(app, ["train-baseline", "sft", "--dry-run", f"output_root={tmp_path / 'r'}"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["start"] == {"model": plan["recipe"]["model"], "built_first": False}
    assert plan["display_name"] == f"sft-tiny-llava-{plan['config_hash'][:8]}"  # never the cache path
    assert not (tmp_path / "r").exists()


def test_an_rl_run_with_no_arguments_builds_its_sft_start_first(tmp_path, monkeypatch):
    """`train-baseline ppo` on a fresh machine: the shipped SFT recipe runs first (kept to a few steps
    here by `start_overrides`), says so in one line, and the PPO run starts from its checkpoint."""
    pytest.importorskip("trl")
    monkeypatch.chdir(tmp_path)
    tiny = [*TINY_SFT, "eval.visual_gain=false"]
    args = [
        "train-baseline",
        "ppo",
        f"start_overrides=[{', '.join(tiny)}]",
        *tiny,
        "logging_steps=1",
        "--verbose",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    [said] = [line for line in result.stderr.splitlines() if line.startswith("no SFT start at")]
    sft = Path(summary["start_built"])
    assert "train-runs/sft/latest/final: training it first with the shipped SFT recipe (2 steps" in said
    assert f"into {sft / 'final'}, linked as train-runs/sft/latest/final" in said
    assert (tmp_path / "train-runs" / "sft" / "latest").resolve() == (tmp_path / sft).resolve()
    assert summary["base_model"] == str(sft / "final")  # pinned to the run just built
    assert re.fullmatch(r"sft-tiny-llava-[0-9a-f]{8}", sft.name)
    assert summary["display_name"] == f"ppo-sft-tiny-llava-{summary['config_hash'][:8]}"
    assert summary["run_dir"] == f"train-runs/ppo/{summary['display_name']}" and summary["steps"] == 2
    ppo_lines = [line for line in result.stderr.splitlines() if line.startswith("step ")][-2:]
    assert [line.split("  ")[0] for line in ppo_lines] == ["step 1/2", "step 2/2"]
    assert all("  reward " in line and "  kl " in line for line in ppo_lines), ppo_lines
    assert '"score"' in result.stderr  # --verbose: the raw stats beside the compact lines
    assert [h["step"] for h in summary["log_history"]] == [1, 2]
    again = json.loads(runner.invoke(app, ["train-baseline", "ppo", "--dry-run"]).stdout)
    assert again["start"]["built_first"] is False  # the start is there now: built once


def test_vllm_rollouts_without_vllm_are_refused_before_a_run_folder_exists(tmp_path):
    root = tmp_path / "r"
    args = ["train-baseline", "grpo", "--model", str(tmp_path), f"output_root={root}", "grpo.use_vllm=true"]
    result = runner.invoke(app, args)
    assert result.exit_code != 0 and "grpo.use_vllm" in result.output
    assert not (root / "grpo").exists()  # refused at check time: no empty run folder left behind
    planned = runner.invoke(app, [*args, "--dry-run"])  # the plan still shows the TRL config anywhere
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["trl_config"]["use_vllm"] is True
