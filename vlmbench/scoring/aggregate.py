"""From per-sample scores to a task's metrics: headline numbers, unparsed rate, breakdowns."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from itertools import repeat
from typing import Any

import numpy as np

from vlmbench.schema import Sample
from vlmbench.scoring.base import SampleScore, Scorer


def _label(value: Any) -> str:
    """`answer_type` groups as "integer", not "AnswerType.INTEGER" (str() of a str-valued Enum)."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def breakdown(
    samples: Sequence[Sample], scores: Sequence[SampleScore], field: str
) -> dict[str, dict[str, float | int]]:
    """Mean scores per value of a field; list fields (MathVista skills) count once per value."""
    _same_length(samples, scores)
    return _breakdown(_values(samples, field, {}), *_score_arrays(scores))


def _same_length(samples: Sequence[Sample], scores: Sequence[SampleScore]) -> None:
    if len(samples) != len(scores):
        raise ValueError(f"{len(samples)} samples but {len(scores)} scores")


def _score_arrays(scores: Sequence[SampleScore]) -> tuple[np.ndarray, np.ndarray]:
    """The official and robust columns as float arrays, built once for every breakdown field."""
    n = len(scores)
    return (
        np.fromiter((s.official for s in scores), float, n),
        np.fromiter((s.robust for s in scores), float, n),
    )


def _values(samples: Sequence[Sample], field: str, memo: dict[str, list[Any]]) -> list[Any]:
    """Each sample's value of a field (`meta.a.b`, None where a level is no dict, or a Sample
    attribute), a column at a time. `memo` holds the columns read so far: `meta.metadata.*` fields
    read `metadata` once."""
    if field in memo:
        return memo[field]
    if not field.startswith("meta."):
        values = [getattr(sample, field, None) for sample in samples]
    else:
        head, _, last = field.rpartition(".")
        parents = [sample.meta for sample in samples] if head == "meta" else _values(samples, head, memo)
        if set(map(type, parents)) <= {dict}:  # plain dicts (the usual case): read at C speed
            values = list(map(dict.get, parents, repeat(last)))
        else:
            values = [parent.get(last) if isinstance(parent, dict) else None for parent in parents]
    memo[field] = values
    return values


def _breakdown(
    values: list[Any], official: np.ndarray, robust: np.ndarray
) -> dict[str, dict[str, float | int]]:
    """`breakdown` from a field's column. np.bincount adds each group's scores one by one in sample
    order, the same float additions (so the same sums) as a Python loop."""
    rows: list[int] | None = None
    if set(map(type, values)) <= {str} and "" not in values:
        labels: list[str] = values  # the usual column: one plain, non-empty label per sample
    else:
        rows, labels = [], []
        for row, value in enumerate(values):
            if value is None or value == "":
                continue
            for item in value if isinstance(value, (list, tuple)) else (value,):
                rows.append(row)
                labels.append(item if type(item) is str else _label(item))  # a plain str is its own label
    index = {label: code for code, label in enumerate(dict.fromkeys(labels))}
    codes = np.fromiter(map(index.__getitem__, labels), np.intp, len(labels))
    size = len(index)
    counts = np.bincount(codes, minlength=size).tolist()
    official_sums = np.bincount(codes, official if rows is None else official[rows], size).tolist()
    robust_sums = np.bincount(codes, robust if rows is None else robust[rows], size).tolist()
    return {
        label: {
            "n": counts[c],
            "official": official_sums[c] / counts[c],
            "robust": robust_sums[c] / counts[c],
        }
        for label, c in sorted(index.items())
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
    statuses = [s.status for s in scores]
    metrics: dict[str, Any] = {
        "official": official,
        "robust": robust,
        "unparsed_rate": (n - statuses.count("ok")) / n if n else 0.0,
        "ambiguous_rate": statuses.count("ambiguous") / n if n else 0.0,
    }
    metrics.update(scorer.task_metrics(samples, scores))
    extra_names = sorted({k for s in scores if s.extra for k in s.extra})
    for name in extra_names:
        metrics[name] = sum(s.extra.get(name, 0.0) for s in scores) / n
    parts = {}
    if breakdowns:
        _same_length(samples, scores)
        columns: dict[str, list[Any]] = {}
        arrays = _score_arrays(scores)
        for field in breakdowns:
            parts[field.removeprefix("meta.")] = _breakdown(_values(samples, field, columns), *arrays)
    metrics["breakdowns"] = {k: v for k, v in parts.items() if v}
    return metrics
