"""SFT (TRL SFTTrainer) runs a few steps on a tiny VLM, updates the weights, and resumes from a checkpoint."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from safetensors.torch import load_file

from train_adapters import sft
from train_adapters.config import validate_recipe


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from vlmbench.models.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny"), "llava")


def _changed(before, after) -> float:
    a, b = load_file(str(before / "model.safetensors")), load_file(str(after / "model.safetensors"))
    assert set(a) == set(b)
    return sum(float((a[k] - b[k]).abs().sum()) for k in a)


def test_sft_updates_weights_and_resumes(tiny, tmp_path, monkeypatch, capsys):
    recipe = {
        "algorithm": "sft", "model": str(tiny), "output_dir": str(tmp_path / "run"), "max_steps": 2,
        "learning_rate": 1e-3, "batch_size": 2, "save_steps": 2, "data": {"train_n": 6},
    }  # fmt: skip
    result = sft.train(validate_recipe(recipe, "test"))
    assert result.steps == 2 and result.data["kept"] == 6
    assert (tmp_path / "run" / "checkpoint-2").is_dir()
    assert _changed(tiny, result.checkpoint) > 0
    losses = [h["loss"] for h in result.metrics["log_history"] if "loss" in h]
    assert len(losses) == 2 and all(loss > 0 for loss in losses)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("step ")]
    assert [line.split("  ")[:2] for line in lines] == [
        ["step 1/2", f"loss {losses[0]:.3f}"],
        ["step 2/2", f"loss {losses[1]:.3f}"],
    ]  # the compact line carries the logged loss
    # a killed run continues from its newest checkpoint: only the missing step is trained
    from transformers import Trainer

    calls = []
    step = Trainer.training_step
    monkeypatch.setattr(
        Trainer, "training_step", lambda self, *a, **k: calls.append(1) or step(self, *a, **k)
    )
    resumed = sft.train(validate_recipe({**recipe, "max_steps": 3}, "test"), resume=True)
    assert resumed.steps == 3 and len(calls) == 1


def test_early_stopping_on_validation_reward(tiny, tmp_path):
    from train_adapters.common import EarlyStopper

    stopper = EarlyStopper(patience=2, min_delta=0.01)
    assert [stopper.update(s, v) for s, v in enumerate([0.1, 0.3, 0.305, 0.2])] == [False, False, False, True]
    recipe = {
        "algorithm": "sft", "model": str(tiny), "output_dir": str(tmp_path), "max_steps": 6,
        "learning_rate": 1e-5, "batch_size": 2, "data": {"train_n": 4},
        # a random model scores 0 on validation at every check: no improvement after the first one
        "early_stopping": {"every": 1, "patience": 1, "n": 2},
    }  # fmt: skip
    result = sft.train(validate_recipe(recipe, "test"))
    assert result.stopped_early and result.steps == 2
    checks = [h["validation_reward"] for h in result.metrics["log_history"] if "validation_reward" in h]
    assert checks == [0.0, 0.0]


def test_lora_adapters_are_merged_into_a_plain_checkpoint(tiny, tmp_path):
    recipe = {
        "algorithm": "sft", "model": str(tiny), "output_dir": str(tmp_path), "max_steps": 2,
        "learning_rate": 1e-2, "batch_size": 2, "data": {"train_n": 4},
        "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
    }  # fmt: skip
    result = sft.train(validate_recipe(recipe, "test"))
    before = load_file(str(tiny / "model.safetensors"))
    after = load_file(str(result.checkpoint / "model.safetensors"))
    assert set(before) == set(after)  # merged: no adapter keys, loadable by `vlmbench eval`
    changed = {k for k in before if float((before[k] - after[k]).abs().sum()) > 0}
    assert changed and all("q_proj" in k or "v_proj" in k for k in changed)
