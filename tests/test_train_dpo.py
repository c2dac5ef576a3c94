"""DPO: on-policy pairs ranked by the task reward (make-preferences), then TRL DPOTrainer updates weights."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from safetensors.torch import load_file

from train_adapters import cli, dpo
from train_adapters.config import validate_recipe
from train_adapters.preferences import read_pairs


def test_a_pairs_file_that_is_not_utf8_names_file_and_line(tmp_path):
    from vlmbench.errors import DataError

    path = tmp_path / "pairs.jsonl"
    path.write_bytes(b'{"sample_id": "a", "chosen": "x", "rejected": "y"}\n{"sample_id": "\xff"}\n')
    with pytest.raises(DataError, match=r"pairs\.jsonl:2: not valid UTF-8"):
        read_pairs(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from vlmbench.models.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny"), "llava")


def test_dpo_on_its_own_preferences_updates_weights(tiny, tmp_path, capsys):
    recipe = validate_recipe(
        {
            "algorithm": "dpo", "model": str(tiny), "output_dir": str(tmp_path), "max_steps": 2,
            "learning_rate": 1e-3, "batch_size": 2, "max_completion_length": 12,
            # accuracy is always 0 for a random model: the dense length term ranks its answers
            "rewards": {"accuracy": 1.0, "length": 1.0, "length_scale": 4.0, "length_unit": "chars"},
            "data": {"train_n": 4}, "dpo": {"k": 3},
        },
        "test",
    )  # fmt: skip
    result = dpo.train(recipe)
    assert result.steps == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("step ")]
    assert [line.split("  ")[0] for line in lines] == ["step 1/2", "step 2/2"]  # one compact line a step
    assert all("  loss " in line and "  margin " in line for line in lines), lines
    stats = result.metrics["preferences"]
    assert stats["prompts"] == 4 and stats["pairs"] >= 1
    pairs = read_pairs(tmp_path / "preferences.jsonl")
    assert all(p["chosen_reward"] > p["rejected_reward"] for p in pairs)
    assert all(p["chosen_accuracy"] >= p["rejected_accuracy"] for p in pairs)
    before, after = (
        load_file(str(tiny / "model.safetensors")),
        load_file(str(result.checkpoint / "model.safetensors")),
    )
    assert sum(float((before[k] - after[k]).abs().sum()) for k in before) > 0


def test_make_preferences_writes_scored_pairs(tiny, tmp_path):
    out = tmp_path / "pairs.jsonl"
    stats = cli.make_preferences(model=str(tiny), task="synth_scene", out=out, n=3, k=2, max_new_tokens=6)
    assert stats["prompts"] == 3
    pairs = read_pairs(out) if out.stat().st_size else []
    assert len(pairs) == stats["pairs"]  # accuracy only: a random model rarely yields a better answer
