"""Metrics beyond the official score: step quality, token efficiency, reward-hacking indicators, text
overlap - per sample (`sample_metrics`) and per run with 95% intervals (`aggregate_metrics`).

Pure functions over sample rows (`runs/<id>/samples/<task>.jsonl`) and Samples: everything here is
recomputable from a run's records without the model, and never imports torch, transformers or
`vlmbench.models`. See docs/metrics.md for what each metric can and cannot see.
"""

from __future__ import annotations

from collections.abc import Sequence
from string import Formatter
from typing import TYPE_CHECKING, Any

import numpy as np

from vlmbench.metrics.efficiency import efficiency_sample, efficiency_summary
from vlmbench.metrics.hacking import hacking_sample, length_outliers
from vlmbench.metrics.reasoning import (
    LEXICON_VERSION,
    METRICS_VERSION,
    StepCheck,
    chain_metrics,
    reasoning_metrics,
    split_chain,
    step_accuracy,
)
from vlmbench.metrics.text import TEXT_METRICS, text_metrics
from vlmbench.schema import LETTERS, Sample
from vlmbench.stats import bootstrap_ratios, cluster_codes, percentile_interval, wilson_interval_clustered

if TYPE_CHECKING:
    from vlmbench.scoring.base import Scorer
    from vlmbench.taskspec import TaskSpec

# (group, per-sample key, summary name, kind): "rate" keys are booleans (Wilson interval), "mean"
# keys numbers (bootstrap interval). None values are not measurable for that sample: counted apart.
SUMMARY: tuple[tuple[str, str, str, str], ...] = (
    ("reasoning", "steps", "steps", "mean"),
    ("reasoning", "chain_tokens", "chain_tokens", "mean"),
    ("reasoning", "backtracks", "backtracks", "mean"),
    ("reasoning", "backtrack_rate", "backtracks_per_100_steps", "mean"),
    ("reasoning", "step_accuracy", "step_accuracy", "mean"),
    ("reasoning", "answer_chain_consistent", "answer_chain_consistency", "rate"),
    ("reasoning", "info_use", "info_use", "mean"),
    ("reasoning", "info_use_numbers", "info_use_numbers", "mean"),
    ("reasoning", "info_use_choices", "info_use_choices", "mean"),
    ("reasoning", "format_ok", "format_compliance", "rate"),
    ("efficiency", "output_tokens", "output_tokens", "mean"),
    ("efficiency", "reasoning_tokens", "reasoning_tokens", "mean"),
    ("efficiency", "answer_tokens", "answer_tokens", "mean"),
    ("efficiency", "truncated", "truncation_rate", "rate"),
    ("efficiency", "seconds", "latency_mean", "mean"),
    ("hacking", "hack_no_reasoning", "no_reasoning_rate", "rate"),
    ("hacking", "hack_format_only", "format_only_rate", "rate"),
    ("hacking", "repeat_4gram_share", "repeat_4gram_share", "mean"),
    ("hacking", "hack_repetition", "repetition_rate", "rate"),
    ("hacking", "hack_inconsistent", "inconsistent_rate", "rate"),
)


def references(sample: Sample) -> list[str]:
    """Gold answer plus any accepted alternatives (meta.references)."""
    extra = sample.meta.get("references") or []
    return [sample.answer, *(str(r) for r in extra if str(r) != sample.answer)]


def _prediction(row: dict[str, Any], sample: Sample, answer_part: str) -> str:
    """What text metrics compare: the extracted answer (a choice letter as its option's text), else
    the answer part of the output."""
    extracted = row.get("extracted")
    if extracted is None:
        return answer_part.strip()
    if sample.choices and len(extracted) == 1 and extracted.upper() in LETTERS[: len(sample.choices)]:
        return sample.choices[LETTERS.index(extracted.upper())]
    return str(extracted)


def sample_metrics(row: dict[str, Any], sample: Sample, spec: TaskSpec, style: str) -> dict[str, Any]:
    """Every per-sample metric of one sample row (JSON-safe; None = not measurable here)."""
    output = row.get("output") or ""
    chain = split_chain(output)
    template = spec.prompts.templates.get(style, "")
    reasoning = chain_metrics(
        output,
        chain,
        question=sample.question,
        choices=sample.choices,
        extracted=row.get("extracted"),
        n_output_tokens=row.get("n_output_tokens"),
        expect_answer_line="answer:" in template.lower(),
    )
    out = {**reasoning, **efficiency_sample(row, chain)}
    out.update(
        hacking_sample(
            output,
            chain,
            cot=style == "cot",
            extracted=row.get("extracted"),
            consistent=reasoning["answer_chain_consistent"],
        )
    )
    if spec.metrics.text_metrics:
        scores = text_metrics(
            _prediction(row, sample, chain.answer), references(sample), spec.metrics.text_metrics
        )
        out.update({f"text_{name}": value for name, value in scores.items()})
    return out


def infer_style(spec: TaskSpec, prompt: str | None) -> str:
    """Which prompt template produced `prompt`: the style whose longest literal text it contains."""
    if prompt:
        best, best_len = None, 0
        for style, template in spec.prompts.templates.items():
            literal = max((text.strip() for text, *_ in Formatter().parse(template)), key=len, default="")
            if literal and literal in prompt and len(literal) > best_len:
                best, best_len = style, len(literal)
        if best is not None:
            return best
    return spec.prompts.default


def cluster_key(sample: Sample) -> str:
    """Questions on one image are one cluster: the image id or path(s), else the sample's own id."""
    meta = sample.meta
    for key in ("image_id", "imageId", "image"):
        value = meta.get(key)
        if value is not None and isinstance(value, (str, int)) and str(value):
            return f"image:{value}"
    paths = [ref.path for ref in sample.images if ref.path]
    return "image:" + "|".join(paths) if paths else f"sample:{sample.id}"


def score_intervals(
    scorer: Scorer, samples: Sequence[Sample], values: dict[str, Sequence[float]], metrics: dict[str, Any]
) -> dict[str, list[float]]:
    """`{key}_ci95` for each headline key ("official", "robust"): a Wilson interval clustered by image
    when the headline has one unit per sample, else (VCR's Q->AR, counted per question) a plain Wilson
    interval over the scorer's own units. The one rule behind every interval vlmbench shows."""
    from vlmbench.stats import wilson_interval, wilson_interval_clustered

    units = scorer.headline_units(samples)
    clusters: np.ndarray | None = None
    out = {}
    for key, scores in values.items():
        if units == len(scores):
            if clusters is None:  # coded once for every key (first-seen codes: the same intervals)
                clusters = cluster_codes([cluster_key(s) for s in samples])
            interval = wilson_interval_clustered(list(scores), clusters)
        else:
            interval = wilson_interval(metrics[key] * units, units)
        out[f"{key}_ci95"] = list(interval)
    return out


def _summary(column: np.ndarray, kind: str, clusters: np.ndarray, draws: np.ndarray | None) -> dict[str, Any]:
    """Mean, interval, n measured and n not measurable (NaN) of one metric column."""
    keep = ~np.isnan(column)
    n = int(keep.sum())
    out: dict[str, Any] = {"mean": None, "ci95": None, "n": n, "n_unverifiable": int(column.size - n)}
    if not n:
        return out
    numbers = column[keep]
    out["mean"] = float(numbers.mean())
    if kind == "rate":
        out["ci95"] = list(wilson_interval_clustered(numbers, clusters[keep]))
    elif draws is not None:
        interval = percentile_interval(draws)
        out["ci95"] = list(interval) if interval else None
    return out


def aggregate_metrics(
    rows: list[dict[str, Any]],
    samples: list[Sample],
    spec: TaskSpec,
    *,
    n_params: int | None = None,
    n_gpus: int | None = None,
    style: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Run-level metrics of a task with 95% intervals: Wilson for rates, a cluster bootstrap (seeded)
    for means, clustered by image. Rows are matched to samples by id, in dataset order; a row without
    its sample is left out. `style` defaults to the style the rows' prompts were rendered from."""
    by_id = {row["id"]: row for row in rows}
    pairs = [(by_id[s.id], s) for s in samples if s.id in by_id]
    style = style or infer_style(spec, pairs[0][0].get("prompt") if pairs else None)
    per = [sample_metrics(row, sample, spec, style) for row, sample in pairs]
    labels = [cluster_key(sample) for _, sample in pairs]
    clusters = cluster_codes(labels)
    names = list(SUMMARY) + [("text", f"text_{m}", m, "mean") for m in spec.metrics.text_metrics]
    keys = [key for _, key, _, _ in names]
    nan = float("nan")
    values = np.array([[nan if p[k] is None else float(p[k]) for k in keys] for p in per], float)
    values = values.reshape(len(per), len(keys))
    means = [i for i, (_, _, _, kind) in enumerate(names) if kind == "mean"]
    official = np.array([float(r.get("official") or 0.0) for r, _ in pairs])
    draws = _bootstrap(per, values[:, means], official, clusters, n_boot, seed)
    result: dict[str, Any] = {
        "metrics_version": METRICS_VERSION,
        "lexicon_version": LEXICON_VERSION,
        "style": style,
        "n": len(per),
        "n_clusters": len(set(labels)),
        "reasoning": {},
        "efficiency": {},
        "hacking": {},
    }
    if spec.metrics.text_metrics:
        result["text"] = {}
    for i, (group, _, name, kind) in enumerate(names):
        column = draws[:, means.index(i)] if kind == "mean" and draws is not None else None
        result[group][name] = _summary(values[:, i], kind, clusters, column)
    claims = sum(p["step_claims"] for p in per)
    result["reasoning"]["step_accuracy_micro"] = {
        "value": sum(p["step_correct"] for p in per) / claims if claims else None,
        "ci95": _interval(draws, -2) if claims else None,
        "n": claims,
    }
    result["efficiency"].update(
        efficiency_summary([r for r, _ in pairs], per, n_params=n_params, n_gpus=n_gpus)
    )
    result["efficiency"]["tokens_per_correct_ci95"] = _interval(draws, -1) if official.sum() > 0 else None
    outliers = length_outliers([p["output_tokens"] for p in per], [s.id for _, s in pairs])
    flagged = set(outliers)
    flags = np.array([float(s.id in flagged) for _, s in pairs])
    result["hacking"]["length_outlier_rate"] = _summary(flags, "rate", clusters, None)
    result["hacking"]["length_outliers"] = outliers
    return result


def _bootstrap(
    per: Sequence[dict[str, Any]],
    values: np.ndarray,
    official: np.ndarray,
    clusters: np.ndarray,
    n_boot: int,
    seed: int,
) -> np.ndarray | None:
    """One cluster bootstrap for every mean and ratio (one set of resamples, shared by all columns):
    the mean columns (NaN: not measured), then claims right / claims checked, then output tokens /
    correct answers."""
    if not per:
        return None
    present = ~np.isnan(values)
    ratios = np.array([[p["step_correct"], p["step_claims"], p["output_tokens"]] for p in per], float)
    num = np.column_stack([np.where(present, values, 0.0), ratios[:, 0], ratios[:, 2]])
    den = np.column_stack([present.astype(float), ratios[:, 1], official])
    return bootstrap_ratios(num, den, clusters, n_boot=n_boot, seed=seed)


def _interval(draws: np.ndarray | None, column: int) -> list[float] | None:
    if draws is None:
        return None
    interval = percentile_interval(draws[:, column])
    return list(interval) if interval else None


__all__ = [
    "LEXICON_VERSION",
    "METRICS_VERSION",
    "SUMMARY",
    "TEXT_METRICS",
    "StepCheck",
    "aggregate_metrics",
    "cluster_key",
    "infer_style",
    "reasoning_metrics",
    "sample_metrics",
    "step_accuracy",
]
