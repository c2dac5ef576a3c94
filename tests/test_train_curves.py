"""Training curves (`train_adapters.curves`): the per-step history train_result.json keeps, and the PNG
of reward / loss / KL per step written beside it."""

from __future__ import annotations

import pytest

from train_adapters import curves
from train_adapters.curves import plot_curves, step_history

PNG = b"\x89PNG\r\n\x1a\n"


def test_history_keeps_step_loss_reward_kl_lr_of_each_logged_step():
    logs = [
        {"loss": 0.5, "reward": 0.25, "kl": 0.01, "learning_rate": 1e-4, "epoch": 0.1, "step": 10},
        {"score": 0.75, "kl": 0.02, "learning_rate": 5e-5, "step": 20, "error": "text is not a value"},
        {"loss": 0.4, "rewards/margins": 0.3, "step": 30},
        {"step": 30, "validation_reward": 0.4},  # a validation check, not a training step
        {"train_runtime": 9.0, "train_loss": 0.45, "step": 30},  # the end-of-training summary
        {"loss": float("nan"), "step": 40},  # nothing usable
    ]
    assert step_history(logs) == [
        {"step": 10, "loss": 0.5, "reward": 0.25, "kl": 0.01, "lr": 1e-4},
        {"step": 20, "reward": 0.75, "kl": 0.02, "lr": 5e-5},
        {"step": 30, "loss": 0.4, "margin": 0.3},
    ]


def test_the_plot_is_a_png_of_what_was_logged(tmp_path):
    pytest.importorskip("matplotlib")
    history = [{"step": s, "loss": 1 / s, "reward": s / 10, "kl": 0.001 * s} for s in range(1, 6)]
    path = plot_curves(history, tmp_path / "run" / "curves.png", title="grpo-sft-tiny-llava-1a2b3c4d")
    assert path == tmp_path / "run" / "curves.png"
    assert path.read_bytes()[:8] == PNG


def test_no_plot_without_points_or_without_matplotlib(tmp_path, monkeypatch):
    assert plot_curves([], tmp_path / "a.png") is None
    assert plot_curves([{"step": 1, "lr": 1e-3}], tmp_path / "b.png") is None  # lr alone is not drawn
    monkeypatch.setattr(curves, "matplotlib_available", lambda: False)
    assert plot_curves([{"step": 1, "loss": 1.0}], tmp_path / "c.png") is None
    assert not list(tmp_path.iterdir())
