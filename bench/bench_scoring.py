"""Scoring throughput: predictions scored per second (official + robust + aggregation) on synthetic
predictions built from the real items in ../shared/data. Goal: >= 50k/s for rule-based tasks.

Two workloads per task: `direct` - the answer shapes direct prompts produce (a letter, a number, a short
decorated answer), which repeat, as real direct-answer outputs do; `unique` - every response made
distinct by a leading sentence with a random number, so the extraction cache never hits (the cost of
scoring free-form chains).

    python bench/bench_scoring.py [--n 100000] [--data ../shared/data]

`preds/s` is wall clock; `cpu preds/s` counts this process's CPU time only, the steadier figure on a
machine shared with other work.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import replace
from pathlib import Path

from vlmbench.data import load_samples
from vlmbench.registry import get_task
from vlmbench.rescore import score_samples
from vlmbench.schema import LETTERS, Sample

TASKS = ("chartqa", "scienceqa_img", "geometry3k", "gqa_testdev_balanced", "mathvista_testmini", "vcr")
# Shapes real model outputs take (direct answers, decorated answers, short CoT endings, misses).
TEMPLATES = (
    "{a}",
    "{a}.",
    "The answer is {a}.",
    "Answer: {a}",
    "**{a}**",
    "({a})",
    "I think the answer is {a}",
    "Looking at the image, the value is clearly {a}.\nAnswer: {a}",
    "<think>Let me look at the figure carefully.</think>{a}",
    "\\boxed{{{a}}}",
    "I am not sure.",
)


def synthetic_task(
    samples: list[Sample], n: int, rng: random.Random, unique: bool = False
) -> tuple[list[Sample], dict]:
    """n samples cycled from the real items (ids made unique) and one synthetic prediction for each."""
    grown, predictions = [], {}
    for i in range(n):
        sample = replace(samples[i % len(samples)], id=f"{samples[i % len(samples)].id}#{i}")
        if sample.choices:
            answer = rng.choice([LETTERS[rng.randrange(len(sample.choices))], sample.answer])
        else:
            answer = rng.choice([sample.answer, str(rng.randint(0, 2000))])
        grown.append(sample)
        text = rng.choice(TEMPLATES).format(a=answer)
        if unique:
            text = f"I compared region {i} with the legend ({rng.randint(0, 10**6)} px). {text}"
        predictions[sample.id] = (text, False)
    return grown, predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    args = parser.parse_args()
    rng = random.Random(0)
    print(f"{'task':24} {'workload':>8} {'n':>8} {'seconds':>8} {'preds/s':>10} {'cpu preds/s':>12}")
    for workload in ("direct", "unique"):
        total_n, total_s, total_cpu = 0, 0.0, 0.0
        for name in TASKS:
            spec = get_task(name)
            samples = load_samples(spec, args.data)
            grown, predictions = synthetic_task(samples, args.n, rng, unique=workload == "unique")
            start, cpu = time.perf_counter(), time.process_time()
            score_samples(spec, grown, predictions)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            total_n += args.n
            total_s += seconds
            total_cpu += cpu
            print(
                f"{name:24} {workload:>8} {args.n:>8} {seconds:>8.2f} {args.n / seconds:>10,.0f} "
                f"{args.n / cpu:>12,.0f}"
            )
        print(
            f"{'all':24} {workload:>8} {total_n:>8} {total_s:>8.2f} {total_n / total_s:>10,.0f} "
            f"{total_n / total_cpu:>12,.0f}"
        )


if __name__ == "__main__":
    main()
