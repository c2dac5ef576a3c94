"""Scoring a predictions file against a task: the library face of `vlmbench score`.

Predictions for ids the task does not have are reported (`unknown_ids`), never scored; task samples
with no prediction are scored wrong and counted in `n_missing`, never dropped. A prediction is read as
a raw response (`semantics: "response"`, the default) or, with `extracted=True`, as an answer another
harness already extracted (`semantics: "extracted"`: the task's official normalisation and equality
only, `Scorer.from_extracted`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmbench.data import load_samples
from vlmbench.errors import DataError
from vlmbench.extract import get_extractor
from vlmbench.judge import Judge, JudgedScore, judge_samples, judged_summary, judged_tasks
from vlmbench.metrics import score_intervals
from vlmbench.predictions import read_predictions
from vlmbench.registry import get_task, task_aliases
from vlmbench.schema import Sample
from vlmbench.scoring import SampleScore, aggregate, get_scorer
from vlmbench.scoring.base import SEMANTICS_EXTRACTED, SEMANTICS_RESPONSE
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
    semantics: str = SEMANTICS_RESPONSE
    judged: list[JudgedScore] | None = None  # with a judge: each sample's judged score, in sample order
    judge: dict[str, Any] | None = None  # with a judge: the judged column (vlmbench.judge.judged_summary)

    def to_json(self) -> dict[str, Any]:
        scorer = get_scorer(self.task.scorer)
        extractor = get_extractor(self.task.extractor)
        return {
            "task": self.task.name,
            "version": self.task.version,
            "n": len(self.scores),
            "n_missing": self.n_missing,
            "n_unknown": len(self.unknown_ids),
            "semantics": self.semantics,
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
                    "semantics": self.semantics,
                    **({"extra": s.extra} if s.extra else {}),
                    **({"judge": self.judged[i].to_dict()} if self.judged else {}),
                }
                for i, s in enumerate(self.scores)
            ],
            **({"judge": self.judge} if self.judge else {}),
            "unknown_ids": self.unknown_ids,
        }


def score_samples(
    spec: TaskSpec,
    samples: list[Sample],
    predictions: dict[str, tuple[str, bool]],
    *,
    extracted: bool = False,
) -> tuple[list[SampleScore], dict[str, Any]]:
    """Score `{id: (text, truncated)}` against samples; the shared core of rescoring and eval. With
    `extracted`, each text is an answer already extracted (truncation does not apply to it)."""
    scorer = get_scorer(spec.scorer)
    extractor = get_extractor(spec.extractor)
    scores = []
    for sample in samples:
        if sample.id in predictions:
            text, truncated = predictions[sample.id]
            if extracted:
                scores.append(scorer.score_extracted(text, sample))
            else:
                scores.append(scorer.score(text, sample, extractor, truncated=truncated))
        else:
            scores.append(scorer.missing(sample))
    metrics = aggregate(scorer, samples, scores, spec.metrics.breakdowns)
    if samples:
        values = {"official": [s.official for s in scores], "robust": [s.robust for s in scores]}
        metrics.update(score_intervals(scorer, samples, values, metrics))
    return scores, metrics


def judge_predictions(
    spec: TaskSpec, samples: list[Sample], predictions: dict[str, tuple[str, bool]], judge: Judge
) -> tuple[list[JudgedScore], dict[str, Any]]:
    """Raw responses through the task's reference LLM extractor (`--judge`): each sample's judged score
    and the judged column. A sample without a prediction scores 0 as `no response`."""
    if spec.judge is None:
        known = ", ".join(judged_tasks()) or "none"
        raise DataError(f"--judge: {spec.name} has no reference LLM extractor (tasks with one: {known})")
    pairs = [(s, predictions[s.id][0] if s.id in predictions else None) for s in samples]
    judged = judge_samples(spec, judge, pairs)
    proto = {"task": spec.name, "task_version": spec.version}  # a predictions file has no run protocol
    summary = judged_summary(
        spec, samples, {s.id: j for s, j in zip(samples, judged, strict=True)}, proto, judge.model
    )
    return judged, summary


def score_predictions(
    task: str | TaskSpec,
    predictions: str | Path,
    data: str | Path | None = None,
    limit: int | None = None,
    synth: dict[str, int] | None = None,
    extracted: bool = False,
    judge: Judge | None = None,
) -> ScoreReport:
    """Score a predictions file; `synth` overrides a procedural task's n / difficulty / seed. With
    `extracted`, each prediction is taken as the final extracted answer (see the module docstring)."""
    spec = get_task(task) if isinstance(task, str) else task
    samples = load_samples(spec, data, limit=limit, synth=synth)
    by_id = read_predictions(Path(predictions))
    known = {s.id for s in samples}
    texts = {k: (p.text, p.truncated) for k, p in by_id.items()}
    scores, metrics = score_samples(spec, samples, texts, extracted=extracted)
    if judge is not None and extracted:
        raise DataError("--judge reads raw responses; --extracted predictions are already extracted")
    judged, summary = judge_predictions(spec, samples, texts, judge) if judge is not None else (None, None)
    return ScoreReport(
        task=spec,
        samples=samples,
        scores=scores,
        metrics=metrics,
        n_missing=sum(1 for s in scores if s.missing),
        unknown_ids=sorted(i for i in by_id if i not in known),
        semantics=SEMANTICS_EXTRACTED if extracted else SEMANTICS_RESPONSE,
        judged=judged,
        judge=summary,
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


def rescore_run(
    run_dir: str | Path, task: str | None = None, judge: Judge | None = None
) -> list[TaskRescore]:
    """Recompute every score and metric of a run from its samples files alone - no model, no data
    folder, no images - with the current extractors and scorers. Nothing on disk changes. Failed
    samples stay failed (scored wrong, counted in n_failed). A judged column is recomputed from what the
    judge read; with `judge`, rows without its verdict are judged (cached calls, nothing written)."""
    from vlmbench.records.rundir import RunStore, sample_from_row
    from vlmbench.runner import judged_block, rejudge, rescore_row, stale_samples, summarize

    store = RunStore(Path(run_dir))
    record = store.read_run()
    if record is None:
        raise DataError(f"{run_dir}: not a run directory (no run.json)")
    names = list(record["tasks"])
    if task is not None:
        task = task_aliases().get(task, task)  # an alias names the task the record has
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
        task_judge = judge if spec.judge is not None else None
        model = task_judge.model if task_judge else (stored.get("judge") or {}).get("model")
        if task_judge is not None:  # judged in memory only: rescoring never writes
            rejudge(spec, task_judge, stale_samples(spec, samples, rescored, task_judge), rescored)
        if model is not None:
            summary["judge"] = judged_block(spec, samples, rescored, record["tasks"][name]["protocol"], model)
        out.append(TaskRescore(name, stored, summary, changed, note))
    return out
