"""Well-formed run records (record version 2) for the store and leaderboard tests, without running a model.

The protocol is built the way `vlmbench.records.protocol.protocol` builds it (same keys, the task file's
template, extractor and scorer), fingerprints come from `vlmbench.records.fingerprint`, and every record
written here passes `validate_record`, so only what a test changes on purpose tells two records apart.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from vlmbench.records.fingerprint import baseline_fingerprint, name_fingerprint
from vlmbench.records.record import RECORD_VERSION, validate_record
from vlmbench.records.status import run_status, task_status
from vlmbench.records.store import canonical_hash
from vlmbench.registry import get_task
from vlmbench.scoring import get_scorer
from vlmbench.stats import wilson_interval


@cache  # task files are parsed once per test session (the bench writes thousands of results)
def _spec(task: str) -> Any:
    return get_task(task)


def task_protocol(task: str, n: int, style: str = "direct", **override: Any) -> dict[str, Any]:
    spec = _spec(task)
    proto = {
        "protocol_version": "1",
        "task": task,
        "task_version": spec.version,
        "dataset_fingerprint": hashlib.sha256(f"{task}:{n}".encode()).hexdigest(),
        "prompts_fingerprint": hashlib.sha256(f"{task}:{n}:{style}".encode()).hexdigest(),
        "n": n,
        "prompt_style": style,
        "prompt_template": spec.prompts.templates[style],
        "choice_format": spec.prompts.choice_format,
        "system_prompt": spec.prompts.system,
        "extractor": {"name": spec.extractor, "version": "1"},
        "scorer": {"id": spec.scorer, "version": get_scorer(spec.scorer).version},
        "generation": {"max_new_tokens": 32, "temperature": 0.0, "top_p": 1.0, "seed": 0},
    }
    proto.update(override)
    return proto


def task_result(
    task: str,
    correct: int,
    n: int,
    tokens_per_sample: int = 10,
    failed: int = 0,
    reason: str = "HTTP 500",
    **proto: Any,
) -> dict[str, Any]:
    """A finished task: `done`, or `partial` / `failed` when `failed` of its `n` samples failed (for
    `reason`); failed samples count as wrong, so `correct` is out of all `n`."""
    protocol = task_protocol(task, n, **proto)
    status = task_status(n, n, failed)
    low, high = wilson_interval(correct, n)
    value = correct / n if n else 0.0
    metrics = {
        "official": value,
        "official_ci95": [low, high],
        "robust": value,
        "robust_ci95": [low, high],
        "unparsed_rate": 0.0,
    }
    return {
        "protocol_hash": canonical_hash(protocol),
        "protocol": protocol,
        "status": status,
        "n_items": n,
        "n": n,
        "n_failed": failed,
        "failures": {reason: failed} if failed else {},
        "metric": _spec(task).metrics.main,
        "metrics": None if status == "failed" else metrics,
        "tokens_in": 100 * (n - failed),
        "tokens_out": tokens_per_sample * (n - failed),
        "truncation_rate": 0.0,
        "generation_seconds": 0.5 * n,
    }


def running_result(task: str, n_items: int, recorded: int) -> dict[str, Any]:
    """A task still running: `recorded` of its `n_items` samples have a row, no score yet."""
    result = task_result(task, 0, n_items)
    result.update(status="running", n=recorded, metrics=None)
    return result


def lineage(algorithm: str = "grpo", base_model: str = "base-model", steps: int = 100) -> dict[str, Any]:
    return {
        "base_model": base_model,
        "algorithm": algorithm,
        "config_hash": canonical_hash([algorithm, base_model, steps])[:16],
        "steps": steps,
        "train_dir": None,
        "base_fingerprint": None,
    }


def write_run(
    root: Path,
    run_id: str,
    model: str,
    tasks: dict[str, dict[str, Any]],
    backend: str = "hf",
    n_params: int | None = None,
    lineage: dict[str, Any] | None = None,
    finished: str = "2026-01-01T00:00:00+00:00",
    samples: dict[str, list[dict[str, Any]]] | None = None,
    status: str | None = None,
    failure: str | None = None,
    fingerprint: dict[str, Any] | None = None,
) -> Path:
    """Write root/<run_id>/run.json (and samples files); returns the run folder. The run status follows
    from the tasks' unless given; the fingerprint is the baseline's or the model name's unless given."""
    folder = Path(root) / run_id
    if fingerprint is None:
        made = baseline_fingerprint(model, 0) if backend == "baseline" else name_fingerprint(model)
        fingerprint = made.model_dump(mode="json")
    record: dict[str, Any] = {
        "record_version": RECORD_VERSION,
        "run_id": run_id,
        "config_id": hashlib.sha256(f"config of {run_id}".encode()).hexdigest(),
        "status": status or run_status(t["status"] for t in tasks.values()),
        "failure": failure,
        "created": finished,
        "finished": finished,
        "model": {
            "name": model,
            "backend": backend,
            "args": {},
            "fingerprint": fingerprint,
            "backend_info": {"backend": backend},
            "n_params": n_params,
        },
        "config": {"model": model, "backend": backend, "data_dir": None, "synth": {}},
        "vlmbench_version": "0.0.test",
        "packages": {},
        "git": {"commit": None, "dirty": None},
        "hardware": {},
        "wall_seconds": 1.0,
        "lineage": lineage,
        "tasks": tasks,
    }
    validate_record(record)  # a helper that wrote invalid records would test nothing
    (folder / "samples").mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    for task, rows in (samples or {}).items():
        lines = "".join(json.dumps(r) + "\n" for r in rows)
        (folder / "samples" / f"{task}.jsonl").write_text(lines, encoding="utf-8")
    return folder


def edit_record(folder: Path, change: Any) -> None:
    """Apply `change(record)` to folder/run.json in place (a hand edit)."""
    record = json.loads((folder / "run.json").read_text())
    change(record)
    (folder / "run.json").write_text(json.dumps(record))


def sample_row(ident: str, output: str, gold: Any, official: float, prompt: str = "Q?") -> dict[str, Any]:
    return {
        "id": ident,
        "prompt": prompt,
        "output": output,
        "extracted": output,
        "status": "ok",
        "method": "test",
        "gold": gold,
        "official": official,
        "robust": official,
        "finish_reason": "stop",
        "truncated": False,
        "n_prompt_tokens": 10,
        "n_output_tokens": 3,
        "seconds": 0.01,
        "error": None,
    }
