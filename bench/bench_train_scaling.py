"""Training step time on CPU under the launchers the recipes ship: one process, `accelerate launch --cpu
--num_processes 2` (DDP on gloo) and DeepSpeed ZeRO-2 with 2 CPU processes (baselines/accelerate/zero2.yaml
switched to CPU), each running `vlmbench train-baseline sft` on a freshly built tiny LLaVA.

    python bench/bench_train_scaling.py [--steps 40] [--batch-size 16] [--modes single,ddp,zero2]

Why: it shows what the distributed launchers cost and buy before anyone books GPUs; on a 2-core machine
it mostly measures their overhead (gloo all-reduce, DeepSpeed's engine), not a speed-up. Every mode keeps
the per-process batch, so 2 processes train twice the samples per step; samples/s is the figure to
compare. Torch threads per process are set (OMP_NUM_THREADS): one process with 2 threads (both cores)
and with 1, two processes with 1 each. s/step is TRL's `train_runtime` over the steps (the whole loop,
first step included); wall s is the whole command, imports and model loading included. The first
DeepSpeed launch on a machine also JIT-compiles a communication op (about 20-30 s, docs/scaling.md);
run the script twice if that matters for the wall column.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch"]


def cpu_config(name: str, folder: Path, processes: int) -> Path:
    """A shipped config (ddp or zero2) with the CPU switches its header names. (`accelerate launch --cpu
    --num_processes 2` without a config ran one non-distributed process here, accelerate 1.16.)"""
    config = yaml.safe_load((ROOT / f"baselines/accelerate/{name}.yaml").read_text())
    config.update(num_processes=processes, mixed_precision="no", use_cpu=True)
    path = folder / f"{name}_cpu.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# mode -> (shipped config or None for a plain one-process launch, processes, torch threads per process)
MODES = {"single": (None, 1, 2), "single-1t": (None, 1, 1), "ddp": ("ddp", 2, 1), "zero2": ("zero2", 2, 1)}


def launcher(mode: str, folder: Path) -> tuple[list[str], int, int]:
    """The launch prefix of `mode`, its process count and threads per process."""
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}: {', '.join(MODES)}")
    name, processes, threads = MODES[mode]
    if name is None:
        return [*LAUNCH, "--cpu", "--num_processes", "1", "--num_machines", "1"], processes, threads
    return [*LAUNCH, "--config_file", str(cpu_config(name, folder, processes))], processes, threads


def run(mode: str, model: Path, folder: Path, steps: int, batch_size: int) -> dict:
    prefix, processes, threads = launcher(mode, folder)
    out = folder / f"sft-{mode}"
    command = [
        *prefix, "-m", "vlmbench.cli", "train-baseline", "sft", "--model", str(model), "--output-dir",
        str(out), f"max_steps={steps}", f"batch_size={batch_size}", "data.train_n=512", "save_steps=0",
        f"logging_steps={steps}", "eval.enabled=false", "warmup_ratio=0.0",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env["HF_HUB_OFFLINE"] = "1"
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{mode}: exit {done.returncode}\n{done.stderr[-3000:]}")
    state = json.loads((out / "train_state.json").read_text())
    launched = state["metrics"]["distributed"]["num_processes"]
    if launched != processes:  # never report a launch that did not happen as a 2-process figure
        raise SystemExit(f"{mode}: asked for {processes} processes, accelerate ran {launched}")
    loop = next(h["train_runtime"] for h in state["metrics"]["log_history"] if "train_runtime" in h)
    per_step = loop / state["steps"]
    return {
        "mode": mode,
        "distributed": state["metrics"]["distributed"],
        "threads_per_process": threads,
        "steps": state["steps"],
        "s_per_step": round(per_step, 4),
        "samples_per_s": round(batch_size * processes / per_step, 1),
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16, help="per process")
    parser.add_argument("--modes", default="single-1t,single,ddp,zero2")
    args = parser.parse_args()
    from vlmbench.models.tiny import make_tiny_model

    print(f"load average before: {os.getloadavg()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = make_tiny_model(Path(tmp) / "tiny", "llava")
        for mode in [m for m in args.modes.split(",") if m]:
            rows.append(run(mode, model, Path(tmp), args.steps, args.batch_size))
            print(json.dumps(rows[-1]), flush=True)
    print(f"load average after: {os.getloadavg()}")
    base = rows[0]["samples_per_s"]
    print("\n| mode | accelerate type | processes x threads | s/step | samples/s | vs first | wall s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        d = r["distributed"]
        kind = d["type"] + (f" ZeRO-{d['zero_stage']}" if d.get("zero_stage") else "")
        print(
            f"| {r['mode']} | {kind} | {d['num_processes']} x {r['threads_per_process']} | "
            f"{r['s_per_step']:.3f} | {r['samples_per_s']:.1f} | {r['samples_per_s'] / base:.2f}x | "
            f"{r['wall_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
