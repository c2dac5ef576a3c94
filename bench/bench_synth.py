"""Procedural task generation speed: items per second per generator and difficulty, PNG encoding
included. Goal: 1,000 items per task in well under a minute on this machine.

    python bench/bench_synth.py [--n 1000]
"""

from __future__ import annotations

import argparse
import time

from vlmbench.synth import DIFFICULTIES, generate, generator_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'generator':12} {'difficulty':>10} {'n':>6} {'seconds':>8} {'items/s':>8} {'KB/image':>9}")
    for name in generator_names():
        for difficulty in DIFFICULTIES:
            start = time.perf_counter()
            samples = generate(name, args.n, difficulty, args.seed)
            seconds = time.perf_counter() - start
            size = sum(len(s.images[0].data or b"") for s in samples) / len(samples) / 1024
            rate = args.n / seconds
            print(f"{name:12} {difficulty:>10} {args.n:>6} {seconds:>8.2f} {rate:>8.0f} {size:>9.1f}")


if __name__ == "__main__":
    main()
