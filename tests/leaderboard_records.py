"""Well-formed run records for the store and leaderboard tests, without running a model.

The protocol is built the way `vlmbench.records.protocol.protocol` builds it (same keys, the task file's
template, extractor and scorer), so only what a test changes on purpose tells two records apart.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from vlmbench.records.store import canonical_hash
from vlmbench.registry import get_task
from vlmbench.scoring import get_scorer
from vlmbench.stats import wilson_interval


def task_protocol(task: str, n: int, style: str = "direct", **override: Any) -> dict[str, Any]:
    spec = get_task(task)
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


def task_result(task: str, correct: int, n: int, tokens_per_sample: int = 10, **proto: Any) -> dict[str, Any]:
    protocol = task_protocol(task, n, **proto)
    low, high = wilson_interval(correct, n)
    value = correct / n if n else 0.0
    return {
        "protocol_hash": canonical_hash(protocol),
        "protocol": protocol,
        "status": "done",
        "n": n,
        "n_failed": 0,
        "metric": get_task(task).metrics.main,
        "metrics": {
            "official": value,
            "official_ci95": [low, high],
            "robust": value,
            "robust_ci95": [low, high],
            "unparsed_rate": 0.0,
        },
        "tokens_in": 100 * n,
        "tokens_out": tokens_per_sample * n,
        "truncation_rate": 0.0,
        "generation_seconds": 0.5 * n,
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
    status: str = "done",
) -> Path:
    """Write runs/<run_id>/run.json (and samples files); returns the run folder."""
    folder = Path(root) / run_id
    record: dict[str, Any] = {
        "record_version": "1",
        "run_id": run_id,
        "status": status,
        "created": finished,
        "finished": finished,
        "model": {
            "name": model,
            "backend": backend,
            "args": {},
            "weights": None,
            "backend_info": {"backend": backend},
            "n_params": n_params,
        },
        "config": {"model": model, "backend": backend, "data_dir": None, "synth": {}},
        "packages": {},
        "git": {"commit": None, "dirty": None},
        "hardware": {},
        "wall_seconds": 1.0,
        "tasks": tasks,
    }
    if lineage is not None:
        record["lineage"] = lineage
    (folder / "samples").mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    for task, rows in (samples or {}).items():
        lines = "".join(json.dumps(r) + "\n" for r in rows)
        (folder / "samples" / f"{task}.jsonl").write_text(lines, encoding="utf-8")
    return folder


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
