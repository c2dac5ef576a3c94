"""Time from `vlmbench ...` to its error for the typos a new user makes: a task, a baseline, a backend
and a checkpoint folder. Each is a fresh process (imports included), as a user at a shell sees it.

    python bench/bench_cli.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CASES = {
    "task typo (--tasks chartq)": ["eval", "--backend", "baseline", "--model", "random", "--tasks", "chartq"],
    "baseline typo (--model majorty)": ["eval", "--backend", "baseline", "--model", "majorty"],
    "backend typo (--backend hff)": ["eval", "--backend", "hff", "--model", "x"],
    "folder typo (--model ./ckpt-typo)": ["eval", "--model", "./ckpt-typo", "--tasks", "synth_chart"],
    "tasks show typo (scienceq)": ["tasks", "show", "scienceq"],
}


def _command() -> list[str]:
    found = shutil.which("vlmbench")
    return [found] if found else [sys.executable, "-m", "vlmbench.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = _command()
    with tempfile.TemporaryDirectory() as cwd:
        env = {**os.environ, "COLUMNS": "200"}
        print(f"{'case':36} {'median s':>9} {'max s':>7}  exit  message")
        for label, argv in CASES.items():
            times, last = [], None
            for _ in range(args.repeat):
                start = time.perf_counter()
                last = subprocess.run([*base, *argv], cwd=cwd, env=env, capture_output=True, text=True)
                times.append(time.perf_counter() - start)
            message = (last.stderr or last.stdout).strip().splitlines()[-1][:90] if last else ""
            median, worst = statistics.median(times), max(times)
            print(f"{label:36} {median:9.2f} {worst:7.2f}  {last.returncode:4}  {message}")


if __name__ == "__main__":
    main()
