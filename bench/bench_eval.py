"""Eval throughput and harness overhead for the hf backend on a tiny offline model: samples/s, and the
share of the sample loop spent outside the backend's generate calls (prompt rendering, image decoding,
scoring, fsynced record writes). Goal: overhead below 5% of the loop at batch 8. Setup (model load,
item generation) is timed apart.

    python bench/bench_eval.py [--arch llava] [--n 64] [--batch-size 8] [--max-new-tokens 32]
                               [--processes 1,2]

A tiny model's forward pass is far cheaper than a real VLM's, so its overhead share is an upper bound
of what a real model sees. `--processes 1,2` also times whole `vlmbench eval` commands (process start,
imports, model load, fingerprint, generation, merge and record) with each number of data-parallel
processes (`--num-processes`, accelerate launch) over the same items, and prints wall samples/s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vlmbench.data import load_samples
from vlmbench.models import get_backend
from vlmbench.models.tiny import make_tiny_model
from vlmbench.records.rundir import RunStore
from vlmbench.registry import get_task
from vlmbench.runner import EvalConfig, generation_params, run_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="llava")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--tasks", default="synth_chart,synth_scene")
    parser.add_argument("--processes", default="", help="e.g. 1,2: also time whole evals with N processes")
    args = parser.parse_args()
    report: dict[str, object] = {"arch": args.arch, "batch_size": args.batch_size}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        model = make_tiny_model(Path(tmp) / "tiny", arch=args.arch)
        backend = get_backend("hf", str(model))
        report["setup_model_seconds"] = round(time.perf_counter() - start, 2)
        config = EvalConfig(model=str(model), backend="hf", max_new_tokens=args.max_new_tokens)
        store = RunStore(Path(tmp) / "run")
        loop = generate = 0.0
        samples = tokens = 0
        for name in args.tasks.split(","):
            spec = get_task(name)
            start = time.perf_counter()
            items = load_samples(spec, synth={"n": args.n})
            report[f"setup_items_seconds_{name}"] = round(time.perf_counter() - start, 2)
            style = spec.prompts.default
            rows: dict[str, dict] = {}
            start = time.perf_counter()
            run_task(spec, items, style, generation_params(spec, config, style), backend, store, rows,
                     args.batch_size, None)  # fmt: skip
            loop += time.perf_counter() - start
            generate += sum(r["seconds"] for r in rows.values())
            tokens += sum(r["n_output_tokens"] for r in rows.values())
            samples += len(rows)
    report.update(
        samples=samples,
        loop_seconds=round(loop, 2),
        samples_per_second=round(samples / loop, 1),
        output_tokens_per_second=round(tokens / loop, 1),
        generate_seconds=round(generate, 2),
        overhead_share=round(1 - generate / loop, 3),
        overhead_ms_per_sample=round(1000 * (loop - generate) / samples, 2),
    )
    if args.processes:
        with tempfile.TemporaryDirectory() as tmp:
            model = make_tiny_model(Path(tmp) / "tiny", arch=args.arch)
            counts = [int(p) for p in args.processes.split(",")]
            report["processes"] = {str(p): whole_eval(model, p, args, Path(tmp) / f"p{p}") for p in counts}
    print(json.dumps(report, indent=1))


def whole_eval(model: Path, processes: int, args: argparse.Namespace, out: Path) -> dict[str, float]:
    """One `vlmbench eval` command start to end with `processes` ranks: wall seconds and samples/s."""
    command = [sys.executable, "-m", "vlmbench", "eval", "--model", str(model), "--backend", "hf"]
    command += ["--tasks", args.tasks, "--n", str(args.n), "--batch-size", str(args.batch_size)]
    command += ["--max-new-tokens", str(args.max_new_tokens), "--output-dir", str(out)]
    command += ["--num-processes", str(processes)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    record = json.loads(next(out.glob("*/run.json")).read_text(encoding="utf-8"))
    samples = sum(task["n"] for task in record["tasks"].values())
    return {
        "num_processes": record["config"]["num_processes"],
        "wall_seconds": round(wall, 2),
        "samples": samples,
        "samples_per_second": round(samples / wall, 2),
    }


if __name__ == "__main__":
    main()
