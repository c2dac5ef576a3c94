"""SFT speed and what it buys: steps/s of `vlmbench train-baseline sft` on the embedded tiny model with the
shipped recipe, and the visual gain it reaches per minute of training, at a few step budgets.

    python bench/bench_sft.py [--steps 250,500,1000] [--eval-n 300] [--threads 2]

Each budget is one full `train_baseline("sft", ...)` run into a temporary folder (a fresh tiny LLaVA, the
shipped baselines/sft.yaml with `max_steps` changed), then its trained checkpoint evaluated on `eval-n`
held-out items with and without images (the paired difference is the visual gain, with its 95%
interval). steps/s is the training loop alone (TRL's `train_runtime`); setup (data, model) and eval are
timed apart. Gain per minute divides the visual gain by the training loop's minutes. One seed per
budget: on this model a run's gain varies between seeds (docs/training.md), so read the column as a
rough curve, not a ranking of budgets.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="250,500,1000")
    parser.add_argument("--eval-n", type=int, default=300)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from train_adapters.cli import train_baseline
    from vlmbench.models.tiny import make_tiny_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tiny = make_tiny_model(Path(tmp) / "tiny", "llava")
        for steps in [int(s) for s in args.steps.split(",") if s]:
            out = Path(tmp) / f"sft-{steps}"
            started = time.perf_counter()
            summary = train_baseline(
                "sft",
                model=str(tiny),
                output_dir=out,
                overrides=[f"max_steps={steps}", f"eval.n={args.eval_n}", "eval.base=false", "save_steps=0"],
            )
            wall = time.perf_counter() - started
            state = json.loads((out / "train_state.json").read_text())
            loop = next(h["train_runtime"] for h in state["metrics"]["log_history"] if "train_runtime" in h)
            gain = summary["eval_trained"]["visual_gain"]
            rows.append(
                {
                    "steps": steps,
                    "steps_per_s": round(steps / loop, 2),
                    "train_loop_s": round(loop, 1),
                    "setup_s": round(summary["train_seconds"] - loop, 1),
                    "wall_s": round(wall, 1),
                    "accuracy": summary["eval_trained"]["official"],
                    "visual_gain": round(gain["diff"], 3),
                    "visual_gain_ci95": [round(v, 3) for v in gain["ci95"]],
                    "gain_per_train_minute": round(gain["diff"] / (loop / 60), 3),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print("\n| steps | steps/s | loop s | setup s | wall s | accuracy | visual gain [95% CI] | gain / min |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        lo, hi = r["visual_gain_ci95"]
        print(
            f"| {r['steps']} | {r['steps_per_s']:.2f} | {r['train_loop_s']:.0f} | {r['setup_s']:.0f} | "
            f"{r['wall_s']:.0f} | {r['accuracy']:.3f} | {r['visual_gain']:+.3f} [{lo:+.3f}, {hi:+.3f}] | "
            f"{r['gain_per_train_minute']:+.3f} |"
        )


if __name__ == "__main__":
    main()
