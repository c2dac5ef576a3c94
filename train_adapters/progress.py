"""One compact line per logging step on stderr, the same for every algorithm:

    step 10/150  loss 0.123  reward 0.61  kl 0.002  lr 1.0e-04  (3.2 s/step)

Why: transformers prints each log as a raw dict (a dozen keys, most of them noise to someone watching
a run), and the own PPO loop printed nothing. The TRL trainers get a `TrainerCallback`; PPO calls
`StepReporter.report` itself; both go through `format_step`. `--verbose` keeps transformers' raw dicts
and its own warnings (`quiet`), as `vlmbench eval --verbose` keeps its bars.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# What a step line and the training curves (train_adapters.curves) show: label -> the log keys it is
# read from, in order of preference (the first that holds a number wins).
FIELDS: dict[str, tuple[str, ...]] = {
    "loss": ("loss",),
    "reward": ("reward", "score"),  # GRPO's mean reward; PPO's mean task score
    "margin": ("rewards/margins",),  # DPO: chosen minus rejected implicit reward
    "kl": ("kl",),
    "lr": ("learning_rate",),
}
FORMATS = {"reward": "reward", "lr": "lr"}  # how a value is written; the rest as "small"

_verbose = False


def write_line(message: str) -> None:
    """A line on stderr (stdout carries the command's JSON summary)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@contextmanager
def output(verbose: bool) -> Iterator[None]:
    """Within: training prints compact lines only (`verbose=False`), or the raw dicts too."""
    global _verbose
    before, _verbose = _verbose, verbose
    try:
        yield
    finally:
        _verbose = before


def is_verbose() -> bool:
    return _verbose


def quiet() -> None:
    """transformers' progress bars and advisory warnings off, as `vlmbench eval` does without --verbose."""
    from vlmbench.eval_options import quiet_third_party

    quiet_third_party()


def _number(value: float, how: str) -> str:
    if how == "lr":
        return f"{value:.1e}"
    if how == "reward":
        return f"{value:.2f}"
    return f"{value:.3f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.1e}"


def is_number(value: Any) -> bool:
    """A logged number (a bool is not one; NaN is, so that a diverged loss shows)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def step_fields(logs: Mapping[str, Any]) -> dict[str, float]:
    """The `FIELDS` a log holds, by label, in `FIELDS` order."""
    out = {}
    for label, keys in FIELDS.items():
        value = next((logs[k] for k in keys if is_number(logs.get(k))), None)
        if value is not None:
            out[label] = float(value)
    return out


def format_step(step: int, total: int, logs: Mapping[str, Any], seconds_per_step: float | None) -> str:
    """`step 10/150  loss 0.123  reward 0.61  kl 0.002  lr 1.0e-04  (3.2 s/step)`: the fields present in
    `logs` (numbers only), in that order."""
    parts = [f"step {step}/{total}"]
    for label, value in step_fields(logs).items():
        parts.append(f"{label} {_number(value, FORMATS.get(label, 'small'))}")
    line = "  ".join(parts)
    if seconds_per_step is not None:
        digits = ".2g" if seconds_per_step < 1 else ".1f"
        line += f"  ({seconds_per_step:{digits}} s/step)"
    return line


def has_step_fields(logs: Mapping[str, Any]) -> bool:
    """A per-step log (not the end-of-training summary, which has `train_loss`, not `loss`)."""
    return bool(step_fields(logs))


class StepReporter:
    """Prints `format_step` lines; seconds per step are measured between two reports."""

    def __init__(self, total: int, write: Callable[[str], None] = write_line) -> None:
        self.total, self.write = total, write
        self.last: tuple[float, int] | None = None

    def start(self, step: int = 0) -> None:
        self.last = (time.perf_counter(), step)

    def report(self, step: int, logs: Mapping[str, Any]) -> None:
        now = time.perf_counter()
        rate = None
        if self.last is not None and step > self.last[1]:
            rate = (now - self.last[0]) / (step - self.last[1])
        self.last = (now, step)
        self.write(format_step(step, self.total, logs, rate))


def step_callback(total: int, write: Callable[[str], None] = write_line) -> Any:
    """A transformers `TrainerCallback` printing one compact line per logging step (rank 0 only)."""
    from transformers import TrainerCallback

    reporter = StepReporter(total, write)

    class CompactSteps(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            reporter.start(int(state.global_step))  # a resumed run counts from its checkpoint

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if state.is_world_process_zero and logs and has_step_fields(logs):
                reporter.report(int(state.global_step), logs)

    return CompactSteps()


def window_mean(window: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The mean of each numeric field over the steps since the last line (the last value of `lr`), as
    transformers averages the loss over its logging window; PPO's lines use it."""
    out: dict[str, Any] = {}
    for key in {k for stats in window for k in stats}:
        values = [s[key] for s in window if is_number(s.get(key))]
        if values:
            out[key] = values[-1] if key == "learning_rate" else sum(values) / len(values)
    return out
