"""GRPO (TRL GRPOTrainer): a few steps on a tiny VLM with a dense shaping reward update the weights; the
zero-spread counter sees the groups. Rollouts through vLLM: the recipe's `grpo.vllm_*` keys become TRL's
GRPOConfig fields (built without vLLM or a GPU), the default recipe's config is TRL's generate path as
before, and `use_vllm` is refused before training where vLLM or CUDA is missing."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from safetensors.torch import load_file

from train_adapters import grpo
from train_adapters.config import RecipeError, load_recipe, validate_recipe


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


def _recipe(tmp_path, **grpo_options):
    data = {"algorithm": "grpo", "model": "m", "output_dir": str(tmp_path), "batch_size": 8}
    return validate_recipe({**data, "grpo": grpo_options}, "test")


def test_use_vllm_puts_the_recipes_vllm_settings_into_trls_config(tmp_path):
    recipe = _recipe(
        tmp_path,
        num_generations=4,
        use_vllm=True,
        vllm_mode="server",
        vllm_server_base_url="http://10.0.0.7:8000",
        vllm_max_model_length=4096,
    )
    args = grpo.grpo_args(recipe)
    assert args.use_vllm is True and args.vllm_mode == "server"
    assert args.vllm_server_base_url == "http://10.0.0.7:8000" and args.vllm_max_model_length == 4096
    colocate = grpo.grpo_args(
        _recipe(tmp_path, use_vllm=True, vllm_gpu_memory_utilization=0.45, vllm_tensor_parallel_size=2)
    )
    assert colocate.vllm_mode == "colocate" and colocate.vllm_gpu_memory_utilization == 0.45
    assert colocate.vllm_tensor_parallel_size == 2 and colocate.vllm_enable_sleep_mode is False


def test_the_shipped_recipe_still_generates_with_the_model_and_its_config_is_unchanged(tmp_path):
    from trl import GRPOConfig

    from train_adapters import common

    recipe = load_recipe("grpo", output_dir=tmp_path)
    assert recipe.grpo.use_vllm is False
    assert "use_vllm" not in recipe.resolved()["grpo"]  # so the config hash is the one from before
    g = recipe.grpo
    before = GRPOConfig(  # what train_adapters/grpo.py built before the vLLM keys existed
        **common.trl_common(recipe),
        num_generations=g.num_generations,
        beta=g.beta,
        loss_type=g.loss_type,
        epsilon=g.epsilon,
        scale_rewards=g.scale_rewards,
        temperature=g.temperature,
        mask_truncated_completions=g.mask_truncated_completions,
        max_completion_length=recipe.max_completion_length,
        shuffle_dataset=True,
    )
    assert grpo.grpo_args(recipe).to_dict() == before.to_dict()
    assert before.use_vllm is False


def test_use_vllm_is_recorded_and_hashed_when_on(tmp_path):
    off, on = _recipe(tmp_path), _recipe(tmp_path, use_vllm=True)
    assert on.resolved()["grpo"]["use_vllm"] is True and on.resolved()["grpo"]["vllm_mode"] == "colocate"
    assert off.config_hash() != on.config_hash()


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"vllm_mode": "colocate", "vllm_server_base_url": "http://h:8000"}, "vllm_server_base_url"),
        ({"vllm_gpu_memory_utilization": 1.5}, "grpo.vllm_gpu_memory_utilization"),
        ({"vllm_mode": "remote"}, "grpo.vllm_mode"),
        ({"use_vllm": True, "loss_type": "vespo"}, "vespo"),
    ],
)
def test_bad_vllm_settings_fail_at_load_naming_the_key(tmp_path, options, key):
    with pytest.raises(RecipeError, match=key):
        _recipe(tmp_path, **options)


MISSING = [(False, False, "needs vLLM, which is not installed"), (True, False, "needs a CUDA GPU")]


@pytest.mark.parametrize(("installed", "cuda", "says"), MISSING)
def test_use_vllm_without_vllm_or_cuda_is_refused_before_training(
    tmp_path, monkeypatch, installed, cuda, says
):
    monkeypatch.setattr(grpo, "_vllm_installed", lambda: installed)
    monkeypatch.setattr(grpo, "_cuda_available", lambda: cuda)
    with pytest.raises(RecipeError, match=f"grpo.use_vllm: true {says}") as err:
        grpo.train(_recipe(tmp_path, use_vllm=True))
    assert "grpo.use_vllm=false" in str(err.value)
    assert not (tmp_path / "final").exists()
    grpo.check_rollouts(_recipe(tmp_path))  # the generate path needs neither


def test_a_dry_run_with_use_vllm_builds_the_plan_on_a_cpu_machine(tiny, tmp_path):
    from train_adapters.cli import train_baseline

    plan = train_baseline(
        "grpo", model=str(tiny), output_dir=tmp_path / "run", dry_run=True,
        overrides=["grpo.use_vllm=true", "grpo.vllm_mode=server", "data.task=synth_shapes"],
    )  # fmt: skip
    assert plan["recipe"]["grpo"]["use_vllm"] is True and plan["recipe"]["grpo"]["vllm_mode"] == "server"
    assert not (tmp_path / "run").exists()
