"""The training demo (baselines/run_demo.py): its summary keeps the shape the board and the docs read
(`stages.<algo>.eval_trained.official`, `.visual_gain`, `stages.<algo>.vs_sft`), and its verdict says
in words what the paired test found. Run here with a few steps per stage, so the numbers mean nothing."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")

DEMO = Path(__file__).resolve().parents[1] / "baselines" / "run_demo.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("run_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verdict_in_words(demo):
    vs = {"diff": 0.05, "ci95": [0.01, 0.09], "p_value": 0.012, "better": 20, "worse": 5, "n": 300}
    line = demo.verdict("grpo", vs)
    assert line.startswith("GRPO vs SFT: +5.0 points [+1.0, +9.0], p = 0.012")
    assert line.endswith("significant (better) at 0.05") and "20 better / 5 worse of 300" in line
    worse = demo.verdict("dpo", {**vs, "diff": -0.05, "ci95": [-0.09, -0.01]})
    assert worse.startswith("DPO vs SFT: -5.0 points") and worse.endswith("significant (worse) at 0.05")
    flat = demo.verdict(
        "ppo", {**vs, "diff": 0.0, "ci95": [-0.01, 0.01], "p_value": 1.0, "better": 0, "worse": 0}
    )
    assert flat.endswith("not significant at 0.05")


def test_the_demo_summary_keeps_its_shape(demo, tmp_path, monkeypatch, capsys):
    tiny = ["data.train_n=8", "batch_size=4", "max_steps=1", "learning_rate=1e-3"]
    monkeypatch.setattr(demo, "SFT", [*tiny, "max_steps=2", "data.curriculum=null"])
    monkeypatch.setattr(demo, "RL", {"grpo": [*tiny, "grpo.num_generations=4"]})
    out = tmp_path / "demo"
    monkeypatch.setattr(sys, "argv", ["run_demo.py", "--out", str(out), "--eval-n", "4", "--algos", "grpo"])
    demo.main()
    results = json.loads((out / "demo_results.json").read_text())
    assert set(results["stages"]) == {"sft", "grpo"}
    sft_run = results["stages"]["sft"]["eval_trained"]["run"]
    for algo, stage in results["stages"].items():
        ev = stage["eval_trained"]
        assert isinstance(ev["official"], float) and ev["n"] == 4
        assert {"diff", "ci95", "p_value", "better", "worse"} <= set(ev["visual_gain"])
        if algo == "sft":
            assert "vs_sft" not in stage and "eval_base" in stage
            continue
        vs = stage["vs_sft"]
        assert vs["n"] == 4 and vs["same_protocol"] is True and vs["test"] == "mcnemar_exact"
        assert ev["run"] != sft_run and stage["base_model"] == results["stages"]["sft"]["checkpoint"]
        assert re.fullmatch(
            rf"{algo.upper()} vs SFT: [+-]\d+\.\d points .* (not )?significant.*", stage["verdict"]
        )
    printed = capsys.readouterr().out
    assert "| sft |" in printed and "| grpo |" in printed and "GRPO vs SFT:" in printed
