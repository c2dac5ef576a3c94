"""NLVR2: accuracy and consistency, as lil-lab/nlvr `nlvr2/eval/metrics.py` defines them.

Accuracy: the prediction equals the label ("True"/"False") ignoring case. Consistency: the share of
unique sentences all of whose examples are correct, grouping by the identifier with its pair id blanked
(`split-set-pair-sentence` -> `split-set-sentence`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from vlmbench.extract import Extraction
from vlmbench.schema import Sample
from vlmbench.scoring.base import SampleScore, Scorer


def sentence_group(identifier: str) -> str:
    parts = identifier.split("-")
    if len(parts) >= 4:
        return "-".join([*parts[:-2], parts[-1]])
    return identifier


def consistency(samples: Sequence[Sample], correct: Sequence[float]) -> float | None:
    groups: dict[str, bool] = defaultdict(lambda: True)
    for sample, value in zip(samples, correct, strict=True):
        key = sentence_group(str(sample.meta.get("identifier") or sample.id))
        groups[key] = groups[key] and value >= 1.0
    return sum(groups.values()) / len(groups) if groups else None


def _label(sample: Sample) -> str:
    return "true" if sample.answer.strip().lower() in ("true", "yes") else "false"


class NLVR2Scorer(Scorer):
    id = "nlvr2"
    version = "1"
    official_convention = (
        "lil-lab/nlvr metrics.py: prediction == label ignoring case; consistency per sentence"
    )

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        read = response.strip()
        return float(read.lower() == sample.answer.strip().lower()), read

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """metrics.py compares predictions to labels as given: the same rule on a given answer."""
        return self.official(extracted, sample)

    def compare(self, extraction: Extraction, sample: Sample) -> float:
        said = "true" if extraction.answer == "yes" else "false"
        return float(said == _label(sample))

    def task_metrics(self, samples: Sequence[Sample], scores: Sequence[SampleScore]) -> dict[str, Any]:
        return {
            "consistency": consistency(samples, [s.official for s in scores]),
            "consistency_robust": consistency(samples, [s.robust for s in scores]),
        }
