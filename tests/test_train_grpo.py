"""GRPO (TRL GRPOTrainer): a few steps on a tiny VLM with a dense shaping reward update the weights; the
zero-spread counter sees the groups."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from safetensors.torch import load_file

from train_adapters import grpo
from train_adapters.config import validate_recipe


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from vlmbench.models.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny"), "llava")


def test_grpo_updates_weights_with_shaping_reward(tiny, tmp_path):
    recipe = validate_recipe(
        {
            "algorithm": "grpo", "model": str(tiny), "output_dir": str(tmp_path), "max_steps": 2,
            "learning_rate": 1e-3, "batch_size": 8, "max_completion_length": 12,
            # accuracy is always 0 for a random model: the length term gives the groups a spread
            "rewards": {"accuracy": 1.0, "length": 1.0, "length_scale": 4.0, "length_unit": "chars"},
            "data": {"train_n": 8, "curriculum": [[1, 0.5], [2, 0.5]]},
            "grpo": {"num_generations": 4, "loss_type": "dr_grpo", "beta": 0.0},
        },
        "test",
    )  # fmt: skip
    result = grpo.train(recipe)
    assert result.steps == 2
    before, after = (
        load_file(str(tiny / "model.safetensors")),
        load_file(str(result.checkpoint / "model.safetensors")),
    )
    assert sum(float((before[k] - after[k]).abs().sum()) for k in before) > 0
    logs = [h for h in result.metrics["log_history"] if "loss" in h]
    assert logs[0]["grad_norm"] > 0
    assert "zero_spread_groups" in logs[0] and "reward_parts/accuracy" in logs[0]
    assert all(h["reward_parts/accuracy"] == 0 for h in logs)  # the random model never answers right
    spread = result.metrics["zero_spread_groups"]
    assert spread["groups"] == 4 and 0 <= spread["fraction"] < 1


@pytest.mark.slow
def test_deepspeed_zero2_two_processes(tiny, tmp_path):
    """The shipped ZeRO-2 config, switched to 2 CPU processes on gloo, runs `train-baseline grpo`."""
    pytest.importorskip("deepspeed")
    import json
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).parents[1] / "baselines/accelerate/zero2.yaml").read_text())
    config.update(num_processes=2, mixed_precision="no", use_cpu=True)
    (tmp_path / "zero2_cpu.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(tmp_path / "zero2_cpu.yaml"),
        "-m", "vlmbench.cli", "train-baseline", "grpo", "--model", str(tiny), "--output-dir", str(out),
        "max_steps=2", "batch_size=4", "grpo.num_generations=4", "learning_rate=1e-3", "data.train_n=8",
        "max_completion_length=8", "rewards.length=1.0", "rewards.length_unit=chars", "eval.enabled=false",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "train_result.json").read_text())
    assert summary["distributed"] == {"type": "DEEPSPEED", "num_processes": 2, "zero_stage": 2}
    assert summary["steps"] == 2 and (out / "final" / "model.safetensors").is_file()
