"""The compact per-step line every algorithm prints (`train_adapters.progress`): its format, which log
keys it reads, how seconds per step are measured, and the callback the TRL trainers get."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from train_adapters import progress
from train_adapters.progress import StepReporter, format_step, has_step_fields, window_mean


def test_a_grpo_log_becomes_one_compact_line():
    logs = {
        "loss": 0.1234,
        "reward": 0.612,
        "kl": 0.0021,
        "learning_rate": 1e-4,
        "epoch": 0.3,
        "step_time": 3.2,
    }
    line = format_step(10, 150, logs, 3.2)
    assert line == "step 10/150  loss 0.123  reward 0.61  kl 0.002  lr 1.0e-04  (3.2 s/step)"


def test_only_the_fields_a_trainer_logged_are_shown_in_a_fixed_order():
    assert (
        format_step(5, 500, {"learning_rate": 3e-4, "loss": 2.5}, None)
        == "step 5/500  loss 2.500  lr 3.0e-04"
    )
    ppo = format_step(2, 4, {"score": 0.5, "kl": 1e-5, "loss": -0.02}, 0.25)
    assert ppo == "step 2/4  loss -0.020  reward 0.50  kl 1.0e-05  (0.25 s/step)"  # PPO's score is its reward
    dpo = format_step(1, 2, {"loss": 0.69, "rewards/margins": 0.01, "rewards/chosen": 0.3}, None)
    assert dpo == "step 1/2  loss 0.690  margin 0.010"
    assert format_step(1, 2, {"loss": "n/a", "reward": True}, None) == "step 1/2"  # numbers only


def test_the_end_of_training_summary_is_not_a_step():
    assert has_step_fields({"loss": 1.0})
    assert not has_step_fields({"train_runtime": 4.0, "train_loss": 1.0, "epoch": 1.0})


def test_seconds_per_step_are_measured_between_reports(monkeypatch):
    clock = iter([100.0, 104.0, 110.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    lines: list[str] = []
    reporter = StepReporter(20, lines.append)
    reporter.start(0)  # 100 s
    reporter.report(2, {"loss": 1.0})  # 104 s: 2 steps in 4 s
    reporter.report(5, {"loss": 0.5})  # 110 s: 3 steps in 6 s
    assert lines == ["step 2/20  loss 1.000  (2.0 s/step)", "step 5/20  loss 0.500  (2.0 s/step)"]


def test_the_callback_prints_on_rank_zero_and_skips_the_summary():
    pytest.importorskip("transformers")
    lines: list[str] = []
    callback = progress.step_callback(4, lines.append)
    state = SimpleNamespace(global_step=0, is_world_process_zero=True)
    callback.on_train_begin(None, state, None)
    state.global_step = 2
    callback.on_log(None, state, None, logs={"loss": 0.5, "learning_rate": 1e-3})
    callback.on_log(None, state, None, logs={"train_runtime": 3.0, "train_loss": 0.6})
    callback.on_log(
        None, SimpleNamespace(global_step=2, is_world_process_zero=False), None, logs={"loss": 1.0}
    )
    assert len(lines) == 1 and lines[0].startswith("step 2/4  loss 0.500  lr 1.0e-03  (")


def test_window_mean_averages_what_the_steps_logged_and_keeps_the_last_lr():
    window = [
        {"step": 1, "loss": 1.0, "score": 0.0, "learning_rate": 2e-4, "error": "x"},
        {"step": 2, "loss": 3.0, "score": 1.0, "learning_rate": 1e-4},
    ]
    assert window_mean(window) == {"step": 1.5, "loss": 2.0, "score": 0.5, "learning_rate": 1e-4}


def test_verbose_is_set_only_within_output():
    assert not progress.is_verbose()
    with progress.output(True):
        assert progress.is_verbose()
    assert not progress.is_verbose()
