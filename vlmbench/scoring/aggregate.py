"""From per-sample scores to a task's metrics: headline numbers, unparsed rate, breakdowns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from vlmbench.schema import Sample
from vlmbench.scoring.base import SampleScore, Scorer


def _reader(field: str) -> Callable[[Sample], Any]:
    """A function reading a breakdown field (`meta.a.b` or a Sample attribute), resolved once."""
    if not field.startswith("meta."):
        return lambda sample: getattr(sample, field, None)
    parts = field[len("meta.") :].split(".")

    def read(sample: Sample) -> Any:
        node: Any = sample.meta
        for part in parts:
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node

    return read


def _label(value: Any) -> str:
    """`answer_type` groups as "integer", not "AnswerType.INTEGER" (str() of a str-valued Enum)."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def breakdown(
    samples: Sequence[Sample], scores: Sequence[SampleScore], field: str
) -> dict[str, dict[str, float | int]]:
    """Mean scores per value of a field; list fields (MathVista skills) count once per value."""
    read = _reader(field)
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for sample, score in zip(samples, scores, strict=True):
        value = read(sample)
        if value is None or value == "":
            continue
        for item in value if isinstance(value, (list, tuple)) else (value,):
            acc = sums[item if type(item) is str else _label(item)]  # a plain str is its own label
            acc[0] += 1
            acc[1] += score.official
            acc[2] += score.robust
    return {
        value: {"n": int(n), "official": official / n, "robust": robust / n}
        for value, (n, official, robust) in sorted(sums.items())
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
