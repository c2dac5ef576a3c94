"""Judge extraction throughput: requests per second against a local OpenAI-compatible server, and how
fast the same pass is when every answer comes from the cache (rescoring a judged run).

    python bench/bench_judge.py [--n 200] [--concurrency 8]            # scripted server (tests/): overhead
    python bench/bench_judge.py --serve [--n 24]                       # transformers serve, tiny LLaVA

The scripted server answers at once, so its figure is vlmbench's own cost per call (HTTP, threads, the
SQLite cache); `--serve` adds a real model's generation (256 new tokens at most, as MathVista's judge).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from servers import start_fake_openai, stop, transformers_serve

from vlmbench.data import load_samples
from vlmbench.judge import Judge, JudgeCache, JudgeTarget, judge_samples
from vlmbench.registry import get_task


@contextlib.contextmanager
def scripted(folder: Path) -> Iterator[str]:
    process, url = start_fake_openai(folder, "--answer", "B")
    try:
        yield url
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200, help="judge requests per pass")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", action="store_true", help="judge with `transformers serve` + tiny LLaVA")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    task = get_task("mathvista_testmini")
    samples = load_samples(task, args.data)
    pairs = [
        (samples[i % len(samples)], f"My reasoning, take {i}: it should be the second one.")
        for i in range(args.n)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.serve:
            from vlmbench.models.tiny import make_tiny_model

            model = make_tiny_model(folder / "tiny-llava", arch="llava")
            server, name = transformers_serve(model, folder), str(model)
        else:
            server, name = scripted(folder), "scripted-judge"
        with server as url:
            cache = JudgeCache(folder / "judge.sqlite", enabled=True)
            judge = Judge(JudgeTarget(name, url), cache=cache, concurrency=args.concurrency)
            start = time.perf_counter()
            first = judge_samples(task, judge, pairs)
            cold = time.perf_counter() - start
            again = Judge(JudgeTarget(name, url), cache=cache, concurrency=args.concurrency)
            start = time.perf_counter()
            judge_samples(task, again, pairs)
            warm = time.perf_counter() - start
    failed = sum(1 for j in first if j.error)
    kind = "transformers serve (tiny LLaVA)" if args.serve else "scripted server"
    print(f"judge: {kind}, {args.n} requests, concurrency {args.concurrency}, {failed} failed")
    print(f"  calls   : {judge.calls} in {cold:.2f} s = {judge.calls / cold:.1f} requests/s")
    print(f"  cached  : {args.n} in {warm:.3f} s = {args.n / warm:.0f} samples/s ({again.calls} calls)")


if __name__ == "__main__":
    main()
