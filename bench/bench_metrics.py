"""Time `vlmbench.metrics.aggregate_metrics` (every per-sample metric plus the run summary with its
bootstrap intervals) on N synthetic chain-of-thought rows; the issue asks for 100k under a minute.

    python bench/bench_metrics.py [--n 100000] [--text-metrics]

Rows are varied on purpose (numbered steps, prose, think tags, wrong steps, backtracks, loops, direct
answers) so that no cache sees the same chain twice; three questions share each image.
"""

from __future__ import annotations

import argparse
import random
import time

from vlmbench.metrics import aggregate_metrics
from vlmbench.registry import get_task
from vlmbench.schema import AnswerType, ImageRef, Sample


def make_output(rng: random.Random, a: int, b: int, c: int) -> tuple[str, str]:
    """A chain and its extracted answer in one of several styles."""
    total = a + b * c
    wrong = rng.random() < 0.2
    shown = total + (1 if wrong else 0)
    kind = rng.randrange(6)
    if kind == 0:
        text = (
            f"Step 1: Read the bars: {a}, {b} and {c}.\nStep 2: {b} * {c} = {b * c}.\n"
            f"Step 3: {a} + {b * c} = {shown}.\nAnswer: {shown}"
        )
    elif kind == 1:
        text = (
            f"<think>The first value is {a}. Then {b} x {c} = {b * c}. Wait, let me re-check: "
            f"{a} + {b} * {c} = {shown}.</think>\n<answer>{shown}</answer>"
        )
    elif kind == 2:
        pct = rng.choice([10, 20, 25, 50])
        text = (
            f"1. {pct}% of {a * 4} = {pct * a * 4 / 100:g}\n2. Adding {b}: {pct * a * 4 / 100:g} + {b} = "
            f"{pct * a * 4 / 100 + b:g}\n3. Hmm, actually the total is {shown}.\nAnswer: {shown}"
        )
    elif kind == 3:
        text = f"The chart shows {a} apples and {b} pears. So there are more apples. Answer: {a}"
    elif kind == 4:
        text = " ".join(["the value is the value"] * rng.randrange(2, 30)) + f"\nAnswer: {shown}"
    else:
        text = str(shown)
    return text, str(shown)


def build(n: int, seed: int = 0) -> tuple[list[dict], list[Sample]]:
    rng = random.Random(seed)
    rows, samples = [], []
    for i in range(n):
        a, b, c = rng.randrange(1, 500), rng.randrange(1, 50), rng.randrange(1, 50)
        sample = Sample(
            id=f"s{i}",
            question=f"What is {a} plus {b} times {c}?",
            answer=str(a + b * c),
            answer_type=AnswerType.INTEGER,
            images=[ImageRef(path=f"images/{i // 3}.png")],
        )
        output, extracted = make_output(rng, a, b, c)
        rows.append(
            {
                "id": sample.id,
                "prompt": sample.question + "\nThink step by step",
                "output": output,
                "extracted": extracted,
                "official": float(extracted == sample.answer),
                "robust": float(extracted == sample.answer),
                "truncated": rng.random() < 0.02,
                "n_prompt_tokens": 40,
                "n_output_tokens": len(output.split()) + rng.randrange(0, 8),
                "seconds": 0.05 + rng.random() / 10,
            }
        )
        samples.append(sample)
    return rows, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--text-metrics", action="store_true", help="also exact match, F1, BLEU, ROUGE")
    args = parser.parse_args()
    spec = get_task("synth_table_math")
    if args.text_metrics:
        metrics = spec.metrics.model_copy(
            update={"text_metrics": ["exact_match", "f1", "bleu", "rouge1", "rouge2", "rougeL"]}
        )
        spec = spec.model_copy(update={"metrics": metrics})
    rows, samples = build(args.n)
    start, cpu = time.perf_counter(), time.process_time()
    result = aggregate_metrics(rows, samples, spec, n_params=7_000_000_000, style="cot")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    step = result["reasoning"]["step_accuracy"]
    rate = args.n / elapsed
    print(f"{args.n} samples: all metrics in {elapsed:.1f} s wall, {cpu:.1f} s CPU ({rate:,.0f} samples/s)")
    low, high = step["ci95"]
    print(f"  step accuracy {step['mean']:.3f} [{low:.3f}, {high:.3f}] (n={step['n']})")
    print(f"  samples with no verifiable step: {step['n_unverifiable']}")
    print(f"  clusters {result['n_clusters']}, length outliers {len(result['hacking']['length_outliers'])}")


if __name__ == "__main__":
    main()
