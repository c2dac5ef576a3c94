"""Scoring a predictions file against a task: the library face of `vlmbench score`.

Predictions for ids the task does not have are reported (`unknown_ids`), never scored; task samples
with no prediction are scored wrong and counted in `n_missing`, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmbench.data import load_samples
from vlmbench.errors import DataError
from vlmbench.extract import get_extractor
from vlmbench.metrics import score_intervals
from vlmbench.predictions import read_predictions
from vlmbench.registry import get_task
from vlmbench.schema import Sample
from vlmbench.scoring import SampleScore, aggregate, get_scorer
from vlmbench.taskspec import TaskSpec


@dataclass
class ScoreReport:
    """Everything `vlmbench score --json` prints; `to_json()` is the documented contract."""

    task: TaskSpec
    samples: list[Sample]
    scores: list[SampleScore]
    metrics: dict[str, Any]
    n_missing: int
    unknown_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        scorer = get_scorer(self.task.scorer)
        extractor = get_extractor(self.task.extractor)
        return {
            "task": self.task.name,
            "version": self.task.version,
            "n": len(self.scores),
            "n_missing": self.n_missing,
            "n_unknown": len(self.unknown_ids),
            "metric": self.task.metrics.main,
            "scorer": scorer.describe(),
            "extractor": {"name": extractor.name, "version": extractor.version},
            "metrics": self.metrics,
            "samples": [
                {
                    "id": s.id,
                    "official": s.official,
                    "robust": s.robust,
                    "extracted": s.extracted,
                    "status": s.status,
                    "method": s.method,
                    "official_extracted": s.official_extracted,
                    "missing": s.missing,
                    **({"extra": s.extra} if s.extra else {}),
                }
                for s in self.scores
            ],
            "unknown_ids": self.unknown_ids,
        }


def score_samples(
    spec: TaskSpec, samples: list[Sample], predictions: dict[str, tuple[str, bool]]
) -> tuple[list[SampleScore], dict[str, Any]]:
    """Score `{id: (text, truncated)}` against samples; the shared core of rescoring and eval."""
    scorer = get_scorer(spec.scorer)
    extractor = get_extractor(spec.extractor)
    scores = []
    for sample in samples:
        if sample.id in predictions:
            text, truncated = predictions[sample.id]
            scores.append(scorer.score(text, sample, extractor, truncated=truncated))
        else:
            scores.append(scorer.missing(sample))
    metrics = aggregate(scorer, samples, scores, spec.metrics.breakdowns)
    if samples:
        values = {"official": [s.official for s in scores], "robust": [s.robust for s in scores]}
        metrics.update(score_intervals(scorer, samples, values, metrics))
    return scores, metrics


def score_predictions(
    task: str | TaskSpec,
    predictions: str | Path,
    data: str | Path | None = None,
    limit: int | None = None,
    synth: dict[str, int] | None = None,
) -> ScoreReport:
    """Score a predictions file; `synth` overrides a procedural task's n / difficulty / seed."""
    spec = get_task(task) if isinstance(task, str) else task
    samples = load_samples(spec, data, limit=limit, synth=synth)
    by_id = read_predictions(Path(predictions))
    known = {s.id for s in samples}
    scores, metrics = score_samples(spec, samples, {k: (p.text, p.truncated) for k, p in by_id.items()})
    return ScoreReport(
        task=spec,
        samples=samples,
        scores=scores,
        metrics=metrics,
        n_missing=sum(1 for s in scores if s.missing),
        unknown_ids=sorted(i for i in by_id if i not in known),
    )


def write_sample_scores(report: ScoreReport, path: Path) -> None:
    """Per-sample scores as JSONL (one object per sample, in dataset order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in report.to_json()["samples"]:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


@dataclass
class TaskRescore:
    """One task of a rescored run: what the record says, what the current scorers say, what moved."""

    task: str
    stored: dict[str, Any]
    recomputed: dict[str, Any]
    changed_ids: list[str]  # official or robust score moved
    version_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "stored": self.stored,
            "recomputed": self.recomputed,
            "changed_ids": self.changed_ids,
            "version_note": self.version_note,
        }


def rescore_run(run_dir: str | Path, task: str | None = None) -> list[TaskRescore]:
    """Recompute every score and metric of a run from its samples files alone - no model, no data
    folder, no images - with the current extractors and scorers. Nothing on disk changes. Failed
    samples stay failed (scored wrong, counted in n_failed)."""
    from vlmbench.records.rundir import RunStore, sample_from_row
    from vlmbench.runner import rescore_row, summarize

    store = RunStore(Path(run_dir))
    record = store.read_run()
    if record is None:
        raise DataError(f"{run_dir}: not a run directory (no run.json)")
    names = list(record["tasks"])
    if task is not None:
        if task not in record["tasks"]:
            raise DataError(f"{run_dir}: the run has no task {task!r} (it has {', '.join(names) or 'none'})")
        names = [task]
    out = []
    for name in names:
        spec = get_task(name)
        by_id: dict[str, dict[str, Any]] = {}
        for row in store.rows(
            name
        ):  # the last row of an id wins (a retried failure follows its first attempt)
            if "sample" not in row:
                raise DataError(f"{store.samples_path(name)}: rows lack their items (recorded before 0.2)")
            by_id[row["id"]] = row
        ordered = sorted(by_id.values(), key=lambda r: (r.get("index") is None, r.get("index") or 0))
        samples = [sample_from_row(r) for r in ordered]
        rescored = {r["id"]: rescore_row(spec, sample, r) for r, sample in zip(ordered, samples, strict=True)}
        changed = [
            i
            for i, r in rescored.items()
            if (r["official"], r["robust"]) != (by_id[i]["official"], by_id[i]["robust"])
        ]
        recorded_version = (record["tasks"][name].get("protocol") or {}).get("task_version")
        note = None
        if recorded_version is not None and recorded_version != spec.version:
            note = f"recorded under {name} v{recorded_version}; rescored with v{spec.version}"
        stored = {k: v for k, v in record["tasks"][name].items() if k not in ("protocol",)}
        style = (record["tasks"][name].get("protocol") or {}).get("prompt_style")
        n_params = (record.get("model") or {}).get("n_params")
        summary = summarize(spec, samples, rescored, style=style, n_params=n_params)
        out.append(TaskRescore(name, stored, summary, changed, note))
    return out
