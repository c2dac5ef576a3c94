"""Scoring another harness's file both ways, sample by sample: "why is my number different".

Each task sample gets one `Reading` per way of scoring it, in `READINGS` order:
- `theirs`: the harness's own extraction and the verdict it stored (where the file has them);
- `extracted`: that extraction through the task's official normalisation and equality only
  (`Scorer.from_extracted`, semantics `extracted`);
- `official` / `robust`: the raw response through vlmbench's two conventions (semantics `response`);
- `judge`: with `--judge`, the raw response through the task's reference LLM extractor and the official
  normalisation (vlmbench.judge); no verdict without a judge, or where the judge call failed.
A row *differs* when its verdicts do not all agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmbench.data import load_samples
from vlmbench.importers.base import ForeignFile, ForeignSample, ImportOptions
from vlmbench.importers.registry import get_reader, read_foreign
from vlmbench.judge import Judge, JudgedScore
from vlmbench.registry import get_task
from vlmbench.rescore import judge_predictions, score_samples
from vlmbench.schema import Sample
from vlmbench.scoring import SampleScore
from vlmbench.scoring.base import SEMANTICS_EXTRACTED, SEMANTICS_RESPONSE
from vlmbench.taskspec import TaskSpec

READINGS = ("theirs", "extracted", "official", "robust", "judge")


@dataclass(frozen=True)
class Reading:
    """What one way of scoring read from a sample, and its verdict (None: this way has none)."""

    read: str | None
    verdict: float | None


@dataclass(frozen=True)
class Row:
    id: str
    gold: str
    missing: bool  # the file has no record for this task sample
    readings: dict[str, Reading]

    @property
    def differs(self) -> bool:
        verdicts = {round(r.verdict, 6) for r in self.readings.values() if r.verdict is not None}
        return not self.missing and len(verdicts) > 1


@dataclass
class ImportReport:
    """Everything `vlmbench score --from` prints; `to_json()` is the `--json` contract."""

    task: TaskSpec
    foreign: ForeignFile
    rows: list[Row]
    metrics: dict[str, dict[str, Any] | None]  # by semantics: "response", "extracted" (None: no extraction)
    judge: dict[str, Any] | None = None  # with --judge: the judged column (vlmbench.judge.judged_summary)

    @property
    def n_missing(self) -> int:
        return sum(1 for r in self.rows if r.missing)

    def semantics(self) -> dict[str, str]:
        return {
            "theirs": self.foreign.format,
            "extracted": SEMANTICS_EXTRACTED,
            "official": SEMANTICS_RESPONSE,
            "robust": SEMANTICS_RESPONSE,
            "judge": self.judge["label"] if self.judge else "none",
        }

    def scores(self) -> dict[str, float | None]:
        """The task's headline under each reading; `theirs` is the mean of the stored verdicts (missing
        samples and samples without one count as wrong), None when the file stores none."""
        n = len(self.rows)
        theirs = None
        if self.foreign.has_verdict and n:
            theirs = sum(r.readings["theirs"].verdict or 0.0 for r in self.rows) / n
        extracted = self.metrics.get(SEMANTICS_EXTRACTED)
        response = self.metrics[SEMANTICS_RESPONSE] or {}
        return {
            "theirs": theirs,
            "extracted": extracted["official"] if extracted else None,
            "official": response.get("official"),
            "robust": response.get("robust"),
            "judge": self.judge["official"] if self.judge else None,
        }

    def agreement(self) -> dict[str, tuple[int, int] | None]:
        """Per reading: (samples whose verdict equals the stored one, samples compared)."""
        out: dict[str, tuple[int, int] | None] = {"theirs": None}
        for name in READINGS[1:]:
            pairs = [
                (r.readings[name].verdict, r.readings["theirs"].verdict)
                for r in self.rows
                if not r.missing and r.readings[name].verdict is not None
            ]
            pairs = [(ours, theirs) for ours, theirs in pairs if theirs is not None]
            agree = sum(1 for ours, theirs in pairs if round(ours, 6) == round(theirs, 6))
            out[name] = (agree, len(pairs)) if pairs else None
        return out

    def differing(self) -> list[Row]:
        return [r for r in self.rows if r.differs]

    def to_json(self) -> dict[str, Any]:
        scores, agreement, semantics = self.scores(), self.agreement(), self.semantics()
        return {
            "format": self.foreign.format,
            "file": str(self.foreign.path),
            "task": self.task.name,
            "version": self.task.version,
            "n": len(self.rows),
            "n_matched": len(self.rows) - self.n_missing,
            "n_missing": self.n_missing,
            "n_unknown": len(self.foreign.unknown_ids),
            "unknown_ids": self.foreign.unknown_ids,
            "has_extraction": self.foreign.has_extraction,
            "has_verdict": self.foreign.has_verdict,
            "n_differ": len(self.differing()),
            "readings": {
                name: {
                    "semantics": semantics[name],
                    "score": scores[name],
                    "agree_with_theirs": (
                        {"agree": agreement[name][0], "of": agreement[name][1]} if agreement[name] else None
                    ),
                }
                for name in READINGS
            },
            "metrics": self.metrics,
            "rows": [
                {
                    "id": r.id,
                    "gold": r.gold,
                    "missing": r.missing,
                    "differs": r.differs,
                    "readings": {k: {"read": v.read, "verdict": v.verdict} for k, v in r.readings.items()},
                }
                for r in self.rows
            ],
        }


def gold_text(sample: Sample) -> str:
    """The gold answer as a reader checks it: `B: <option text>` for multiple choice."""
    if sample.choices and sample.answer_letter:
        return f"{sample.answer_letter}: {sample.answer}"
    return sample.answer


def _readings(
    theirs: ForeignSample | None,
    extracted: SampleScore | None,
    response: SampleScore,
    judged: JudgedScore | None = None,
) -> dict[str, Reading]:
    """One sample's readings, in `READINGS` order."""
    if theirs is None:  # no record: nothing was read, nothing to compare
        return dict.fromkeys(READINGS, Reading(None, None))
    judge = (
        Reading(judged.extracted, judged.score) if judged and judged.error is None else Reading(None, None)
    )
    return {
        "theirs": Reading(theirs.extraction, theirs.verdict),
        "extracted": Reading(extracted.extracted, extracted.official) if extracted else Reading(None, None),
        "official": Reading(response.official_extracted, response.official),
        "robust": Reading(response.extracted, response.robust),
        "judge": judge,
    }


def score_foreign(
    task: str | TaskSpec,
    path: str | Path,
    fmt: str,
    data: str | Path | None = None,
    limit: int | None = None,
    options: ImportOptions | None = None,
    judge: Judge | None = None,
) -> ImportReport:
    """Read `path` (format `fmt`) and score it against the task's samples both ways (and, with `judge`,
    through the task's reference LLM extractor)."""
    spec = get_task(task) if isinstance(task, str) else task
    get_reader(fmt)  # an unknown format fails before any data is loaded
    samples = load_samples(spec, data, limit=limit)
    foreign = read_foreign(fmt, path, [s.id for s in samples], options)
    by_id = {s.id: s for s in foreign.samples}
    responses = {i: (s.response, False) for i, s in by_id.items()}
    response_scores, response_metrics = score_samples(spec, samples, responses)
    metrics: dict[str, dict[str, Any] | None] = {SEMANTICS_RESPONSE: response_metrics}
    extracted_scores: list[SampleScore | None] = [None] * len(samples)
    metrics[SEMANTICS_EXTRACTED] = None
    if foreign.has_extraction:
        given = {i: (s.extraction, False) for i, s in by_id.items() if s.extraction is not None}
        scored, metrics[SEMANTICS_EXTRACTED] = score_samples(spec, samples, given, extracted=True)
        extracted_scores = [s if s.id in given else None for s in scored]
    judged: list[JudgedScore | None] = [None] * len(samples)
    summary = None
    if judge is not None:
        scored_by_judge, summary = judge_predictions(spec, samples, responses, judge)
        judged = list(scored_by_judge)
    rows = [
        Row(
            id=sample.id,
            gold=gold_text(sample),
            missing=sample.id not in by_id,
            readings=_readings(by_id.get(sample.id), extracted, response, judged_one),
        )
        for sample, extracted, response, judged_one in zip(
            samples, extracted_scores, response_scores, judged, strict=True
        )
    ]
    return ImportReport(spec, foreign, rows, metrics, summary)
