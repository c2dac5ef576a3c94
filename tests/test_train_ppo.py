"""vlmbench's own PPO for VLMs: pieces (GAE, adaptive KL) by hand, then a few steps on a tiny model that
update the weights, a failing batch that is skipped and counted, and a resume from a checkpoint."""

from __future__ import annotations

import importlib.util
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")

import torch
from safetensors.torch import load_file

from train_adapters import ppo
from train_adapters.common import image_token_ids, load_model
from train_adapters.config import validate_recipe


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from vlmbench.models.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny"), "llava")


def test_gae_by_hand():
    rewards = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    values = torch.tensor([[0.5, 0.5, 0.5, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # the last position is past EOS
    adv, ret = ppo.gae(rewards, values, mask, gamma=1.0, lam=1.0)
    # lam = 1: advantage = return-to-go - value; positions past the mask are 0
    assert adv.tolist() == [[0.5, 0.5, 0.5, 0.0]]
    assert ret.tolist() == [[1.0, 1.0, 1.0, 0.0]]
    adv0, _ = ppo.gae(rewards, values, mask, gamma=1.0, lam=0.0)  # one-step TD errors
    assert adv0.tolist() == [[0.0, 0.0, 0.5, 0.0]]


def test_adaptive_kl_moves_toward_target():
    kl = ppo.AdaptiveKL(0.1, target=1.0, horizon=10, adaptive=True)
    kl.update(5.0, n=10)  # far above target: the coefficient grows by the 20% cap
    assert kl.value == pytest.approx(0.12)
    kl.update(0.0, n=10)
    assert kl.value == pytest.approx(0.12 * 0.8)
    fixed = ppo.AdaptiveKL(0.1, target=1.0, horizon=10, adaptive=False)
    fixed.update(5.0, n=10)
    assert fixed.value == 0.1


def test_image_placeholders_are_banned(tiny):
    model, processor = load_model(str(tiny))
    assert model.config.image_token_id in image_token_ids(model, processor)


def _recipe(tiny, out, **extra):
    return validate_recipe(
        {
            "algorithm": "ppo", "model": str(tiny), "output_dir": str(out), "max_steps": 2,
            "learning_rate": 1e-3, "batch_size": 4, "max_completion_length": 10, "save_steps": 2,
            # accuracy is always 0 for a random model: the dense length term gives PPO a signal
            "rewards": {"accuracy": 1.0, "length": 1.0, "length_scale": 4.0, "length_unit": "chars"},
            "data": {"train_n": 6}, **extra,
        },
        "test",
    )  # fmt: skip


def test_ppo_updates_weights_skips_bad_batches_and_resumes(tiny, tmp_path, monkeypatch, capsys):
    real_step = ppo.PPO.step
    calls = {"n": 0}

    def flaky(self, rows):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("Image features and image tokens do not match")
        return real_step(self, rows)

    monkeypatch.setattr(ppo.PPO, "step", flaky)
    result = ppo.train(_recipe(tiny, tmp_path))
    assert result.steps == 2
    assert result.data["skipped_in_training"] == 4  # the failing batch, counted, not fatal
    log = [json.loads(line) for line in (tmp_path / "ppo_log.jsonl").read_text().splitlines()]
    assert "Image features" in log[0]["error"]
    trained = log[1]
    assert trained["grad_norm"] > 0 and trained["kl_coef"] > 0 and "vf_loss" in trained
    before = load_file(str(tiny / "model.safetensors"))
    after = load_file(str(result.checkpoint / "model.safetensors"))
    assert sum(float((before[k] - after[k]).abs().sum()) for k in before) > 0
    assert (tmp_path / "checkpoint-2" / "ppo_state.pt").is_file()
    # the same compact line as the TRL trainers: one per logging step (here every step), the skipped
    # batch's line without numbers it never had
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("step ")]
    assert len(lines) == 2 and lines[0].split("  (")[0] == "step 1/2"
    assert lines[1].startswith("step 2/2  loss ") and "  reward " in lines[1] and "  kl " in lines[1]
    if importlib.util.find_spec("tensorboard"):  # report_to's default
        assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))

    monkeypatch.setattr(ppo.PPO, "step", real_step)
    resumed = ppo.train(_recipe(tiny, tmp_path, max_steps=3), resume=True)
    assert resumed.steps == 3
    assert [h["step"] for h in resumed.metrics["log_history"]] == [3]  # only the missing step ran
    assert resumed.data["skipped_in_training"] == 4  # the counter travels with the checkpoint


class _TouchOnLoad:
    """Unpickling this calls `pathlib.Path.touch(marker)`: the shape of a crafted checkpoint."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (self.marker,))


def test_a_crafted_ppo_state_is_refused_on_resume_and_runs_nothing(tmp_path):
    from vlmbench.errors import VlmbenchError

    marker = tmp_path / "pwned"
    torch.save({"value_head": _TouchOnLoad(marker), "step": 1}, tmp_path / "ppo_state.pt")
    with pytest.raises(VlmbenchError) as err:
        ppo.load_state(tmp_path / "ppo_state.pt", "cpu")
    assert str(tmp_path / "ppo_state.pt") in str(err.value) and "Unsupported global" in str(err.value)
    assert not marker.exists()
    state = {"value_head": {"w": torch.ones(2)}, "kl_coef": 0.1, "moments": (3, 0.5, 1.0), "skipped": 0}
    torch.save(state, tmp_path / "plain.pt")
    loaded = ppo.load_state(tmp_path / "plain.pt", "cpu")
    assert loaded["moments"] == (3, 0.5, 1.0) and torch.equal(loaded["value_head"]["w"], torch.ones(2))
