"""From per-sample scores to a task's metrics: headline numbers, unparsed rate, breakdowns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

from vlmbench.schema import Sample
from vlmbench.scoring.base import SampleScore, Scorer


def _values(sample: Sample, field: str) -> Iterable[str]:
    """A breakdown field's values for a sample; list fields (MathVista skills) count once per value."""
    value = sample.meta_value(field) if field.startswith("meta.") else getattr(sample, field, None)
    if value is None or value == "":
        return ()
    if isinstance(value, list | tuple):
        return tuple(_label(v) for v in value)
    return (_label(value),)


def _label(value: Any) -> str:
    """`answer_type` groups as "integer", not "AnswerType.INTEGER" (str() of a str-valued Enum)."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def breakdown(
    samples: Sequence[Sample], scores: Sequence[SampleScore], field: str
) -> dict[str, dict[str, float | int]]:
    groups: dict[str, list[SampleScore]] = defaultdict(list)
    for sample, score in zip(samples, scores, strict=True):
        for value in _values(sample, field):
            groups[value].append(score)
    return {
        value: {
            "n": len(members),
            "official": sum(s.official for s in members) / len(members),
            "robust": sum(s.robust for s in members) / len(members),
        }
        for value, members in sorted(groups.items())
    }


def aggregate(
    scorer: Scorer,
    samples: Sequence[Sample],
    scores: Sequence[SampleScore],
    breakdowns: Sequence[str] = (),
) -> dict[str, Any]:
    """The `metrics` object of a scoring result (see `vlmbench score --json`)."""
    official, robust = scorer.headline(samples, scores)
    n = len(scores)
    unparsed = sum(1 for s in scores if s.status != "ok")
    metrics: dict[str, Any] = {
        "official": official,
        "robust": robust,
        "unparsed_rate": unparsed / n if n else 0.0,
        "ambiguous_rate": sum(1 for s in scores if s.status == "ambiguous") / n if n else 0.0,
    }
    metrics.update(scorer.task_metrics(samples, scores))
    extra_names = sorted({k for s in scores for k in s.extra})
    for name in extra_names:
        metrics[name] = sum(s.extra.get(name, 0.0) for s in scores) / n
    parts = {field.removeprefix("meta."): breakdown(samples, scores, field) for field in breakdowns}
    metrics["breakdowns"] = {k: v for k, v in parts.items() if v}
    return metrics
