"""Fixed cost of a run: what a user with a small model or a short run waits for besides generation.

Prints, each in a fresh interpreter (min and median of --repeat runs): the import time of
`vlmbench.runner`, of `vlmbench.models.hf`, of torch + transformers alone; the whole-process wall
time of a bare transformers script that loads the tiny model and its processor through the Auto classes
and exits (the floor any transformers-based harness pays before its first sample); and the
whole-process wall (and CPU) time of a one-item eval of the tiny model (`vlmbench eval --tasks
synth_chart --n 1`, a new run folder each time), with its excess over that floor: what vlmbench itself
adds. Goal: that eval <= 2 s. `--served` also times the same one-item eval through the openai
backend against `transformers serve` holding the same model (started once, outside the timing): the
fixed cost of a run when the model stays loaded between runs.

    python bench/bench_startup.py [--repeat 5] [--task synth_chart] [--served]

On a machine shared with other work, the minimum is the figure to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
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


FLOOR = """
import sys
from transformers import AutoModelForImageTextToText, AutoProcessor
AutoModelForImageTextToText.from_pretrained(sys.argv[1])
AutoProcessor.from_pretrained(sys.argv[1])
"""


def floor_seconds(model: Path) -> float:
    """Wall seconds of a whole process that only loads the model through transformers and exits."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR, str(model)], capture_output=True, check=True)
    return time.perf_counter() - start


@contextlib.contextmanager
def served(model: Path, root: Path) -> Iterator[str]:
    """`transformers serve MODEL` on CPU (transformers' `[serving]` extra) until the block ends."""
    beside = Path(sys.executable).with_name("transformers")  # this environment's, active or not
    cli = str(beside) if beside.is_file() else shutil.which("transformers") or raise_missing()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [cli, "serve", str(model), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    log = (root / "serve.log").open("w")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2),
            ):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"transformers serve did not come up: see {root / 'serve.log'}")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def raise_missing() -> str:
    raise SystemExit("--served needs the `transformers` command: pip install 'transformers[serving]'")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def eval_seconds(
    model: Path, task: str, root: Path, env: dict[str, str], server: str | None = None
) -> tuple[float, float]:
    """Wall and CPU seconds of a whole `vlmbench eval` process on one item, in a run folder of its own
    (through the openai backend when `server` is a base URL)."""
    runs = Path(tempfile.mkdtemp(dir=root))
    command = [sys.executable, "-m", "vlmbench", "eval", "--model", str(model), "--tasks", task]
    command += ["--n", "1", "--output-dir", str(runs)]
    if server:
        command += ["--backend", "openai", "--model-args", f"base_url={server},max_retries=0"]
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
    parser.add_argument("--served", action="store_true", help="also time it against `transformers serve`")
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
        warm, floor = [], []
        for _ in range(args.repeat):  # interleaved, so that load on a shared machine hits both alike
            warm.append(eval_seconds(model, args.task, root, env))
            floor.append(floor_seconds(model))
        if args.served:
            with served(model, root) as url:
                eval_seconds(model, args.task, root, env, url)  # the server's first request warms it
                times = [eval_seconds(model, args.task, root, env, url)[0] for _ in range(args.repeat)]
            report["eval_one_item_served_seconds"] = summary(times)
    report["eval_one_item_first_seconds"] = round(cold, 3)
    report["eval_one_item_seconds"] = summary([wall for wall, _ in warm])
    report["eval_one_item_cpu_seconds"] = summary([cpu for _, cpu in warm])  # steadier when shared
    report["transformers_load_floor_seconds"] = summary(floor)
    report["vlmbench_over_floor_seconds"] = summary([w - f for (w, _), f in zip(warm, floor, strict=True)])
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
