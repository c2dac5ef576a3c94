"""`vlmbench eval`: run tasks through a backend, score every response with the task's own scorer,
record everything, and resume where a killed run stopped.

A run's directory is named by a hash of everything that defines it - the eval options (model, backend,
arguments, tasks, prompt, generation and data options; not the batch size) and the fingerprint of the
model itself (vlmbench.records.fingerprint) - so the same command on the same model lands in the same
directory and continues an unfinished run, while a retrained or edited checkpoint gets a new run and
never the old model's samples. Each task's protocol hash is stored when the task starts; a rerun whose
protocol differs (a new task version, other items) is refused rather than mixed into the old records.
Samples that failed are retried by a rerun, and statuses say what a record holds
(vlmbench.records.status): done, partial (some samples failed), failed (none answered).

Rows are appended as each batch finishes and synced once per batch, so a killed run redoes at most the
batch in flight. Under `accelerate launch` (vlmbench.parallel) each task's remaining items are dealt
over the ranks, each rank appends its own part file, and rank 0 - the only one holding the run folder's
lock and writing run.json - merges the parts when every rank is done: the same rows, scores, protocol
hashes and run id as one process (the process count, like the batch size, does not name the run).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vlmbench import __version__
from vlmbench.ablation import ablate, check_ablation
from vlmbench.data import load_samples
from vlmbench.errors import VlmbenchError
from vlmbench.extract import Status, get_extractor
from vlmbench.judge import (
    Judge,
    JudgedScore,
    JudgeTarget,
    judge_samples,
    judge_sha256,
    judged_summary,
    judged_tasks,
)
from vlmbench.metrics import aggregate_metrics, infer_style, sample_metrics, score_intervals
from vlmbench.models import Backend, BackendUnavailable, GenerationParams, Request, Response, get_backend
from vlmbench.models.vllm_engine import SCALE_ARGS
from vlmbench.names import safe_name
from vlmbench.parallel import Ranks, current, single_process_launch_note, together
from vlmbench.prompts import build_request
from vlmbench.records.fingerprint import model_fingerprint
from vlmbench.records.hashing import canonical_hash
from vlmbench.records.protocol import protocol, protocol_hash
from vlmbench.records.provenance import git_commit, hardware, package_versions, parameter_count
from vlmbench.records.record import RECORD_VERSION, Fingerprint
from vlmbench.records.rundir import RUN_FILE, RunLock, RunStore, sample_fields
from vlmbench.records.secrets import public_args
from vlmbench.records.status import (
    FAILED,
    INTERRUPTED,
    count_failures,
    failed_samples,
    run_status,
    task_status,
)
from vlmbench.registry import get_task, resolve_tasks
from vlmbench.schema import Sample
from vlmbench.scoring import SampleScore, Scorer, aggregate, get_scorer
from vlmbench.taskspec import TaskSpec

ProgressFn = Callable[[str, int, int, dict[str, float]], None]
NotifyFn = Callable[[str], None]
SYNTH_OPTIONS = {"n": "--n", "difficulty": "--difficulty", "seed": "--seed (procedural items)"}


class RunInterrupted(VlmbenchError):
    """Ctrl-C during a run: the record says where it stopped; rerunning the command resumes it."""

    def __init__(self, run_dir: Path, where: str) -> None:
        super().__init__(f"interrupted {where}; run folder {run_dir}")
        self.run_dir = run_dir
        self.where = where


@dataclass
class EvalConfig:
    """Everything `vlmbench eval` takes; `identity()` is what names (and resumes) a run."""

    model: str = "random"
    backend: str = "baseline"
    model_args: dict[str, Any] = field(default_factory=dict)
    tasks: str = "synth_*"
    limit: int | None = None
    batch_size: int = 8
    prompt: str | None = None
    max_new_tokens: int | None = None
    temperature: float | None = None  # None: the task's own default
    top_p: float = 1.0
    n_samples: int = 1
    seed: int = 0
    output_dir: Path = Path("runs")
    data_dir: Path | None = None
    synth: dict[str, int] = field(default_factory=dict)
    image_ablation: str | None = None  # "blank" / "shuffle": other images shown (vlmbench.ablation)
    resume: bool = False  # insist on continuing a run of this command: refused if the model changed
    judge: str | None = None  # `openai:MODEL@URL`: also score through the task's reference LLM extractor

    def identity(self) -> dict[str, Any]:
        data = asdict(self)
        data["model_args"] = public_args(self.model_args)  # a rotated key resumes the same run
        data["model_args"].pop("prefetch", None)  # when images are decoded does not change answers
        if self.backend == "vllm":  # how vLLM spreads the work must not change answers, nor name the run
            data["model_args"] = {k: v for k, v in data["model_args"].items() if k not in SCALE_ARGS}
        data.pop("output_dir")
        data.pop("batch_size")  # batching must not change results, so it does not name the run
        data.pop("resume")  # how the run is entered, not what it is
        data.pop("judge")  # how it is scored besides: a judged rerun of a run lands in (and completes) it
        if self.n_samples == 1:  # config ids from before pass@k stay valid
            data.pop("n_samples")
        if self.image_ablation is None:  # likewise for config ids from before image ablation
            data.pop("image_ablation")
        data["data_dir"] = str(Path(self.data_dir).resolve()) if self.data_dir else None
        return data

    def config_id(self) -> str:
        """sha256 of the options that name the run: the same command has the same config id, whatever
        the model's weights are now."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True, default=str).encode()).hexdigest()

    def run_slug(self) -> str:
        """`<model folder name>-<backend>`, safe as a folder name: never hidden (`..`, `.x`), never a path."""
        name = Path(self.model).name or self.model
        return f"{safe_name(name)}-{self.backend}"

    def run_id(self, fingerprint: str) -> str:
        """`<model>-<backend>-<10 hex>`: the hex covers the config id and the model's fingerprint digest,
        so a changed model is a new run."""
        digest = canonical_hash({"config_id": self.config_id(), "model": fingerprint})
        return f"{self.run_slug()}-{digest[:10]}"


def generation_params(spec: TaskSpec, config: EvalConfig, style: str) -> GenerationParams:
    default = spec.generation.max_new_tokens_cot if style == "cot" else spec.generation.max_new_tokens
    return GenerationParams(
        max_new_tokens=config.max_new_tokens or default,
        temperature=spec.generation.temperature if config.temperature is None else config.temperature,
        top_p=config.top_p,
        seed=config.seed,
        n_samples=config.n_samples,
    )


def _generate(backend: Backend, requests: Sequence[Request]) -> list[Response]:
    """A batch, or - when the batch raises - each request alone, so one bad sample fails alone."""
    start = time.perf_counter()
    try:
        responses = backend.generate(requests)
        if len(responses) != len(requests):
            raise VlmbenchError(f"backend returned {len(responses)} responses for {len(requests)} requests")
        return responses
    except Exception as err:
        if len(requests) == 1:  # already alone: record the failure rather than send it twice
            return [Response.failed(f"{type(err).__name__}: {err}", time.perf_counter() - start)]
        return [_generate_one(backend, r) for r in requests]


def _generate_one(backend: Backend, request: Request) -> Response:
    start = time.perf_counter()
    try:
        return backend.generate([request])[0]
    except Exception as err:  # the run goes on; the sample is recorded as failed with its reason
        return Response.failed(f"{type(err).__name__}: {err}", time.perf_counter() - start)


def sample_requests(request: Request) -> list[Request]:
    """The n generations of pass@k: copies of the request with seeds seed, seed + 1, ..."""
    params = request.params
    if params.n_samples == 1:
        return [request]
    return [
        dataclasses.replace(request, params=dataclasses.replace(params, seed=params.seed + i, n_samples=1))
        for i in range(params.n_samples)
    ]


def generation_entry(response: Response, score: SampleScore) -> dict[str, Any]:
    """One of a sample's n generations (pass@k), with its own score."""
    return {
        "output": response.text,
        "extracted": score.extracted,
        "status": score.status,
        "official": score.official,
        "robust": score.robust,
        "finish_reason": response.finish_reason,
        "n_output_tokens": response.n_output_tokens,
        "seconds": round(response.seconds, 6),
        "error": response.error,
    }


def sample_row(
    request: Request,
    response: Response,
    score: SampleScore,
    generations: list[dict[str, Any]] | None = None,
    index: int | None = None,
) -> dict[str, Any]:
    """One line of samples/<task>.jsonl: the full raw output, never truncated. With pass@k, the first
    generation fills the usual fields and `generations` holds all n. `index` is the item's position in
    the task, so records can be put back in dataset order."""
    row = {
        "id": request.id,
        "index": index,
        "prompt": request.prompt,
        "output": response.text,
        "extracted": score.extracted,
        "status": score.status,
        "method": score.method,
        "official_extracted": score.official_extracted,
        "gold": request.sample.answer,
        "official": score.official,
        "robust": score.robust,
        "extra": score.extra,
        "finish_reason": response.finish_reason,
        "truncated": response.truncated,
        "n_prompt_tokens": response.n_prompt_tokens,
        "n_output_tokens": response.n_output_tokens,
        "seconds": round(response.seconds, 6),
        "error": response.error,
        "sample": sample_fields(request.sample),
    }
    if generations is not None:
        row["generations"] = generations
        failed = next((g["error"] for g in generations if g["error"]), None)
        row["error"] = row["error"] or failed  # a failed generation makes the sample retry on resume
    return row


def score_response(scorer: Scorer, spec: TaskSpec, sample: Sample, response: Response) -> SampleScore:
    if response.error is not None:
        return SampleScore(sample.id, 0.0, 0.0, None, Status.NO_ANSWER.value, "generation_failed")
    return scorer.score(response.text, sample, get_extractor(spec.extractor), truncated=response.truncated)


def row_metrics(row: dict[str, Any], sample: Sample, spec: TaskSpec, style: str) -> dict[str, Any]:
    """A row's step-quality, efficiency and hacking metrics; its timing stays in the row's `seconds`."""
    return {k: v for k, v in sample_metrics(row, sample, spec, style).items() if k != "seconds"}


def rescore_row(spec: TaskSpec, sample: Sample, row: dict[str, Any]) -> dict[str, Any]:
    """A recorded row scored again from its raw output by the task's current extractor and scorer (the
    same calls as during eval); failed generations stay failed."""
    scorer, extractor = get_scorer(spec.scorer), get_extractor(spec.extractor)

    def fresh(entry: dict[str, Any]) -> dict[str, Any]:
        if entry.get("error"):
            return entry
        truncated = entry.get("finish_reason") == "length"
        score = scorer.score(entry["output"], sample, extractor, truncated=truncated)
        updated = {**entry, "extracted": score.extracted, "status": score.status}
        updated.update(official=score.official, robust=score.robust)
        if "method" in entry:
            updated.update(
                method=score.method, official_extracted=score.official_extracted, extra=score.extra
            )
        return updated

    out = fresh(row)
    if row.get("generations"):
        out["generations"] = [fresh(g) for g in row["generations"]]
    if row.get("judge"):  # what the judge read is kept; only its normalisation and comparison are redone
        out["judge"] = JudgedScore.from_dict(row["judge"]).rescored(spec, sample).to_dict()
    out["metrics"] = row_metrics(out, sample, spec, infer_style(spec, row.get("prompt")))
    return out


def _row_score(row: dict[str, Any]) -> SampleScore:
    return SampleScore(
        row["id"],
        row["official"],
        row["robust"],
        row["extracted"],
        row["status"],
        row["method"],
        row.get("official_extracted"),
        extra=row.get("extra") or {},
    )


def summarize(
    spec: TaskSpec,
    samples: Sequence[Sample],
    rows: dict[str, dict[str, Any]],
    *,
    style: str | None = None,
    n_params: int | None = None,
) -> dict[str, Any]:
    """Task results from the recorded rows, in dataset order (identical for resumed and whole runs): the
    status, failures by reason, the scorer's metrics with 95% intervals (clustered by image where
    questions share one), pass@k, and the reasoning / efficiency / reward-hacking metrics of
    `vlmbench.metrics`. Failed samples count as wrong (the count is beside the score); a task with no
    answered sample has no score at all."""
    done = [s for s in samples if s.id in rows]
    ordered = [rows[s.id] for s in done]
    n = len(ordered)
    errors = [r.get("error") for r in ordered]
    n_failed = sum(1 for e in errors if e)
    status = task_status(len(samples), n, n_failed)
    generations = [g for r in ordered for g in r.get("generations") or [r]]
    result: dict[str, Any] = {
        "status": status,
        "n_items": len(samples),
        "n": n,
        "n_failed": n_failed,
        "failures": count_failures(errors),
        "metric": spec.metrics.main,
        "metrics": None,
        "tokens_in": sum(r["n_prompt_tokens"] for r in ordered),
        "tokens_out": sum(g["n_output_tokens"] for g in generations),
        "truncation_rate": sum(1 for r in ordered if r["truncated"]) / n if n else 0.0,
        "generation_seconds": round(sum(g["seconds"] for g in generations), 3),
        "quality": None,
    }
    if n == 0 or n_failed == n:
        return result
    scorer = get_scorer(spec.scorer)
    metrics = aggregate(scorer, done, [_row_score(r) for r in ordered], spec.metrics.breakdowns)
    values = {key: [r[key] for r in ordered] for key in ("official", "robust")}
    metrics.update(score_intervals(scorer, done, values, metrics))
    if any("generations" in r for r in ordered):
        metrics.update(pass_at_k_metrics(ordered))
    result["metrics"] = metrics
    result["quality"] = aggregate_metrics(ordered, done, spec, n_params=n_params, style=style)
    return result


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n generations of which c are correct: 1 - C(n - c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_at_k_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """`pass@k` (k = 1, 2, 4, ..., n) and `mean@n` (mean official score over every generation).
    A generation counts as correct when its official score is 1."""
    per_sample = [[g["official"] for g in r.get("generations") or [r]] for r in rows]
    n = min(len(scores) for scores in per_sample)
    ks = sorted({*(2**i for i in range(n.bit_length()) if 2**i <= n), n})
    out = {}
    for k in ks:
        values = [pass_at_k(len(s), sum(1 for v in s if v >= 1.0), k) for s in per_sample]
        out[f"pass@{k}"] = sum(values) / len(values)
    out[f"mean@{n}"] = sum(sum(s) / len(s) for s in per_sample) / len(per_sample)
    return out


def _new_record(
    config: EvalConfig, backend: Backend, fingerprint: Fingerprint, run_id: str, warnings: list[str]
) -> dict[str, Any]:
    local = config.backend != "baseline"
    return {
        "record_version": RECORD_VERSION,
        "run_id": run_id,
        "config_id": config.config_id(),
        "status": "running",
        "failure": None,
        "created": _now(),
        "finished": None,
        "model": {
            "name": config.model,
            "backend": config.backend,
            "args": public_args(config.model_args),
            "fingerprint": fingerprint.model_dump(mode="json"),
            "n_params": parameter_count(config.model) if local else None,
            "backend_info": backend.describe(),
        },
        "config": {**config.identity(), "batch_size": config.batch_size},  # + num_processes, per entry
        "vlmbench_version": __version__,
        "packages": package_versions(),
        "git": git_commit(),
        "hardware": hardware(),
        "wall_seconds": 0.0,
        "warnings": warnings,
        "lineage": None,
        "tasks": {},
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _check_options(config: EvalConfig) -> None:
    if config.batch_size <= 0:
        raise VlmbenchError(f"batch size must be positive, got {config.batch_size}")
    if config.n_samples <= 0:
        raise VlmbenchError(f"--n-samples must be positive, got {config.n_samples}")
    if config.image_ablation is not None:
        check_ablation(config.image_ablation)
    if config.n_samples > 1 and not (config.temperature or 0) > 0:
        raise VlmbenchError(
            f"--n-samples {config.n_samples} needs sampling: greedy decoding repeats one answer; "
            "set --temperature above 0"
        )


def ignored_options(config: EvalConfig, specs: Sequence[TaskSpec]) -> list[str]:
    """Warnings for options some of the tasks ignore; an option that every task ignores is an error
    (it would silently do nothing)."""
    fixed = [s.name for s in specs if s.source.synth is None]
    warnings = []
    for key in sorted(set(config.synth) & set(SYNTH_OPTIONS)):
        flag = SYNTH_OPTIONS[key]
        if len(fixed) == len(specs):
            hint = " (use --limit for the first N items)" if key == "n" else ""
            names = ", ".join(fixed)
            raise VlmbenchError(f"{flag} applies to procedural tasks only; none of {names} is{hint}")
        if fixed:
            warnings.append(f"{flag} applies to procedural tasks only: ignored by {', '.join(fixed)}")
    if config.data_dir is not None and not fixed:
        warnings.append("--data-dir is not read: every selected task is procedural (generated)")
    if config.judge is not None:
        unjudged = [s.name for s in specs if s.judge is None]
        if len(unjudged) == len(specs):
            known = ", ".join(judged_tasks()) or "none"
            raise VlmbenchError(
                f"--judge applies to tasks whose reference pipeline extracts answers with an LLM ({known}); "
                f"none of {', '.join(unjudged)} does"
            )
        if unjudged:
            warnings.append(f"--judge: no reference LLM extractor, not judged: {', '.join(unjudged)}")
    return warnings


def _probe(backend: Backend) -> tuple[dict[str, Any] | None, str | None]:
    """What the backend reports about its model, and why it cannot answer (None when it can)."""
    probe = getattr(backend, "probe", None)
    if probe is None:
        return None, None
    try:
        return probe(), None
    except BackendUnavailable as err:
        return None, str(err)


def _other_run(config: EvalConfig, run_id: str) -> dict[str, Any] | None:
    """The newest run of the same command (same config id) under another model fingerprint."""
    found, wanted = [], config.config_id()
    for path in Path(config.output_dir).glob(f"{glob_escape(config.run_slug())}-*/{RUN_FILE}"):
        if path.parent.name == run_id:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("config_id") == wanted:
            found.append(record)
    return max(found, key=lambda r: (str(r.get("created")), str(r.get("run_id"))), default=None)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _entering(config: EvalConfig, run_id: str, fingerprint: Fingerprint, say: NotifyFn) -> None:
    """Before a new run folder is made: a `--resume` that cannot resume is refused, and a model that
    changed since the last run of this command is said in one line."""
    other = _other_run(config, run_id)
    new = fingerprint.digest
    if other is not None:
        old = ((other.get("model") or {}).get("fingerprint") or {}).get("digest") or "none recorded"
        if config.resume:
            raise VlmbenchError(
                f"--resume refused: run {other['run_id']} evaluated {config.model} with model fingerprint "
                f"{old}, and it now has fingerprint {new}; its samples belong to another model. Drop "
                "--resume to start a new run of the model as it is now"
            )
        say(
            f"model changed since run {other['run_id']} (fingerprint {old[:12]} -> {new[:12]}): "
            f"starting new run {run_id}"
        )
    elif config.resume:
        raise VlmbenchError(
            f"--resume: no run of this command under {config.output_dir} to resume (it would be {run_id})"
        )


def evaluate(
    config: EvalConfig,
    progress: ProgressFn | None = None,
    notify: NotifyFn | None = None,
    ranks: Ranks | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run (or resume) the evaluation; returns the run directory and its final run.json record.
    `notify` hears one-line news (a resumed run, a changed model, ignored options); a failed backend
    probe makes a `failed` record, Ctrl-C raises RunInterrupted once the record says where it stopped.
    `ranks`: this process's place in a data-parallel run [default: from the launcher's environment];
    only rank 0 reports progress and news."""
    ranks = ranks or current()
    if not ranks.is_main:
        progress, notify = None, None
    say = notify or (lambda _message: None)
    if ranks.world == 1 and (note := single_process_launch_note()):
        say(f"note: {note}")
    _check_options(config)
    names = resolve_tasks(config.tasks)
    specs = [get_task(name) for name in names]
    warnings = ignored_options(config, specs)
    for warning in warnings:
        say(f"warning: {warning}")
    judge = Judge(JudgeTarget.parse(config.judge)) if config.judge else None
    backend = get_backend(config.backend, config.model, **{"seed": config.seed, **config.model_args})
    served, unavailable = _probe(backend)
    fingerprint = model_fingerprint(
        config.backend, config.model, public_args(config.model_args), config.seed, served
    )
    if fingerprint.note and fingerprint.kind in ("hub", "server", "local"):
        say(f"note: {fingerprint.note}")  # the model may change unseen: say so before any sample
    run_id = config.run_id(fingerprint.digest)
    store = RunStore(Path(config.output_dir) / run_id)
    with _entered(config, store, fingerprint, ranks, say):
        with together(ranks, "finishing the run"):
            root, record = _run(
                config, specs, backend, store, fingerprint, warnings, unavailable, progress, say, judge, ranks
            )
        if not ranks.is_main:  # rank 0 wrote the final record before every rank got here
            record = store.read_run() or record
        return root, record


@contextmanager
def _entered(
    config: EvalConfig, store: RunStore, fingerprint: Fingerprint, ranks: Ranks, say: NotifyFn
) -> Iterator[None]:
    """Rank 0 enters the run folder: a `--resume` that cannot resume is refused before any folder is
    made, and the folder's lock refuses a second identical command, naming the process that holds it.
    Every rank then checks that it names the same run (the same model fingerprint)."""
    run_id = store.root.name
    with ExitStack() as held:
        with together(ranks, "entering the run"):
            if ranks.is_main:
                if store.read_run() is None:
                    _entering(config, run_id, fingerprint, say)
                held.enter_context(RunLock(store.root))
        ids = ranks.gather(run_id)
        if len(set(ids)) > 1:
            raise VlmbenchError(f"the ranks name different runs ({', '.join(ids)}): did the model change?")
        yield


def _run(
    config: EvalConfig,
    specs: Sequence[TaskSpec],
    backend: Backend,
    store: RunStore,
    fingerprint: Fingerprint,
    warnings: list[str],
    unavailable: str | None,
    progress: ProgressFn | None,
    say: NotifyFn,
    judge: Judge | None = None,
    ranks: Ranks | None = None,
) -> tuple[Path, dict[str, Any]]:
    """The run itself, under the run folder's lock: plan every task, then generate what is missing
    (and, with a judge, judge what has no verdict of it yet). Every rank plans; only rank 0 writes
    run.json."""
    ranks = ranks or Ranks()
    record = store.read_run()  # read again under the lock: another process may have just written it
    resumed = record is not None
    if record is None:
        record = _new_record(config, backend, fingerprint, store.root.name, warnings)
    record["config"]["num_processes"] = ranks.world  # how this entry ran; not part of the run's identity
    write_run = store.write_run if ranks.is_main else lambda _record: None
    started = time.perf_counter()
    with together(ranks, "planning the tasks"):
        plans = _plans(config, specs, store, record)
    if unavailable is not None:
        return _never_answered(store, record, resumed, plans, unavailable, write_run)
    if resumed:
        total = sum(len(samples) for _, _, samples, *_ in plans)
        done = sum(len(store.done_anywhere(s.name)) for s, *_ in plans)
        say(f"resuming run {store.root.name}: {done}/{total} samples done")
    try:
        for spec, style, samples, params, proto, phash in plans:
            judged_before = (record["tasks"].get(spec.name) or {}).get("judge")
            task_judge = judge if spec.judge is not None else None
            judge_model = task_judge.model if task_judge else (judged_before or {}).get("model")
            record["tasks"][spec.name] = {
                **summarize(spec, samples, {}),
                "protocol_hash": phash,
                "protocol": proto,
            }
            write_run(record)
            rows = store.finished(spec.name) if ranks.is_main else {}
            try:
                batch = config.batch_size
                args = (spec, samples, style, params, backend, store, rows, batch, progress, task_judge)
                if ranks.world == 1 and not store.has_parts(spec.name):
                    run_task(*args)
                else:  # several ranks, or parts a killed data-parallel run left
                    run_share(*args, ranks)
                if task_judge is not None and ranks.is_main:
                    judge_missing(spec, samples, store, rows, task_judge, say)
            finally:  # a Ctrl-C mid-task still records how far the task got
                n_params = record["model"].get("n_params")
                summary = summarize(spec, samples, rows, style=style, n_params=n_params)
                record["tasks"][spec.name].update(summary, samples_sha256=store.samples_digest(spec.name))
                if judge_model is not None:
                    judged = judged_block(spec, samples, rows, proto, judge_model)
                    record["tasks"][spec.name]["judge"] = judged
    except KeyboardInterrupt:
        if not ranks.is_main:  # rank 0 records where the run stopped
            raise
        where = _where(record)
        record.update(status=INTERRUPTED, failure=f"interrupted {where}")
        _finish(write_run, record, started)
        raise RunInterrupted(store.root, where) from None
    record["status"] = run_status(t["status"] for t in record["tasks"].values())
    record["failure"] = _failure(record) if record["status"] == FAILED else None
    _finish(write_run, record, started)
    return store.root, record


def _plans(
    config: EvalConfig, specs: Sequence[TaskSpec], store: RunStore, record: dict[str, Any]
) -> list[Any]:
    """Each task's samples, style, generation parameters and protocol; a task recorded under another
    protocol is refused before any task runs."""
    plans = []
    for spec in specs:
        style = config.prompt or spec.prompts.default
        samples = load_samples(spec, config.data_dir, limit=config.limit, synth=config.synth or None)
        params = generation_params(spec, config, style)
        proto = protocol(spec, samples, style, params, image_ablation=config.image_ablation)
        phash = protocol_hash(proto)
        if config.image_ablation:  # the protocol fingerprints the real items; the model sees ablated ones
            samples = ablate(samples, config.image_ablation)
        previous = record["tasks"].get(spec.name)
        if previous and previous["protocol_hash"] != phash:
            old = previous["protocol_hash"][:12]
            raise VlmbenchError(
                f"{store.root}: task {spec.name!r} was run under another protocol ({old} != {phash[:12]}); "
                "results are never mixed - use another --output-dir"
            )
        plans.append((spec, style, samples, params, proto, phash))
    return plans


def _where(record: dict[str, Any]) -> str:
    for name, task in record["tasks"].items():
        if task["status"] == "running":
            return f"in task {name} at {task['n']}/{task['n_items']} samples"
    return "between tasks"


def _failure(record: dict[str, Any]) -> str:
    return failed_samples((t["n"], t["n_failed"], t["failures"]) for t in record["tasks"].values())


def _finish(write_run: Callable[[dict[str, Any]], None], record: dict[str, Any], started: float) -> None:
    """Stamp the wall time and end of this entry and write the record (`write_run`: a no-op off rank 0)."""
    record["wall_seconds"] = round(record.get("wall_seconds", 0.0) + time.perf_counter() - started, 3)
    record["finished"] = _now()
    write_run(record)


def _never_answered(
    store: RunStore,
    record: dict[str, Any],
    resumed: bool,
    plans: list[Any],
    reason: str,
    write_run: Callable[[dict[str, Any]], None],
) -> tuple[Path, dict[str, Any]]:
    """The backend's probe failed: a new run is recorded as `failed` with the reason (so that the
    leaderboard can refuse it by name); an existing run keeps every sample it has and the call fails."""
    if resumed:
        raise BackendUnavailable(f"{reason}; run {store.root.name} is kept as it was (rerun to resume it)")
    for spec, _, samples, _, proto, phash in plans:
        record["tasks"][spec.name] = {
            **summarize(spec, samples, {}),
            "status": FAILED,
            "protocol_hash": phash,
            "protocol": proto,
        }
    record.update(status=FAILED, failure=reason)
    _finish(write_run, record, time.perf_counter())
    return store.root, record


def run_task(
    spec: TaskSpec,
    samples: Sequence[Sample],
    style: str,
    params: GenerationParams,
    backend: Backend,
    store: RunStore,
    rows: dict[str, dict[str, Any]],
    batch_size: int,
    progress: ProgressFn | None,
    judge: Judge | None = None,
    todo: Sequence[Sample] | None = None,
    rank: int | None = None,
) -> None:
    """Generate, score (and judge) and append every sample of `todo` [default: every sample not yet in
    `rows`] to the samples file, or rank `rank`'s part file; `rows` is updated."""
    scorer = get_scorer(spec.scorer)
    todo = [s for s in samples if s.id not in rows] if todo is None else list(todo)
    position = {s.id: i for i, s in enumerate(samples)}
    backend.start_task(spec.name, samples)
    if progress is not None:  # announce the task (and what a resume already has) before generating
        progress(spec.name, len(rows), len(samples), _live(rows))
    n = params.n_samples
    prefetch = getattr(backend, "prefetch", None)  # optional: the hf backend decodes the next batch's images
    batches = [todo[start : start + batch_size] for start in range(0, len(todo), batch_size)]
    planned = _batch_requests(spec, batches[0], style, params) if batches else ([], [])
    for b, batch in enumerate(batches):
        requests, sent = planned
        if b + 1 < len(batches):
            planned = _batch_requests(spec, batches[b + 1], style, params)
            if prefetch is not None:
                prefetch(planned[1])  # prepared in the background while this batch generates
        responses = _generate(backend, sent)
        made: list[tuple[Sample, dict[str, Any]]] = []
        for k, (sample, request) in enumerate(zip(batch, requests, strict=True)):
            mine = responses[k * n : (k + 1) * n]
            scores = [score_response(scorer, spec, sample, r) for r in mine]
            generations = (
                [generation_entry(r, sc) for r, sc in zip(mine, scores, strict=True)] if n > 1 else None
            )
            row = sample_row(request, mine[0], scores[0], generations, position[sample.id])
            row["metrics"] = row_metrics(row, sample, spec, style)
            made.append((sample, row))
        if judge is not None:
            judge_rows(spec, judge, made)
        store.append_batch(spec.name, [row for _, row in made], rank=rank)  # one fsync per batch
        for sample, row in made:
            rows[sample.id] = row
        if progress is not None:
            progress(spec.name, len(rows), len(samples), _live(rows))


def run_share(
    spec: TaskSpec,
    samples: Sequence[Sample],
    style: str,
    params: GenerationParams,
    backend: Backend,
    store: RunStore,
    rows: dict[str, dict[str, Any]],
    batch_size: int,
    progress: ProgressFn | None,
    judge: Judge | None,
    ranks: Ranks,
) -> None:
    """This rank's share of what is left of a task - the samples with no finished row in the samples
    file or in any part file, whatever process count wrote them, dealt round-robin in dataset order -
    appended to its own part file. Once every rank is done, rank 0 merges the parts into the samples
    file and `rows` becomes its rows (on other ranks, `rows` holds what this rank saw done or did)."""
    with together(ranks, f"task {spec.name}: reading what is done"):  # before any rank writes a row
        done = store.done_anywhere(spec.name)
        store.repair_part(spec.name, ranks.rank)
    todo = [s for s in samples if s.id not in done]
    if len(set(ranks.gather(canonical_hash([s.id for s in todo])))) > 1:
        raise VlmbenchError(f"task {spec.name}: the ranks disagree on what is left to do (files changed?)")
    rows.update(done)
    with together(ranks, f"task {spec.name}"):
        args = (spec, samples, style, params, backend, store, rows, batch_size, progress, judge)
        run_task(*args, todo=ranks.shard(todo), rank=ranks.rank)
    if not ranks.is_main:
        return
    merged = store.merge_parts(spec.name, {s.id: i for i, s in enumerate(samples)})
    rows.clear()
    rows.update(merged)
    if progress is not None:
        progress(spec.name, len(rows), len(samples), _live(rows))


def _batch_requests(
    spec: TaskSpec, batch: Sequence[Sample], style: str, params: GenerationParams
) -> tuple[list[Request], list[Request]]:
    """A batch's requests, and what is sent for them (pass@k: n copies of each)."""
    requests = [build_request(spec, sample, style, params) for sample in batch]
    return requests, [copy for request in requests for copy in sample_requests(request)]


def judge_rows(spec: TaskSpec, judge: Judge, made: Sequence[tuple[Sample, dict[str, Any]]]) -> None:
    """Set each row's `judge` verdict (the judged convention's score and what it read)."""
    pairs = [(sample, None if row.get("error") else row["output"]) for sample, row in made]
    for (_, row), judged in zip(made, judge_samples(spec, judge, pairs), strict=True):
        row["judge"] = judged.to_dict()


def _needs_judging(row: dict[str, Any], model: str, sha: str) -> bool:
    verdict = row.get("judge") or {}
    if row.get("error"):  # a failed generation has nothing to judge (a rerun retries the generation)
        return verdict.get("model") != model
    return verdict.get("model") != model or verdict.get("prompt_sha256") != sha or bool(verdict.get("error"))


def stale_samples(
    spec: TaskSpec, samples: Sequence[Sample], rows: dict[str, dict[str, Any]], judge: Judge
) -> list[Sample]:
    """The recorded samples with no verdict of this judge: a run judged after the fact, one judged by
    another model, or whose judge calls failed."""
    sha = judge_sha256(spec)
    return [s for s in samples if s.id in rows and _needs_judging(rows[s.id], judge.model, sha)]


def rejudge(spec: TaskSpec, judge: Judge, stale: Sequence[Sample], rows: dict[str, dict[str, Any]]) -> None:
    """Judge the rows of `stale` again; each gets a new row version in `rows` (its generation untouched)."""
    todo = [(sample, {**rows[sample.id]}) for sample in stale]
    for start in range(0, len(todo), 64):
        judge_rows(spec, judge, todo[start : start + 64])
    for sample, row in todo:
        rows[sample.id] = row


def judge_missing(
    spec: TaskSpec,
    samples: Sequence[Sample],
    store: RunStore,
    rows: dict[str, dict[str, Any]],
    judge: Judge,
    say: NotifyFn,
) -> None:
    """Judge the stale recorded samples and append each judged row as a new version of it (the last
    row of an id wins)."""
    stale = stale_samples(spec, samples, rows, judge)
    if not stale:
        return
    say(f"judging {len(stale)} recorded samples of {spec.name} with {judge.model}")
    rejudge(spec, judge, stale, rows)
    store.append_batch(spec.name, [rows[sample.id] for sample in stale])


def judged_block(
    spec: TaskSpec,
    samples: Sequence[Sample],
    rows: dict[str, dict[str, Any]],
    proto: dict[str, Any],
    model: str,
) -> dict[str, Any]:
    """The task record's judged column, from the rows' verdicts of `model`."""
    verdicts = {i: JudgedScore.from_dict(r["judge"]) for i, r in rows.items() if r.get("judge")}
    return judged_summary(spec, samples, verdicts, proto, model)


def _live(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    n = len(rows)
    return {
        "official": sum(r["official"] for r in rows.values()) / n if n else 0.0,
        "tokens_out": float(
            sum(g["n_output_tokens"] for r in rows.values() for g in r.get("generations") or [r])
        ),
        "failed": float(sum(1 for r in rows.values() if r.get("error"))),
    }
