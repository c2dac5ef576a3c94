"""Time `vlmbench leaderboard`: index 200 runs x 9 tasks into a fresh store, then publish the default board.

The run records are synthetic but well-formed version-2 records (`tests/leaderboard_records.py`: the
protocol of each task is built from its task file and hashed the way the runner hashes it, a model
fingerprint from the fingerprint builders, metrics with Wilson intervals, a samples file per task), so
the store validates them exactly as it validates real runs. Goal: publishing under 10 s.

    python bench/bench_publish.py [--runs 200] [--samples 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from leaderboard_records import lineage, task_result, write_run

from vlmbench.leaderboard.board import load_board
from vlmbench.leaderboard.publish import publish
from vlmbench.records.store import Store


def _samples(task: str, count: int, tokens: int) -> list[dict[str, Any]]:
    """Rows with markup in them, so that escaping is part of what is timed."""
    return [
        {"id": f"{task}-{j}", "prompt": f"<b>question {j}</b>", "output": f"answer <i>{j}</i>",
         "extracted": str(j), "status": "ok", "method": "bench", "gold": str(j % 4),
         "official": float(j % 4 == 0), "robust": float(j % 4 == 0), "finish_reason": "stop",
         "truncated": False, "n_prompt_tokens": 300, "n_output_tokens": tokens, "seconds": 0.1,
         "error": None}
        for j in range(count)
    ]  # fmt: skip


def write_runs(root: Path, tasks: list[str], runs: int, samples: int, seed: int = 0) -> list[Path]:
    """`runs` v2 records written by the tests' record helper (validated as they are written)."""
    rng = random.Random(seed)
    folders = []
    for i in range(runs):
        style = "cot" if i % 10 == 9 else "direct"  # a tenth under another prompt: separate columns
        budget = 512 if style == "cot" else 32
        generation = {"max_new_tokens": budget, "temperature": 0.0, "top_p": 1.0, "seed": 0}
        skill = rng.uniform(0.2, 0.9)
        results, rows = {}, {}
        for task in tasks:
            n = 1000
            correct = sum(rng.random() < skill for _ in range(n))
            tokens = rng.randint(200, 600) if style == "cot" else rng.randint(2, 20)
            results[task] = task_result(task, correct, n, tokens, style=style, generation=generation)
            rows[task] = _samples(task, samples, tokens)
        name = f"bench-model-{i:03d}"
        trained = lineage(rng.choice(["sft", "grpo", "dpo"]), "bench-base", 1000) if i % 3 == 0 else None
        folders.append(
            write_run(
                root,
                name,
                name,
                results,
                n_params=rng.choice([500, 2000, 7000]) * 1_000_000,
                lineage=trained,
                finished=f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00+00:00",
                samples=rows,
            )
        )
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
