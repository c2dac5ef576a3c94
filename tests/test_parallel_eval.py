"""Data-parallel eval (`vlmbench.parallel`, `accelerate launch -m vlmbench eval`): N processes write the
run one process writes - the same rows, scores, protocol hashes and run id - and a rank killed mid-run
loses nothing: a rerun, with the same or another process count, reuses every row it wrote.

The processes are real (accelerate's launcher, gloo on CPU). accelerate's `--cpu` launcher starts one
process (more need mpirun), so the launches here use `--multi_gpu`, which on a machine without GPUs
starts torchrun ranks on gloo.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realdata import shared_data_dir
from servers import start_fake_openai, stop
from test_runner import EchoBackend, echo_config, results_of, rows_of, without_seconds

from vlmbench import models
from vlmbench.defaults import tiny_model_path
from vlmbench.parallel import (
    free_port,
    launch_command,
    processes_to_launch,
    shard,
    without_num_processes,
)
from vlmbench.records.fingerprint import name_fingerprint
from vlmbench.records.rundir import RunStore
from vlmbench.runner import EvalConfig, RunInterrupted, evaluate

TESTS = Path(__file__).resolve().parent
TASKS = ("synth_geometry", "synth_chart")

# A run of test_runner's echo backend (deterministic per sample, `delay` seconds a request), started
# once per rank; each rank leaves its pid so that a test can kill one.
ECHO_RUN = """
import os, sys
from pathlib import Path
import test_parallel_eval, test_runner
from vlmbench.runner import evaluate
out = Path(sys.argv[1])
(out.parent / f"pid-{os.environ.get('RANK', '0')}").write_text(str(os.getpid()))
test_parallel_eval.register_backends()
test_runner.EchoBackend.delay = float(sys.argv[2])
evaluate(test_runner.echo_config(out, backend=sys.argv[3], synth={"n": 16}, batch_size=2))
"""


class RankOneFails(EchoBackend):
    """The echo backend, except that rank 1 fails as its first task starts (outside any sample)."""

    def start_task(self, task: str, samples: Any) -> None:
        if os.environ.get("RANK") == "1":
            raise RuntimeError("rank 1 cannot start its task")


def register_backends() -> None:
    models.BACKENDS["echo"] = ("test_runner:EchoBackend", "")
    models.BACKENDS["rank-one-fails"] = ("test_parallel_eval:RankOneFails", "")


@pytest.fixture(autouse=True)
def echo_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(models.BACKENDS, "echo", ("test_runner:EchoBackend", ""))
    monkeypatch.setattr(EchoBackend, "calls", [])
    monkeypatch.setattr(EchoBackend, "delay", 0.0)
    monkeypatch.setattr(EchoBackend, "interrupt_after", None)


def env() -> dict[str, str]:
    path = [str(TESTS), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "VLMBENCH_DIST_TIMEOUT": "60"}


def accelerate_launch(processes: int, *command: str) -> list[str]:
    return [
        sys.executable,
        *("-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes)),
        *("--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"),
        *("--main_process_port", str(free_port())),
        *command,
    ]


def echo_launch(tmp_path: Path, out: Path, processes: int, delay: float, backend: str = "echo") -> list[str]:
    script = tmp_path / "echo_run.py"
    script.write_text(ECHO_RUN, encoding="utf-8")
    return accelerate_launch(processes, str(script), str(out), str(delay), backend)


def echo_run_root(out: Path) -> Path:
    return out / echo_config(out, synth={"n": 16}).run_id(name_fingerprint("echo-model").digest)


# --- sharding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_items", [0, 1, 7, 40])
@pytest.mark.parametrize("world", [1, 2, 3, 8])
def test_shards_are_disjoint_cover_every_item_and_follow_its_order(n_items: int, world: int) -> None:
    items = [f"item-{i}" for i in range(n_items)]
    shares = [shard(items, rank, world) for rank in range(world)]
    dealt = [item for share in shares for item in share]
    assert sorted(dealt) == sorted(items) and len(dealt) == len(set(dealt))
    for rank, share in enumerate(shares):
        assert share == [items[i] for i in range(rank, n_items, world)]  # round-robin, in item order
        assert shard(list(items), rank, world) == share  # deterministic: the same call, the same share


@pytest.mark.parametrize(("rank", "world"), [(2, 2), (-1, 2), (0, 0)])
def test_a_rank_outside_the_world_is_refused(rank: int, world: int) -> None:
    with pytest.raises(ValueError, match=f"rank {rank} of {world} processes"):
        shard([1, 2, 3], rank, world)


# --- the launcher -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "--num-processes", "2", "--tasks", "chartqa"],
        ["eval", "--num_processes=2", "--tasks", "chartqa"],
        ["eval", "--tasks", "chartqa", "--num-processes", "2"],
    ],
)
def test_each_rank_runs_the_command_without_num_processes(argv: list[str]) -> None:
    assert without_num_processes(argv) == ["eval", "--tasks", "chartqa"]
    command = launch_command(argv, 2, port=29999)
    assert command[1:3] == ["-m", "accelerate.commands.launch"]
    assert command[command.index("--num_processes") + 1] == "2"
    assert command[-5:] == ["-m", "vlmbench", "eval", "--tasks", "chartqa"]


def test_num_processes_inside_a_launched_run_may_only_repeat_its_count(monkeypatch) -> None:
    from vlmbench.errors import VlmbenchError

    assert [processes_to_launch(n) for n in (None, 1, 3)] == [0, 0, 3]
    with pytest.raises(VlmbenchError, match="at least 1"):
        processes_to_launch(0)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert processes_to_launch(2) == processes_to_launch(None) == 0
    with pytest.raises(VlmbenchError, match="--num-processes 3 inside a run launched as 2 processes"):
        processes_to_launch(3)


# --- two processes, one run -------------------------------------------------------------------------


def test_two_processes_on_the_tiny_model_write_the_one_process_record(
    tmp_path: Path, shared_data: Path
) -> None:
    model = str(tiny_model_path())
    options = ["--model", model, "--backend", "hf", "--tasks", "chartqa", "--max-new-tokens", "8"]
    options += ["--data-dir", str(shared_data), "--limit", "24", "--batch-size", "4"]
    two = subprocess.run(
        accelerate_launch(2, "-m", "vlmbench", "eval", *options, "--output-dir", str(tmp_path / "two")),
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    config = EvalConfig(
        model=model,
        backend="hf",
        tasks="chartqa",
        max_new_tokens=8,
        data_dir=shared_data,
        limit=24,
        batch_size=4,
        output_dir=tmp_path / "one",
    )
    one_root, one = evaluate(config)
    two_root = tmp_path / "two" / one_root.name  # the same run id
    parallel = json.loads((two_root / "run.json").read_text(encoding="utf-8"))
    assert parallel["config"]["num_processes"] == 2 and one["config"]["num_processes"] == 1
    assert parallel["run_id"] == one["run_id"] and parallel["config_id"] == one["config_id"]
    assert results_of(parallel) == results_of(one)  # scores, intervals, tokens, protocol hash
    rows, expected = rows_of(two_root, "chartqa"), rows_of(one_root, "chartqa")
    assert len(rows) == 24
    assert without_seconds(rows) == without_seconds(expected)  # sample for sample, in dataset order
    assert not (two_root / "parts").exists()  # merged, then gone


def test_num_processes_runs_the_same_command_as_ranks(tmp_path: Path) -> None:
    """The majority baseline answers what most of a task's items answer: every rank sees every item."""
    options = ["--model", "majority", "--backend", "baseline", "--tasks", ",".join(TASKS), "--n", "10"]
    options += ["--output-dir", str(tmp_path / "two")]
    done = subprocess.run(
        [sys.executable, "-m", "vlmbench", "eval", *options, "--num-processes", "2"],
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("run record:") == 1  # rank 0 speaks for the run
    config = EvalConfig(model="majority", tasks=",".join(TASKS), synth={"n": 10}, output_dir=tmp_path / "one")
    one_root, one = evaluate(config)
    parallel = json.loads((tmp_path / "two" / one_root.name / "run.json").read_text(encoding="utf-8"))
    assert parallel["config"]["num_processes"] == 2
    assert results_of(parallel) == results_of(one)
    for task in TASKS:
        assert without_seconds(rows_of(tmp_path / "two" / one_root.name, task)) == without_seconds(
            rows_of(one_root, task)
        )


# --- a rank that dies or fails ----------------------------------------------------------------------


def _wait_for_rows(path: Path, process: subprocess.Popen, at_least: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.read_bytes().count(b"\n") >= at_least:
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended before it was killed:\n{process.stderr.read().decode()[-3000:]}")
        time.sleep(0.005)
    process.kill()
    pytest.fail("the run wrote no rows in time")


def _kill_rank_one(tmp_path: Path, out: Path) -> dict[str, list[bytes]]:
    """Launch 2 ranks, SIGKILL rank 1 once it has written 2 rows; returns each task's part lines."""
    process = subprocess.Popen(echo_launch(tmp_path, out, 2, delay=0.2), env=env(), stderr=subprocess.PIPE)
    root = echo_run_root(out)
    _wait_for_rows(RunStore(root).part_path(TASKS[0], 1), process, at_least=2)
    os.kill(int((tmp_path / "pid-1").read_text()), signal.SIGKILL)
    assert process.wait(timeout=120) != 0  # the launcher stops rank 0 too: nobody waits forever
    process.stderr.close()
    store = RunStore(root)
    return {t: [line for p in store.part_paths(t) for line in p.read_bytes().splitlines()] for t in TASKS}


@pytest.mark.parametrize("rerun_processes", [1, 2])
def test_a_killed_rank_loses_nothing_and_a_rerun_reuses_its_rows(
    tmp_path: Path, rerun_processes: int
) -> None:
    out = tmp_path / "killed"
    left = _kill_rank_one(tmp_path, out)
    root = echo_run_root(out)
    assert json.loads((root / "run.json").read_text())["status"] == "running"
    done_at_kill = {task: len(RunStore(root).done_anywhere(task)) for task in TASKS}
    assert 2 <= done_at_kill[TASKS[0]] < 16 and done_at_kill[TASKS[1]] == 0, "the kill must land mid-task"

    if rerun_processes == 1:
        evaluate(echo_config(out, synth={"n": 16}, batch_size=2))
        assert len(EchoBackend.calls) == 32 - done_at_kill[TASKS[0]]  # finished rows are not redone
    else:
        again = subprocess.run(echo_launch(tmp_path, out, 2, delay=0.0), env=env(), capture_output=True)
        assert again.returncode == 0, again.stderr.decode()[-3000:]
    record = json.loads((root / "run.json").read_text())
    assert record["status"] == "done" and not (root / "parts").exists()
    whole_root, whole = evaluate(echo_config(tmp_path / "whole", synth={"n": 16}, batch_size=2))
    assert whole_root.name == root.name and results_of(record) == results_of(whole)
    for task in TASKS:
        rows = rows_of(root, task)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)) == 16  # none lost, none duplicated
        assert without_seconds(rows) == without_seconds(rows_of(whole_root, task))
        lines = set(root.joinpath("samples", f"{task}.jsonl").read_bytes().splitlines())
        assert all(line in lines for line in left[task])  # the killed run's rows, reused as written


def test_a_one_process_run_stopped_midway_is_finished_by_two(tmp_path: Path) -> None:
    out = tmp_path / "run"
    EchoBackend.interrupt_after = 5  # a Ctrl-C once 5 requests were answered
    with pytest.raises(RunInterrupted):
        evaluate(echo_config(out, synth={"n": 16}, batch_size=2))
    root = echo_run_root(out)
    before = root.joinpath("samples", f"{TASKS[0]}.jsonl").read_bytes()
    assert 0 < before.count(b"\n") < 16, "stopped mid-task"
    EchoBackend.interrupt_after = None
    again = subprocess.run(echo_launch(tmp_path, out, 2, delay=0.0), env=env(), capture_output=True)
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    whole_root, _ = evaluate(echo_config(tmp_path / "whole", synth={"n": 16}, batch_size=2))
    after = root.joinpath("samples", f"{TASKS[0]}.jsonl").read_bytes()
    assert after.startswith(before)  # the rows the first run wrote, kept as written
    for task in TASKS:
        assert without_seconds(rows_of(root, task)) == without_seconds(rows_of(whole_root, task))


def test_a_rank_that_fails_stops_every_rank_naming_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        echo_launch(tmp_path, out, 2, delay=0.0, backend="rank-one-fails"),
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    named = "RankFailed: task synth_geometry: rank 1: RuntimeError: rank 1 cannot start its task"
    assert named in done.stderr


# --- two processes with a judge ---------------------------------------------------------------------

# tests/fake_openai_server.py plays the model (always "I get [[answer=3]]") and the judge (it answers the
# `[[answer=X]]` of the response it is shown, so every MathVista item is judged, none read by rule).
JUDGED_TASK = "mathvista_testmini"
JUDGED_ITEMS = 40  # its local items


def judged_options(url: str, output_dir: Path) -> list[str]:
    options = ["--backend", "openai", "--model", "fake-vlm", "--tasks", JUDGED_TASK]
    options += ["--model-args", f"base_url={url},max_retries=0,backoff=0.0"]
    options += ["--judge", f"openai:fake-judge@{url}", "--output-dir", str(output_dir)]
    return options


def judged_eval(url: str, output_dir: Path, processes: int, cache: Path | None) -> None:
    """`vlmbench eval --judge ... --num-processes N` in a subprocess; `cache` is its own judge cache
    (None: no cache, so that every verdict it needs is asked of the server)."""
    command = [sys.executable, "-m", "vlmbench", "eval", *judged_options(url, output_dir)]
    command += ["--data-dir", str(shared_data_dir()), "--num-processes", str(processes)]
    cached = {"VLMBENCH_CACHE": str(cache)} if cache else {"VLMBENCH_JUDGE_CACHE": "0"}
    done = subprocess.run(command, env={**env(), **cached}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def requests_for(url: str, model: str) -> int:
    """How many chat requests for `model` (the served model or the judge) the fake server has had."""
    with urllib.request.urlopen(url.removesuffix("/v1") + "/requests") as reply:
        return sum(1 for r in json.loads(reply.read()) if r["body"].get("model") == model)


def judged_results(record: dict[str, Any]) -> dict[str, Any]:
    """The judged column of each task, less what names no result."""
    keep = ("label", "model", "n", "n_failed", "n_judged", "n_rule", "failures", "official", "protocol_hash")
    return {name: {k: task["judge"][k] for k in keep} for name, task in record["tasks"].items()}


@pytest.fixture(scope="module")
def judged_two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, int]]]:
    """One judged 2-process run, shared by the tests below: the fake server's URL, the run folder, and
    how many requests the server had for the model and for the judge once the run was done."""
    folder = tmp_path_factory.mktemp("judged-two")
    process, url = start_fake_openai(folder, "--answer", "I get [[answer=3]]", "--models", "fake-vlm")
    try:
        judged_eval(url, folder / "runs", 2, cache=folder / "cache")
        (root,) = (folder / "runs").iterdir()
        calls = {"model": requests_for(url, "fake-vlm"), "judge": requests_for(url, "fake-judge")}
        yield url, root, calls
    finally:
        stop(process)


def test_two_judged_processes_write_the_one_process_judged_record(
    judged_two: tuple[str, Path, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, two_root, _ = judged_two
    monkeypatch.setenv("VLMBENCH_CACHE", str(tmp_path / "cache"))  # a cold cache: the judge is asked
    config = EvalConfig(
        model="fake-vlm",
        backend="openai",
        model_args={"base_url": url, "max_retries": 0, "backoff": 0.0},
        tasks=JUDGED_TASK,
        data_dir=shared_data_dir(),
        output_dir=tmp_path / "one",
        judge=f"openai:fake-judge@{url}",
    )
    one_root, one = evaluate(config)
    parallel = json.loads((two_root / "run.json").read_text(encoding="utf-8"))
    assert two_root.name == one_root.name and parallel["run_id"] == one["run_id"]
    assert parallel["config"]["num_processes"] == 2 and parallel["status"] == one["status"] == "done"
    judged = judged_results(parallel)[JUDGED_TASK]
    assert (judged["n"], judged["n_failed"], judged["n_judged"]) == (JUDGED_ITEMS, 0, JUDGED_ITEMS)
    assert judged_results(parallel) == judged_results(one)  # the judged column of every sample, not a share
    assert results_of(parallel) == results_of(one)  # the rule-based column beside it
    rows, expected = rows_of(two_root, JUDGED_TASK), rows_of(one_root, JUDGED_TASK)
    assert len(rows) == JUDGED_ITEMS  # one row per sample: no second, re-judged version of any
    assert all(row["judge"]["via"] == "judge" and row["judge"]["extracted"] == "3" for row in rows)
    assert without_seconds(rows) == without_seconds(expected)  # verdicts included, in dataset order
    assert not (two_root / "parts").exists()


def test_two_judged_processes_ask_the_judge_once_per_sample(
    judged_two: tuple[str, Path, dict[str, int]],
) -> None:
    """Each rank judges the rows it generates; rank 0 finds nothing left to judge after the merge."""
    _, _, calls = judged_two
    assert calls == {"model": JUDGED_ITEMS, "judge": JUDGED_ITEMS}


@pytest.mark.parametrize("rerun_processes", [1, 2])
def test_a_rerun_of_a_finished_judged_run_asks_the_judge_nothing(
    judged_two: tuple[str, Path, dict[str, int]], tmp_path: Path, rerun_processes: int
) -> None:
    """Rerun without a judge cache, so that any verdict the rerun wanted would reach the server."""
    url, finished, _ = judged_two
    root = tmp_path / "runs" / finished.name
    shutil.copytree(finished, root)
    samples = root.joinpath("samples", f"{JUDGED_TASK}.jsonl").read_bytes()
    before = {"model": requests_for(url, "fake-vlm"), "judge": requests_for(url, "fake-judge")}
    judged_eval(url, tmp_path / "runs", rerun_processes, cache=None)
    after = {"model": requests_for(url, "fake-vlm"), "judge": requests_for(url, "fake-judge")}
    assert after == before  # nothing generated, nothing judged
    assert root.joinpath("samples", f"{JUDGED_TASK}.jsonl").read_bytes() == samples  # no row rewritten
    record = json.loads((root / "run.json").read_text(encoding="utf-8"))
    first = json.loads((finished / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "done" and record["config"]["num_processes"] == rerun_processes
    assert judged_results(record) == judged_results(first) and results_of(record) == results_of(first)
