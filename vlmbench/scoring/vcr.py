"""VCR = Visual Commonsense Reasoning (Zellers et al., CVPR 2019), not Visual Caption Restoration.

Each annotation becomes two samples: `<annot_id>:q2a` (pick the answer) and `<annot_id>:qa2r` (pick the
rationale, given the *gold* answer in the prompt). As rowanz/r2c `eval_q2ar.py` computes: Q->A and QA->R
are accuracies over their samples; Q->AR counts a question right only when both of its samples are
right (never the product of the two accuracies). A question missing either sample is wrong in Q->AR.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from vlmbench.schema import Sample
from vlmbench.scoring.base import SampleScore
from vlmbench.scoring.choice_rules import strict_letter
from vlmbench.scoring.multiple_choice import ChoiceScorer

SUBTASKS = ("q2a", "qa2r")


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def vcr_metrics(samples: Sequence[Sample], correct: Sequence[float]) -> dict[str, float | None]:
    by_subtask: dict[str, list[float]] = {s: [] for s in SUBTASKS}
    per_question: dict[str, dict[str, float]] = defaultdict(dict)
    for sample, value in zip(samples, correct, strict=True):
        subtask = sample.meta.get("vcr_subtask", "q2a")
        by_subtask[subtask].append(value)
        per_question[str(sample.meta.get("annot_id", sample.id))][subtask] = value
    joint = [float(all(q.get(s, 0.0) >= 1.0 for s in SUBTASKS)) for q in per_question.values()]
    return {"q2a": _mean(by_subtask["q2a"]), "qa2r": _mean(by_subtask["qa2r"]), "q2ar": _mean(joint)}


class VCRScorer(ChoiceScorer):
    id = "vcr"
    version = "1"
    metric = "q2ar"
    official_convention = (
        "rowanz/r2c eval_q2ar: Q->A, QA->R (gold answer given) and per-question Q->AR; a generated "
        "response maps to an option only when it is one letter (B, (B), B.)"
    )

    def read_letter(self, response: str, sample: Sample) -> str | None:
        return strict_letter(response, sample)

    def task_metrics(self, samples: Sequence[Sample], scores: Sequence[SampleScore]) -> dict[str, Any]:
        official = vcr_metrics(samples, [s.official for s in scores])
        robust = vcr_metrics(samples, [s.robust for s in scores])
        return {**official, **{f"{k}_robust": v for k, v in robust.items()}}

    def headline(self, samples: Sequence[Sample], scores: Sequence[SampleScore]) -> tuple[float, float]:
        official = vcr_metrics(samples, [s.official for s in scores])["q2ar"] or 0.0
        robust = vcr_metrics(samples, [s.robust for s in scores])["q2ar"] or 0.0
        return official, robust

    def headline_units(self, samples: Sequence[Sample]) -> int:
        """Q->AR is counted per question, and each question has two samples."""
        return len({str(s.meta.get("annot_id", s.id)) for s in samples})
