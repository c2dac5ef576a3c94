"""Fixed cost of a run: what a user with a small model or a short run waits for besides generation.

Prints, each in a fresh interpreter (min and median of --repeat runs): the import time of
`vlmbench.runner`, of `vlmbench.models.hf`, of torch + transformers alone (the floor the hf backend
cannot go under), and the whole-process wall (and CPU) time of a one-item eval of the tiny model
(`vlmbench eval --tasks synth_chart --n 1`, a new run folder each time). Goal: that eval <= 2 s.

    python bench/bench_startup.py [--repeat 5] [--task synth_chart]

On a machine shared with other work, the minimum is the figure to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORTS = {
    "import_runner_seconds": "import vlmbench.runner",
    "import_models_hf_seconds": "import vlmbench.models.hf",
    "import_torch_transformers_seconds": "import torch, transformers",
}


def import_seconds(statement: str) -> float:
    """Seconds `statement` takes in a new interpreter, timed inside it (interpreter start excluded)."""
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def eval_seconds(model: Path, task: str, root: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of a whole `vlmbench eval` process on one item, in a run folder of its own."""
    runs = Path(tempfile.mkdtemp(dir=root))
    command = [sys.executable, "-m", "vlmbench.cli", "eval", "--model", str(model), "--tasks", task]
    command += ["--n", "1", "--output-dir", str(runs)]
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds, cpu


def summary(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--task", default="synth_chart", help="a procedural task (no data needed)")
    args = parser.parse_args()
    from vlmbench.models.tiny import make_tiny_model

    report: dict[str, object] = {"python": sys.version.split()[0], "repeat": args.repeat}
    for key, statement in IMPORTS.items():
        report[key] = summary([import_seconds(statement) for _ in range(args.repeat)])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = make_tiny_model(root / "tiny", arch="llava")
        env = {**os.environ, "VLMBENCH_CACHE": str(root / "cache")}  # the user's cache stays untouched
        cold, _ = eval_seconds(model, args.task, root, env)  # first run: the weights are hashed
        warm = [eval_seconds(model, args.task, root, env) for _ in range(args.repeat)]
    report["eval_one_item_first_seconds"] = round(cold, 3)
    report["eval_one_item_seconds"] = summary([wall for wall, _ in warm])
    report["eval_one_item_cpu_seconds"] = summary([cpu for _, cpu in warm])  # steadier when shared
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
