"""Training curves of one run: the per-step log history (`train_result.json`'s `log_history`) and a PNG
of reward, loss and KL per step (`curves.png` in the run folder; the leaderboard shows it on the trained
model's page).

Why here and not only in TensorBoard: the run folder then says how training went by itself, on a
machine without TensorBoard, and a published board can show it. The plot is drawn by matplotlib when it
is installed (`vlmbench[train]`); without it the history is still written and the PNG is skipped.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from train_adapters.progress import step_fields

CURVES = "curves.png"
PANELS = ("reward", "margin", "loss", "kl")  # what the PNG draws, where present (of progress.FIELDS)


def step_history(log_history: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per logged step: `step` and whichever of loss, reward, margin, kl, lr it logged. The
    end-of-training summary and validation checks are not steps and are left out."""
    out = []
    for logs in log_history:
        step = logs.get("step")
        if not isinstance(step, int):
            continue
        fields = {k: v for k, v in step_fields(logs).items() if v == v}  # a NaN is not a point to draw
        entry: dict[str, Any] = {"step": step, **fields}
        if fields:
            out.append(entry)
    return out


def matplotlib_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def plot_curves(history: list[dict[str, Any]], path: Path, title: str = "") -> Path | None:
    """reward / margin / loss / KL per step as one PNG at `path`; None (nothing written) without
    matplotlib or without a single logged point."""
    panels = [p for p in PANELS if any(p in entry for entry in history)]
    if not panels or not matplotlib_available():
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display: training runs on servers
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(
        len(panels), 1, figsize=(6.4, 1.9 * len(panels) + 0.6), sharex=True, squeeze=False
    )
    try:
        for ax, name in zip(axes[:, 0], panels, strict=True):
            points = [(e["step"], e[name]) for e in history if name in e]
            ax.plot([s for s, _ in points], [v for _, v in points], marker="." if len(points) < 30 else None)
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
        axes[-1, 0].set_xlabel("step")
        if title:
            fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
