"""Time `vlmbench leaderboard`: index 200 runs x 9 tasks into a fresh store, then publish the default board.

The run records are synthetic but well-formed (the protocol of each task is built from its task file
and hashed the way the runner hashes it; metrics carry Wilson intervals; each task has a samples file),
so the store validates them exactly as it validates real runs. Goal: publishing under 10 s.

    python bench/bench_publish.py [--runs 200] [--samples 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from leaderboard_records import task_protocol

from vlmbench.leaderboard.board import load_board
from vlmbench.leaderboard.publish import publish
from vlmbench.records.store import Store, canonical_hash
from vlmbench.registry import get_task
from vlmbench.stats import wilson_interval


@cache
def spec_of(task: str) -> Any:
    return get_task(task)


@cache  # read-only below; building it parses the task file
def protocol(task: str, n: int, style: str) -> dict[str, Any]:
    """The tests' record protocol (one definition), with a CoT-sized token budget under `cot`."""
    budget = 512 if style == "cot" else 32
    generation = {"max_new_tokens": budget, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    return task_protocol(task, n, style, generation=generation)


def write_runs(root: Path, tasks: list[str], runs: int, samples: int, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    folders = []
    for i in range(runs):
        style = "cot" if i % 10 == 9 else "direct"  # a tenth under another prompt: separate columns
        skill = rng.uniform(0.2, 0.9)
        record_tasks = {}
        folder = root / f"bench-model-{i:03d}"
        (folder / "samples").mkdir(parents=True)
        for task in tasks:
            n = 1000
            correct = sum(rng.random() < skill for _ in range(n))
            low, high = wilson_interval(correct, n)
            proto = protocol(task, n, style)
            tokens = rng.randint(200, 600) if style == "cot" else rng.randint(2, 20)
            record_tasks[task] = {
                "protocol_hash": canonical_hash(proto),
                "protocol": proto,
                "status": "done",
                "n": n,
                "n_failed": 0,
                "metric": spec_of(task).metrics.main,
                "metrics": {"official": correct / n, "official_ci95": [low, high], "robust": correct / n,
                            "robust_ci95": [low, high], "unparsed_rate": 0.0},
                "tokens_in": 300 * n,
                "tokens_out": tokens * n,
                "truncation_rate": 0.0,
                "generation_seconds": 0.1 * n,
            }  # fmt: skip
            rows = [
                {"id": f"{task}-{j}", "prompt": f"<b>question {j}</b>", "output": f"answer <i>{j}</i>",
                 "extracted": str(j), "status": "ok", "method": "bench", "gold": str(j % 4),
                 "official": float(j % 4 == 0), "robust": float(j % 4 == 0), "finish_reason": "stop",
                 "truncated": False, "n_prompt_tokens": 300, "n_output_tokens": tokens, "seconds": 0.1,
                 "error": None}
                for j in range(samples)
            ]  # fmt: skip
            (folder / "samples" / f"{task}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        record = {
            "record_version": "1", "run_id": folder.name, "status": "done",
            "created": "2026-01-01T00:00:00+00:00",
            "finished": f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00+00:00",
            "model": {"name": f"bench-model-{i:03d}", "backend": "hf", "args": {}, "weights": None,
                      "backend_info": {}, "n_params": rng.choice([500, 2000, 7000]) * 1_000_000},
            "config": {"data_dir": None, "synth": {}}, "packages": {}, "git": {}, "hardware": {},
            "wall_seconds": 1.0, "tasks": record_tasks,
        }  # fmt: skip
        if i % 3 == 0:
            record["lineage"] = {"base_model": "bench-base", "algorithm": rng.choice(["sft", "grpo", "dpo"]),
                                 "config_hash": f"{i:08x}", "steps": 1000}  # fmt: skip
        (folder / "run.json").write_text(json.dumps(record, indent=2))
        folders.append(folder)
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--samples", type=int, default=20, help="rows per samples file")
    parser.add_argument("--board", default="default")
    parser.add_argument("--keep", type=Path, help="write here and keep the output (default: a temp dir)")
    args = parser.parse_args()
    board = load_board(args.board)
    tasks = [t.task for t in board.tasks]
    root = args.keep or Path(tempfile.mkdtemp(prefix="vlmbench-bench-publish-"))
    try:
        start = time.perf_counter()
        folders = write_runs(root / "runs", tasks, args.runs, args.samples)
        written = time.perf_counter() - start
        store = Store(root / "runs" / "vlmbench.sqlite")
        start = time.perf_counter()
        store.add(folders)
        added = time.perf_counter() - start
        start = time.perf_counter()
        result = publish(board, store, root / "site")
        published = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (root / "site").rglob("*") if p.is_file())
        print(f"{args.runs} runs x {len(tasks)} tasks ({args.samples} samples each)")
        print(f"write records  {written:6.2f} s")
        print(f"store add      {added:6.2f} s")
        print(
            f"publish        {published:6.2f} s  ({len(result.model_pages)} model pages, {size / 1e6:.1f} MB)"
        )
        print(f"add + publish  {added + published:6.2f} s  (goal < 10 s)")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
