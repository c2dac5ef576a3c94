"""`vlmbench.runner.evaluate`: records as in DESIGN.md, resume after kill -9, results independent of the
batch size, failing samples recorded and retried, changed protocols refused, chance-level baselines.

The test backends below live in this module so that a run can load them by name, in this process or
in a subprocess (`"test_runner:EchoBackend"` with tests/ on the path).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from realdata import shared_data_dir

from vlmbench import models
from vlmbench.data import load_samples
from vlmbench.errors import VlmbenchError
from vlmbench.models import GenerationParams, Request, Response
from vlmbench.prompts import render_prompt
from vlmbench.records.fingerprint import baseline_fingerprint, local_fingerprint, name_fingerprint
from vlmbench.records.protocol import protocol_hash
from vlmbench.records.record import validate_record
from vlmbench.records.rundir import RunLocked, RunStore, sample_from_row
from vlmbench.registry import builtin_task_dir, get_task
from vlmbench.runner import EvalConfig, RunInterrupted, evaluate, pass_at_k, summarize
from vlmbench.schema import Sample

TESTS = Path(__file__).resolve().parent
LONG_OUTPUT = "Let me think about this step by step. " * 150  # 5700 characters, cut at the token limit


def _kind(sample_id: str) -> int:
    return hashlib.sha256(sample_id.encode()).digest()[0] % 4


class EchoBackend:
    """A stand-in model, deterministic per sample id: it answers the gold answer (the letter for
    options), says "I cannot tell." for a quarter of the ids, and rambles until the token limit for
    another quarter. Every request it receives is counted in `attempts`, every one it answers in
    `calls`; `delay` slows each request; a batch holding `fail_id` raises; model "short-batches"
    returns one response too few per batch; `fail_all` fails every request; `interrupt_after` raises
    KeyboardInterrupt (a Ctrl-C) once that many requests were answered."""

    name = "echo"
    calls: ClassVar[list[str]] = []
    attempts: ClassVar[list[str]] = []
    delay: ClassVar[float] = 0.0
    fail_id: ClassVar[str | None] = None
    fail_all: ClassVar[bool] = False
    interrupt_after: ClassVar[int | None] = None

    def __init__(self, model: str, seed: int = 0, **args: Any) -> None:
        self.model = model
        self.seed = seed

    def start_task(self, task: str, samples: Sequence[Sample]) -> None:
        pass

    @staticmethod
    def text_for(sample: Sample) -> tuple[str, str]:
        kind = _kind(sample.id)
        if kind == 0:
            return "I cannot tell.", "stop"
        if kind == 1:
            return LONG_OUTPUT, "length"
        return f"The answer is {sample.answer_letter or sample.answer}", "stop"

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        type(self).attempts.extend(r.id for r in requests)
        if self.fail_id is not None and any(r.id == self.fail_id for r in requests):
            raise RuntimeError(f"cannot decode the image of {self.fail_id}")
        if self.fail_all:
            return [Response.failed("connection error to http://127.0.0.1:9/v1: refused") for _ in requests]
        if self.interrupt_after is not None and len(type(self).calls) >= self.interrupt_after:
            raise KeyboardInterrupt
        responses = []
        for request in requests:
            start = time.perf_counter()
            time.sleep(self.delay)
            text, finish = self.text_for(request.sample)
            type(self).calls.append(request.id)
            responses.append(
                Response(
                    text,
                    n_prompt_tokens=len(request.prompt.split()),
                    n_output_tokens=len(text.split()),
                    seconds=time.perf_counter() - start,
                    finish_reason=finish,
                )
            )
        if self.model == "short-batches" and len(responses) > 1:
            return responses[:-1]
        return responses

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model}


def register_echo() -> None:
    models.BACKENDS["echo"] = ("test_runner:EchoBackend", "")


@pytest.fixture(autouse=True)
def echo_backend(monkeypatch: pytest.MonkeyPatch) -> type[EchoBackend]:
    monkeypatch.setitem(models.BACKENDS, "echo", ("test_runner:EchoBackend", ""))
    monkeypatch.setattr(EchoBackend, "calls", [])
    monkeypatch.setattr(EchoBackend, "attempts", [])
    monkeypatch.setattr(EchoBackend, "delay", 0.0)
    monkeypatch.setattr(EchoBackend, "fail_id", None)
    monkeypatch.setattr(EchoBackend, "fail_all", False)
    monkeypatch.setattr(EchoBackend, "interrupt_after", None)
    return EchoBackend


def echo_config(output_dir: Path, **changes: Any) -> EvalConfig:
    options: dict[str, Any] = {
        "model": "echo-model",
        "backend": "echo",
        "tasks": "synth_geometry,synth_chart",
        "synth": {"n": 10},
        "batch_size": 4,
        "output_dir": output_dir,
    }
    return EvalConfig(**{**options, **changes})


def rows_of(root: Path, task: str) -> list[dict[str, Any]]:
    text = (root / "samples" / f"{task}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def without_seconds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def results_of(record: dict[str, Any]) -> dict[str, Any]:
    """What a run found, per task: everything but timings and bookkeeping."""
    keep = (
        "n",
        "n_failed",
        "metric",
        "metrics",
        "tokens_in",
        "tokens_out",
        "truncation_rate",
        "protocol_hash",
    )
    return {name: {k: task[k] for k in keep} for name, task in record["tasks"].items()}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


SAMPLE_FIELDS = {
    "id",
    "index",
    "sample",
    "metrics",
    "prompt",
    "output",
    "extracted",
    "status",
    "method",
    "official_extracted",
    "gold",
    "official",
    "robust",
    "extra",
    "finish_reason",
    "truncated",
    "n_prompt_tokens",
    "n_output_tokens",
    "seconds",
    "error",
}


# --- the record -------------------------------------------------------------------------------------


def test_a_baseline_run_writes_the_record_of_design_md(tmp_path: Path) -> None:
    data = shared_data_dir()
    config = EvalConfig(
        model="random",
        backend="baseline",
        tasks="synth_geometry,chartqa,scienceqa_img",
        data_dir=data,
        synth={"n": 12},
        batch_size=5,
        output_dir=tmp_path,
    )
    seen: list[tuple[str, int, int]] = []
    root, record = evaluate(config, progress=lambda task, done, total, live: seen.append((task, done, total)))

    fingerprint = baseline_fingerprint("random", 0)
    assert root == tmp_path / config.run_id(fingerprint.digest) == tmp_path / record["run_id"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [record["run_id"]]  # one run folder
    assert json.loads((root / "run.json").read_text(encoding="utf-8")) == record
    assert record["status"] == "done" and record["failure"] is None
    assert record["warnings"] == ["--n applies to procedural tasks only: ignored by chartqa, scienceqa_img"]
    assert record["record_version"] == "2" and record["config_id"] == config.config_id()
    assert record["model"] == {
        "name": "random",
        "backend": "baseline",
        "args": {},
        "fingerprint": fingerprint.model_dump(mode="json"),
        "n_params": None,
        "backend_info": {"backend": "baseline", "model": "random", "seed": 0},
    }
    assert validate_record(record).model.fingerprint.kind == "baseline"
    assert record["config"]["seed"] == 0 and record["config"]["batch_size"] == 5
    assert record["packages"]["vlmbench"] == record["vlmbench_version"]
    assert record["git"] is None or len(record["git"]["commit"]) == 40
    assert {"platform", "machine", "cpu_count", "python"} <= set(record["hardware"])
    assert record["wall_seconds"] >= 0 and record["created"] <= record["finished"]
    assert list(record["tasks"]) == ["synth_geometry", "chartqa", "scienceqa_img"]

    for name, task in record["tasks"].items():
        spec = get_task(name)
        samples = load_samples(spec, data, synth={"n": 12})
        assert task["status"] == "done"
        assert task["protocol"]["task"] == name and task["protocol"]["task_version"] == spec.version
        assert task["protocol"]["generation"] == {
            "max_new_tokens": spec.generation.max_new_tokens,
            "temperature": 0.0,
            "top_p": 1.0,
            "seed": 0,
        }
        assert task["protocol_hash"] == protocol_hash(task["protocol"])
        assert task["n"] == task["n_items"] == task["protocol"]["n"] == len(samples)
        assert task["n_failed"] == 0 and task["failures"] == {}
        metrics = task["metrics"]
        for key in ("official", "robust"):
            low, high = metrics[f"{key}_ci95"]
            assert 0.0 <= low <= metrics[key] <= high <= 1.0
        assert task["tokens_out"] == len(samples) and task["tokens_in"] == 0  # the baseline's counts
        reports = [(done, total) for task_name, done, total in seen if task_name == name]
        assert reports == sorted(reports) and reports[-1] == (len(samples), len(samples))

        rows = rows_of(root, name)
        assert [r["id"] for r in rows] == [s.id for s in samples]
        for row, sample in zip(rows, samples, strict=True):
            assert set(row) == SAMPLE_FIELDS
            assert row["prompt"] == render_prompt(spec, sample, "direct")
            assert row["gold"] == sample.answer
            assert row["finish_reason"] == "stop" and row["truncated"] is False and row["error"] is None
            assert row["n_output_tokens"] == 1 and row["seconds"] >= 0
            rebuilt = sample_from_row(row)  # the row alone is enough to score it again
            for key in ("question", "answer", "answer_type", "choices", "answer_index", "meta"):
                assert getattr(rebuilt, key) == getattr(sample, key), key
        assert sum(r["official"] for r in rows) / len(rows) == metrics["official"]


def test_sample_rows_keep_the_full_raw_output_and_flag_truncation(tmp_path: Path) -> None:
    root, record = evaluate(echo_config(tmp_path, tasks="synth_geometry", synth={"n": 16}))
    rows = rows_of(root, "synth_geometry")
    samples = {s.id: s for s in load_samples(get_task("synth_geometry"), synth={"n": 16})}
    kinds = Counter(_kind(r["id"]) for r in rows)
    assert kinds[0] and kinds[1] and kinds[2] + kinds[3], "the fixture must exercise every kind of answer"
    for row in rows:
        sample = samples[row["id"]]
        expected, finish = EchoBackend.text_for(sample)
        assert row["output"] == expected  # never shortened, even at 5700 characters
        assert row["finish_reason"] == finish and row["truncated"] is (finish == "length")
        assert row["n_prompt_tokens"] == len(row["prompt"].split()) > 0
        assert row["n_output_tokens"] == len(expected.split())
        if _kind(row["id"]) >= 2:
            assert (row["status"], row["extracted"], row["official"]) == ("ok", sample.answer_letter, 1.0)
        else:
            assert row["official"] == 0.0 and row["status"] != "ok"
    task = record["tasks"]["synth_geometry"]
    assert task["tokens_in"] == sum(r["n_prompt_tokens"] for r in rows)
    assert task["tokens_out"] == sum(r["n_output_tokens"] for r in rows)
    assert task["truncation_rate"] == kinds[1] / 16
    assert task["metrics"]["official"] == (kinds[2] + kinds[3]) / 16


# --- resume -----------------------------------------------------------------------------------------


def test_the_same_command_twice_lands_in_the_same_run_and_recomputes_nothing(tmp_path: Path) -> None:
    root, first = evaluate(echo_config(tmp_path))
    assert len(EchoBackend.calls) == 20
    samples_before = {t: (root / "samples" / f"{t}.jsonl").read_bytes() for t in first["tasks"]}

    again, second = evaluate(echo_config(tmp_path))
    assert again == root and [p.name for p in tmp_path.iterdir()] == [root.name]
    assert len(EchoBackend.calls) == 20  # not one request more
    assert {t: (root / "samples" / f"{t}.jsonl").read_bytes() for t in first["tasks"]} == samples_before
    assert results_of(second) == results_of(first)
    assert second["created"] == first["created"] and second["status"] == "done"


KILLED_RUN = """
import sys
from pathlib import Path
import test_runner
from vlmbench.runner import evaluate
test_runner.register_echo()
test_runner.EchoBackend.delay = 0.05
evaluate(test_runner.echo_config(Path(sys.argv[1]), synth={"n": 16}, batch_size=2))
"""


def _wait_for_rows(path: Path, process: subprocess.Popen, at_least: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.read_bytes().count(b"\n") >= at_least:
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended before it was killed:\n{process.stderr.read().decode()}")
        time.sleep(0.005)
    process.kill()
    pytest.fail("the run wrote no rows in time")


@pytest.mark.parametrize("killed_in", ["synth_geometry", "synth_chart"])
def test_kill_9_mid_task_then_rerun_equals_an_uninterrupted_run(tmp_path: Path, killed_in: str) -> None:
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    config = echo_config(killed, synth={"n": 16}, batch_size=2)
    path = [str(TESTS), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(killed)], env=env, stderr=subprocess.PIPE
    )
    run_id = config.run_id(name_fingerprint("echo-model").digest)
    samples_file = killed / run_id / "samples" / f"{killed_in}.jsonl"
    _wait_for_rows(samples_file, process, at_least=3)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.stderr.close()

    root = killed / run_id
    interrupted = RunStore(root).read_run()
    assert interrupted is not None and interrupted["status"] == "running"
    done_at_kill = sum(len(RunStore(root).finished(t)) for t in ("synth_geometry", "synth_chart"))
    assert 3 <= done_at_kill < 32, "the kill must land mid-run"
    with samples_file.open("ab") as handle:  # and, as a kill inside write() would, tear the last line
        handle.write(b'{"id": "geometry-d1-s0-0000')

    resumed_root, resumed = evaluate(config)
    assert resumed_root == root and sorted(p.name for p in killed.iterdir()) == [root.name]
    assert len(EchoBackend.calls) == 32 - done_at_kill  # finished samples are not recomputed
    assert len(set(EchoBackend.calls)) == len(EchoBackend.calls)

    whole_root, uninterrupted = evaluate(echo_config(whole, synth={"n": 16}, batch_size=2))
    assert whole_root.name == root.name
    assert results_of(resumed) == results_of(uninterrupted)
    for task in ("synth_geometry", "synth_chart"):
        resumed_rows, whole_rows = rows_of(root, task), rows_of(whole_root, task)
        ids = [r["id"] for r in resumed_rows]
        assert len(ids) == len(set(ids)) == 16  # none duplicated, none lost
        assert ids == [r["id"] for r in whole_rows]  # in dataset order
        assert without_seconds(resumed_rows) == without_seconds(whole_rows)


# --- identity: the model, not only its name -----------------------------------------------------------


def checkpoint(folder: Path, weights: bytes = b"weights v1") -> Path:
    """A stand-in checkpoint folder: the echo backend never loads it, but its files are fingerprinted."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "config.json").write_text('{"model_type": "echo"}', encoding="utf-8")
    return folder


def test_a_changed_checkpoint_starts_a_new_run_and_the_old_samples_stay(tmp_path: Path) -> None:
    model = checkpoint(tmp_path / "ckpt")
    config = echo_config(tmp_path / "runs", model=str(model), tasks="synth_geometry", synth={"n": 4})
    first_root, first = evaluate(config)
    before = snapshot(first_root)
    (model / "model.safetensors").write_bytes(b"weights v2")  # retrained in place: same folder, same name
    notes: list[str] = []
    EchoBackend.calls.clear()

    second_root, second = evaluate(config, notify=notes.append)

    assert second_root != first_root and len(EchoBackend.calls) == 4  # evaluated again, nothing reused
    old, new = first["model"]["fingerprint"]["digest"], second["model"]["fingerprint"]["digest"]
    assert old != new == local_fingerprint(model).digest
    assert snapshot(first_root) == before  # the old run is untouched
    assert notes == [f"model changed since run {first['run_id']} (fingerprint {old[:12]} -> {new[:12]}): "
                     f"starting new run {second['run_id']}"]  # fmt: skip
    assert first["config_id"] == second["config_id"]  # the same command


def test_resume_on_a_changed_model_is_refused_naming_both_fingerprints(tmp_path: Path) -> None:
    model = checkpoint(tmp_path / "ckpt")
    config = echo_config(tmp_path / "runs", model=str(model), tasks="synth_geometry", synth={"n": 4})
    _, first = evaluate(config)
    (model / "config.json").write_text('{"model_type": "echo", "layers": 3}', encoding="utf-8")
    before = snapshot(tmp_path / "runs")
    new = local_fingerprint(model).digest
    with pytest.raises(VlmbenchError, match="--resume refused") as refused:
        evaluate(dataclasses.replace(config, resume=True))
    assert first["model"]["fingerprint"]["digest"] in str(refused.value) and new in str(refused.value)
    assert snapshot(tmp_path / "runs") == before


def test_resume_with_nothing_to_resume_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VlmbenchError, match="no run of this command"):
        evaluate(echo_config(tmp_path, resume=True))
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_a_resumed_run_announces_how_far_it_got(tmp_path: Path) -> None:
    root, _ = evaluate(echo_config(tmp_path))
    chart = root / "samples" / "synth_chart.jsonl"
    chart.write_text("".join(chart.read_text().splitlines(keepends=True)[:3]))
    notes: list[str] = []
    _, record = evaluate(echo_config(tmp_path, resume=True), notify=notes.append)
    assert notes == [f"resuming run {root.name}: 13/20 samples done"] and record["status"] == "done"


# --- statuses ---------------------------------------------------------------------------------------


def test_a_run_where_every_sample_failed_is_failed_and_has_no_score(tmp_path: Path) -> None:
    EchoBackend.fail_all = True
    _, record = evaluate(echo_config(tmp_path))
    assert record["status"] == "failed"
    assert record["failure"] == "all 20 samples failed (connection error: 20)"
    for task in record["tasks"].values():
        assert task["status"] == "failed" and task["metrics"] is None and task["quality"] is None
        assert task["n_failed"] == task["n"] == 10 and task["failures"] == {"connection error": 10}


def test_a_rerun_of_a_failed_run_retries_every_sample_and_can_finish(tmp_path: Path) -> None:
    EchoBackend.fail_all = True
    evaluate(echo_config(tmp_path))
    EchoBackend.fail_all = False
    EchoBackend.calls.clear()
    _, record = evaluate(echo_config(tmp_path))
    assert len(EchoBackend.calls) == 20 and record["status"] == "done" and record["failure"] is None


def test_ctrl_c_records_where_the_run_stopped_and_a_rerun_resumes(tmp_path: Path) -> None:
    EchoBackend.interrupt_after = 12  # inside the second task (10 items each)
    with pytest.raises(RunInterrupted) as stopped:
        evaluate(echo_config(tmp_path, batch_size=2))
    record = RunStore(stopped.value.run_dir).read_run()
    assert record is not None and record["status"] == "interrupted"
    assert stopped.value.where == "in task synth_chart at 2/10 samples"
    assert record["failure"] == "interrupted in task synth_chart at 2/10 samples"
    assert record["tasks"]["synth_geometry"]["status"] == "done"
    assert record["tasks"]["synth_chart"]["status"] == "running"
    EchoBackend.interrupt_after = None
    EchoBackend.calls.clear()
    _, resumed = evaluate(echo_config(tmp_path, batch_size=2))
    assert len(EchoBackend.calls) == 8 and resumed["status"] == "done"


# --- options a task ignores -------------------------------------------------------------------------


def test_an_option_no_selected_task_reads_is_an_error(tmp_path: Path) -> None:
    config = echo_config(tmp_path, tasks="chartqa", data_dir=shared_data_dir(), synth={"n": 5})
    with pytest.raises(VlmbenchError, match="--n applies to procedural tasks only; none of chartqa is"):
        evaluate(config)


def test_an_option_some_tasks_ignore_is_warned_and_recorded(tmp_path: Path) -> None:
    config = echo_config(
        tmp_path, tasks="synth_geometry,chartqa", data_dir=shared_data_dir(), synth={"n": 3, "difficulty": 2}
    )
    notes: list[str] = []
    _, record = evaluate(config, notify=notes.append)
    expected = [
        "--difficulty applies to procedural tasks only: ignored by chartqa",
        "--n applies to procedural tasks only: ignored by chartqa",
    ]
    assert record["warnings"] == expected and notes == [f"warning: {w}" for w in expected]


def test_an_empty_task_selection_is_an_error(tmp_path: Path) -> None:
    for selection in ("", " , "):
        with pytest.raises(VlmbenchError, match="no task selected"):
            evaluate(echo_config(tmp_path, tasks=selection))
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


# --- two processes, one run folder ------------------------------------------------------------------


def test_a_second_eval_of_a_run_being_written_is_refused_naming_the_holder(tmp_path: Path) -> None:
    config = echo_config(tmp_path, synth={"n": 16}, batch_size=2)
    run_id = config.run_id(name_fingerprint("echo-model").digest)
    path = [str(TESTS), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    first = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(tmp_path)], env=env, stderr=subprocess.PIPE
    )
    _wait_for_rows(tmp_path / run_id / "samples" / "synth_geometry.jsonl", first, at_least=1)
    with pytest.raises(RunLocked, match=rf"being written by process {first.pid} \(since "):
        evaluate(config)
    assert first.wait(timeout=120) == 0
    first.stderr.close()
    assert EchoBackend.calls == []  # the refused one generated nothing
    _, record = evaluate(config)  # once the holder is done, the same command reuses its work
    assert EchoBackend.calls == [] and record["status"] == "done"
    for task in ("synth_geometry", "synth_chart"):
        ids = [r["id"] for r in rows_of(tmp_path / run_id, task)]
        assert len(ids) == len(set(ids)) == 16  # no sample done twice
    assert (tmp_path / run_id / ".lock").read_text() == ""  # released: nobody holds it now


def test_each_task_summary_records_the_digest_of_its_samples_file(tmp_path: Path) -> None:
    root, record = evaluate(echo_config(tmp_path))
    for task, result in record["tasks"].items():
        data = (root / "samples" / f"{task}.jsonl").read_bytes()
        assert result["samples_sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("model", ["..", ".", ".hidden", "a/../..", "...", "//"])
def test_a_model_name_never_makes_a_hidden_or_escaping_run_folder(model: str) -> None:
    slug = EvalConfig(model=model, backend="echo").run_slug()
    assert not slug.startswith(".") and "/" not in slug and slug.endswith("-echo")


# --- batching ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "model"), [("baseline", "random"), ("echo", "echo-model"), ("echo", "short-batches")]
)
def test_batch_size_does_not_change_results(tmp_path: Path, backend: str, model: str) -> None:
    """'short-batches' returns one response too few per batch: the runner then asks one by one."""
    tasks = "synth_geometry,synth_scene,synth_table_math"
    common = {"backend": backend, "model": model, "tasks": tasks, "synth": {"n": 9}}
    one_root, one = evaluate(echo_config(tmp_path / "b1", batch_size=1, **common))
    four_root, four = evaluate(echo_config(tmp_path / "b4", batch_size=4, **common))
    assert one_root.name == four_root.name  # the batch size does not name the run
    assert results_of(one) == results_of(four)
    for task in tasks.split(","):
        assert without_seconds(rows_of(one_root, task)) == without_seconds(rows_of(four_root, task))
        assert one["tasks"][task]["n_failed"] == 0


def test_a_backend_that_prefetches_is_handed_each_next_batch_before_the_current_one_generates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hf backend decodes the next batch's images while this one generates: the runner hands every
    batch but the first over one batch early, and the answers are the run's answers all the same."""
    events: list[tuple[str, int]] = []
    real = EchoBackend.generate

    def generate(self: EchoBackend, requests: Sequence[Request]) -> list[Response]:
        events.append(("generate", len(requests)))
        return real(self, requests)

    monkeypatch.setattr(EchoBackend, "generate", generate)
    monkeypatch.setattr(
        EchoBackend,
        "prefetch",
        lambda self, requests: events.append(("prefetch", len(requests))),
        raising=False,
    )
    evaluate(echo_config(tmp_path, synth={"n": 10}, batch_size=4, tasks="synth_chart"))
    assert events == [("prefetch", 4), ("generate", 4), ("prefetch", 2), ("generate", 4), ("generate", 2)]


def test_when_images_are_decoded_does_not_name_the_run() -> None:
    plain = EvalConfig(model="m", backend="hf")
    assert (
        EvalConfig(model="m", backend="hf", model_args={"prefetch": "off"}).config_id() == plain.config_id()
    )


def test_rows_are_synced_once_per_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kill loses at most the batch in flight: each batch is appended and fsynced as one."""
    batches: list[tuple[str, int]] = []
    real = RunStore.append_batch

    def append_batch(self: RunStore, task: str, rows: Sequence[dict[str, Any]], **where: Any) -> None:
        batches.append((task, len(rows)))
        real(self, task, rows, **where)

    monkeypatch.setattr(RunStore, "append_batch", append_batch)
    root, _ = evaluate(echo_config(tmp_path, synth={"n": 10}, batch_size=4))
    assert batches == [(task, n) for task in ("synth_geometry", "synth_chart") for n in (4, 4, 2)]
    assert len(rows_of(root, "synth_chart")) == 10 and not (root / "parts").exists()


# --- failures ---------------------------------------------------------------------------------------


def test_a_sample_that_fails_mid_batch_is_recorded_and_retried_on_rerun(tmp_path: Path) -> None:
    config = echo_config(tmp_path / "run", tasks="synth_geometry", synth={"n": 10}, batch_size=4)
    ids = [s.id for s in load_samples(get_task("synth_geometry"), synth={"n": 10})]
    clean_root, clean = evaluate(echo_config(tmp_path / "clean", tasks="synth_geometry", synth={"n": 10}))
    EchoBackend.calls.clear()
    EchoBackend.fail_id = ids[5]  # inside the second batch

    root, record = evaluate(config)
    rows = {r["id"]: r for r in rows_of(root, "synth_geometry")}
    failed = rows[ids[5]]
    assert failed["error"] == f"RuntimeError: cannot decode the image of {ids[5]}"
    assert (failed["finish_reason"], failed["output"], failed["official"]) == ("error", "", 0.0)
    assert (failed["status"], failed["method"]) == ("no_answer", "generation_failed")
    # the failing batch was retried one request at a time, so its other samples were answered
    assert Counter(EchoBackend.calls) == Counter(i for i in ids if i != ids[5])
    expected = {r["id"]: r for r in without_seconds(rows_of(clean_root, "synth_geometry"))}
    others = [i for i in ids if i != ids[5]]
    assert {i: without_seconds([rows[i]])[0] for i in others} == {i: expected[i] for i in others}
    task = record["tasks"]["synth_geometry"]
    assert (record["status"], task["status"], task["n"], task["n_failed"]) == ("partial", "partial", 10, 1)
    assert task["failures"] == {"RuntimeError": 1}
    assert task["metrics"]["official"] == sum(r["official"] for r in rows.values()) / 10  # failed = wrong

    EchoBackend.calls.clear()
    EchoBackend.fail_id = None  # the backend works now
    root, record = evaluate(config)
    assert EchoBackend.calls == [ids[5]]  # only the failed sample runs again
    rerun_ids = [r["id"] for r in rows_of(root, "synth_geometry")]
    assert sorted(rerun_ids) == sorted(ids) and len(rerun_ids) == len(set(rerun_ids))
    assert record["tasks"]["synth_geometry"]["n_failed"] == 0 and record["status"] == "done"
    assert results_of(record) == results_of(clean)


def test_a_request_failing_alone_is_not_sent_twice(tmp_path: Path) -> None:
    ids = [s.id for s in load_samples(get_task("synth_geometry"), synth={"n": 4})]
    EchoBackend.fail_id = ids[1]
    root, record = evaluate(echo_config(tmp_path, tasks="synth_geometry", synth={"n": 4}, batch_size=1))
    assert EchoBackend.calls == [ids[0], ids[2], ids[3]]
    assert EchoBackend.attempts == ids  # the failing one was tried once: alone, a retry is the same call
    assert [r["id"] for r in rows_of(root, "synth_geometry") if r["error"]] == [ids[1]]
    assert record["tasks"]["synth_geometry"]["n_failed"] == 1


def test_the_summary_of_an_unfinished_task_counts_its_finished_rows(tmp_path: Path) -> None:
    root, _ = evaluate(echo_config(tmp_path, tasks="synth_scene", synth={"n": 8}))
    spec = get_task("synth_scene")
    samples = load_samples(spec, synth={"n": 8})
    rows = {r["id"]: r for r in rows_of(root, "synth_scene")[:3]}
    partial = summarize(spec, samples, rows)
    assert partial["n"] == 3
    assert partial["metrics"]["official"] == sum(r["official"] for r in rows.values()) / 3
    assert summarize(spec, samples, {r["id"]: r for r in rows_of(root, "synth_scene")})["n"] == 8


# --- protocols --------------------------------------------------------------------------------------


def _record_another_protocol(root: Path, task: str) -> None:
    """Make the record say that `task` ran under another prompt (a consistent record, hash included)."""
    record = json.loads((root / "run.json").read_text(encoding="utf-8"))
    entry = record["tasks"][task]
    entry["protocol"]["prompt_template"] += " (an older wording)"
    entry["protocol_hash"] = protocol_hash(entry["protocol"])
    RunStore(root).write_run(record)


def test_a_run_under_another_protocol_is_refused_and_the_old_records_stay(tmp_path: Path) -> None:
    root, _ = evaluate(echo_config(tmp_path, tasks="synth_geometry", synth={"n": 6}))
    _record_another_protocol(root, "synth_geometry")
    before = snapshot(tmp_path)
    EchoBackend.calls.clear()
    with pytest.raises(VlmbenchError, match="another protocol"):
        evaluate(echo_config(tmp_path, tasks="synth_geometry", synth={"n": 6}))
    assert snapshot(tmp_path) == before and EchoBackend.calls == []


def test_a_new_task_version_is_refused_in_the_old_run(tmp_path: Path, monkeypatch) -> None:
    """A user's task file bumped to a new version between two runs of the same command."""
    folder = tmp_path / "tasks"
    folder.mkdir()
    text = (builtin_task_dir() / "synth_geometry.yaml").read_text(encoding="utf-8")
    text = text.replace("name: synth_geometry", "name: my_geometry")
    (folder / "my_geometry.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("VLMBENCH_TASKS_PATH", str(folder))
    config = echo_config(tmp_path / "runs", tasks="my_geometry", synth={"n": 6})
    evaluate(config)
    before = snapshot(tmp_path / "runs")
    assert 'version: "1.0"' in text
    (folder / "my_geometry.yaml").write_text(
        text.replace('version: "1.0"', 'version: "1.1"'), encoding="utf-8"
    )
    with pytest.raises(VlmbenchError, match=r"'my_geometry' was run under another protocol"):
        evaluate(config)
    assert snapshot(tmp_path / "runs") == before


def test_a_changed_protocol_in_a_later_task_is_refused_before_any_task_runs(tmp_path: Path) -> None:
    root, _ = evaluate(echo_config(tmp_path))
    geometry = root / "samples" / "synth_geometry.jsonl"
    geometry.write_text("".join(geometry.read_text().splitlines(keepends=True)[:2]))  # unfinished
    _record_another_protocol(root, "synth_chart")
    before = snapshot(tmp_path)
    EchoBackend.calls.clear()
    with pytest.raises(VlmbenchError, match="'synth_chart' was run under another protocol"):
        evaluate(echo_config(tmp_path))
    assert EchoBackend.calls == [] and snapshot(tmp_path) == before


# --- baselines --------------------------------------------------------------------------------------


def test_the_random_baseline_is_at_chance_level(tmp_path: Path) -> None:
    """synth_geometry has four options: 25% expected; over 200 items the standard error is 3.1 points,
    so [15%, 35%] (about +-3.3 standard errors, 99.9% of seeds) is the band."""
    config = EvalConfig(model="random", tasks="synth_geometry", synth={"n": 200}, output_dir=tmp_path)
    root, record = evaluate(config)
    accuracy = record["tasks"]["synth_geometry"]["metrics"]["official"]
    assert 0.15 <= accuracy <= 0.35, accuracy
    outputs = Counter(r["output"] for r in rows_of(root, "synth_geometry"))
    assert set(outputs) == set("ABCD") and min(outputs.values()) >= 30  # every letter, roughly uniformly


def test_first_choice_and_majority_baselines(tmp_path: Path) -> None:
    tasks = "synth_geometry,synth_chart"
    first_root, first = evaluate(
        EvalConfig(model="first-choice", tasks=tasks, synth={"n": 24}, output_dir=tmp_path)
    )
    major_root, _ = evaluate(EvalConfig(model="majority", tasks=tasks, synth={"n": 24}, output_dir=tmp_path))
    assert first_root != major_root

    geometry = load_samples(get_task("synth_geometry"), synth={"n": 24})
    first_rows = rows_of(first_root, "synth_geometry")
    assert {r["output"] for r in first_rows} == {"A"}
    share_a = sum(s.answer_letter == "A" for s in geometry) / 24
    assert first["tasks"]["synth_geometry"]["metrics"]["official"] == share_a

    letters = Counter(s.answer_letter for s in geometry)
    top_letter = min(letters, key=lambda a: (-letters[a], a))
    assert {r["output"] for r in rows_of(major_root, "synth_geometry")} == {top_letter}

    chart = load_samples(get_task("synth_chart"), synth={"n": 24})
    answers = Counter(s.answer for s in chart)
    top_answer = min(answers, key=lambda a: (-answers[a], a))
    assert {r["output"] for r in rows_of(major_root, "synth_chart")} == {top_answer}


# --- bad input --------------------------------------------------------------------------------------


def test_an_unknown_backend_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VlmbenchError, match=r"unknown backend 'nope'; known: .*baseline"):
        evaluate(EvalConfig(backend="nope", output_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_backend_whose_extra_is_missing_names_the_install_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(models.BACKENDS, "needs-extra", ("vlmbench_no_such_module:Backend", "hf"))
    with pytest.raises(VlmbenchError, match=r"needs vlmbench_no_such_module.*pip install 'vlmbench\[hf\]'"):
        evaluate(EvalConfig(backend="needs-extra", model="m", output_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("batch_size", [0, -1])
def test_a_batch_size_below_one_is_refused(tmp_path: Path, batch_size: int) -> None:
    with pytest.raises(VlmbenchError, match="batch size must be positive"):
        evaluate(EvalConfig(batch_size=batch_size, output_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []


# --- pass@k -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [(4, 0, 1, 0.0), (4, 1, 1, 0.25), (4, 1, 2, 0.5), (4, 2, 2, 5 / 6), (4, 3, 2, 1.0), (4, 4, 4, 1.0)],
)
def test_pass_at_k_is_the_unbiased_estimator(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_n_samples_draws_independent_generations_and_reports_pass_at_k(tmp_path: Path) -> None:
    config = EvalConfig(
        model="random",
        backend="baseline",
        tasks="synth_geometry",
        synth={"n": 30},
        n_samples=4,
        temperature=0.7,
        output_dir=tmp_path,
    )
    root, record = evaluate(config)
    rows = rows_of(root, "synth_geometry")
    assert len(rows) == 30 and all(len(r["generations"]) == 4 for r in rows)
    assert any(len({g["output"] for g in r["generations"]}) > 1 for r in rows), "seeds must differ"
    for row in rows:  # the first generation fills the row's own fields
        assert row["output"] == row["generations"][0]["output"]
        assert row["official"] == row["generations"][0]["official"]
    metrics = record["tasks"]["synth_geometry"]["metrics"]
    counts = [sum(g["official"] for g in r["generations"]) for r in rows]
    assert metrics["pass@1"] == pytest.approx(sum(c / 4 for c in counts) / 30)
    assert metrics["pass@4"] == pytest.approx(sum(1 for c in counts if c) / 30)
    assert metrics["pass@1"] <= metrics["pass@2"] <= metrics["pass@4"]
    assert metrics["mean@4"] == pytest.approx(metrics["pass@1"])
    assert record["tasks"]["synth_geometry"]["tokens_out"] == 4 * 30  # every generation counts
    assert record["tasks"]["synth_geometry"]["protocol"]["generation"]["n_samples"] == 4


def test_n_samples_with_greedy_decoding_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VlmbenchError, match="needs sampling"):
        evaluate(EvalConfig(tasks="synth_geometry", n_samples=3, output_dir=tmp_path))


def test_one_sample_keeps_the_config_id_and_protocol_of_before_pass_at_k(tmp_path: Path) -> None:
    assert "n_samples" not in EvalConfig().identity()
    assert "n_samples" not in GenerationParams(max_new_tokens=8).to_dict()
    assert EvalConfig(n_samples=2).config_id() != EvalConfig().config_id()


# --- image ablation ---------------------------------------------------------------------------------


def test_a_blank_image_run_shows_the_model_only_blank_images_under_its_own_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, Any]] = []
    answer = EchoBackend.generate

    def looking(self: EchoBackend, requests: Sequence[Request]) -> list[Response]:
        seen.extend((r.id, r.images[0].load().getextrema()) for r in requests)
        return answer(self, requests)

    monkeypatch.setattr(EchoBackend, "generate", looking)
    normal_root, normal = evaluate(echo_config(tmp_path, tasks="synth_chart"))
    normal_seen = dict(seen)
    seen.clear()
    blank_root, blank = evaluate(echo_config(tmp_path, tasks="synth_chart", image_ablation="blank"))

    assert blank_root != normal_root
    assert set(dict(seen)) == set(normal_seen)
    assert all(extrema == ((128, 128), (128, 128), (128, 128)) for _, extrema in seen)
    assert all(extrema != ((128, 128), (128, 128), (128, 128)) for extrema in normal_seen.values())
    blank_task, normal_task = blank["tasks"]["synth_chart"], normal["tasks"]["synth_chart"]
    assert blank_task["protocol"]["image_ablation"] == "blank"
    assert "image_ablation" not in normal_task["protocol"]
    assert blank_task["protocol_hash"] != normal_task["protocol_hash"]
    # the records keep the real items: same dataset fingerprint, same image paths, rescorable as usual
    assert blank_task["protocol"]["dataset_fingerprint"] == normal_task["protocol"]["dataset_fingerprint"]
    blank_rows, normal_rows = rows_of(blank_root, "synth_chart"), rows_of(normal_root, "synth_chart")
    assert [r["sample"] for r in blank_rows] == [r["sample"] for r in normal_rows]


def test_no_ablation_keeps_the_config_id_and_protocol_of_before(tmp_path: Path) -> None:
    assert "image_ablation" not in EvalConfig().identity()
    assert EvalConfig(image_ablation="blank").config_id() != EvalConfig().config_id()


def test_an_unknown_image_ablation_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(VlmbenchError, match="unknown image ablation 'noise'"):
        evaluate(echo_config(tmp_path, image_ablation="noise"))
    assert not any(tmp_path.iterdir())


def test_a_shuffled_image_run_shows_each_item_another_items_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, str] = {}
    answer = EchoBackend.generate

    def looking(self: EchoBackend, requests: Sequence[Request]) -> list[Response]:
        seen.update((r.id, hashlib.sha256(r.images[0].load().tobytes()).hexdigest()) for r in requests)
        return answer(self, requests)

    monkeypatch.setattr(EchoBackend, "generate", looking)
    evaluate(echo_config(tmp_path, tasks="synth_scene"))
    normal = dict(seen)
    seen.clear()
    _, record = evaluate(echo_config(tmp_path, tasks="synth_scene", image_ablation="shuffle"))
    assert record["tasks"]["synth_scene"]["protocol"]["image_ablation"] == "shuffle"
    assert set(seen) == set(normal)
    assert all(seen[i] != normal[i] for i in normal)  # nobody sees their own image
    assert sorted(seen.values()) == sorted(normal.values())  # everyone sees some item's real image
