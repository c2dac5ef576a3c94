"""Confidence intervals and paired tests for run summaries and `vlmbench compare`.

- `wilson_interval`: a proportion (accuracy, a rate); `wilson_interval_clustered` widens it by the
  design effect when several questions share one image (their answers are not independent).
- `bootstrap_ci` / `bootstrap_means`: percentile bootstrap of a mean, resampling clusters (images)
  rather than rows when clusters are given. Seeded: the same input always gives the same interval.
- `mcnemar_exact`: the exact McNemar test (two-sided binomial test on the discordant pairs), and
  `paired_proportion_interval` (Newcombe) for the difference of two paired accuracies.
- `paired_bootstrap`: difference of two paired means with its interval and a bootstrap p-value.

numpy is used for the resampling: 1,000 resamples of 100k rows are a few matrix products, where pure
Python would take minutes. scipy is never imported here (tests compare against it).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
N_BOOT = 1000
_CHUNK_CELLS = 4_000_000  # resamples x clusters held in memory at once (32 MB of float64)


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 0) when n == 0. Fractional successes are allowed
    (mean scores in 0..1), which is the usual normal-approximation reading of an accuracy."""
    if n <= 0:
        return 0.0, 0.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # the interval always holds p; rounding could put an end a hair past it (0 or n successes)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def design_effect(values: Sequence[float], clusters: Sequence[Hashable]) -> float:
    """Variance of the mean under clustering / variance under independence (>= 1 by convention).

    The clustered variance is the usual sandwich (sum over clusters of the squared residual sums);
    1.0 when every cluster holds one row or the values do not vary.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    codes, n_clusters = _codes(clusters)
    if n < 2 or n_clusters == n or n_clusters < 2:
        return 1.0
    resid = x - x.mean()
    iid = float(resid @ resid)
    if iid <= 0:
        return 1.0
    sums = np.bincount(codes, weights=resid, minlength=n_clusters)
    clustered = float(sums @ sums) * n_clusters / (n_clusters - 1)
    return max(1.0, clustered / iid)


def wilson_interval_clustered(
    values: Sequence[float], clusters: Sequence[Hashable] | None = None, z: float = Z95
) -> tuple[float, float]:
    """Wilson interval on the effective sample size n / design effect (Kish): questions that share an
    image count for less than independent ones. Without clusters it is `wilson_interval`."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    mean = float(np.mean(np.asarray(values, dtype=float)))
    deff = design_effect(values, clusters) if clusters is not None else 1.0
    n_eff = n / deff
    # wilson_interval takes an integer n; the formula itself is continuous in n
    return _wilson_continuous(mean, n_eff, z)


def _wilson_continuous(p: float, n: float, z: float) -> tuple[float, float]:
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def cluster_codes(clusters: Sequence[Hashable]) -> np.ndarray:
    """Cluster labels as integer codes, computed once for many intervals over the same rows."""
    return _codes(clusters)[0]


def _codes(clusters: Sequence[Hashable] | None, n: int | None = None) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 for cluster labels (first-seen order, so results are deterministic)."""
    if clusters is None:
        assert n is not None
        return np.arange(n), n
    if isinstance(clusters, np.ndarray) and clusters.dtype.kind in "iu":  # coded (maybe a subset): compact
        uniques, codes = np.unique(clusters, return_inverse=True)
        return codes.reshape(-1), len(uniques)
    index: dict[Hashable, int] = {}
    codes = np.fromiter(
        (index.setdefault(c, len(index)) for c in clusters), dtype=np.int64, count=len(clusters)
    )
    return codes, len(index)


def _resample_weights(n_clusters: int, n_boot: int, rng: np.random.Generator):
    """Yield blocks of bootstrap weights: row b counts how often each cluster was drawn."""
    block = max(1, min(n_boot, _CHUNK_CELLS // max(n_clusters, 1)))
    done = 0
    while done < n_boot:
        size = min(block, n_boot - done)
        draws = rng.integers(0, n_clusters, size=(size, n_clusters))
        draws += (np.arange(size) * n_clusters)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * n_clusters).reshape(size, n_clusters)
        yield counts.astype(float)
        done += size


def bootstrap_means(
    matrix: np.ndarray,
    clusters: Sequence[Hashable] | None = None,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> np.ndarray:
    """Bootstrap distribution of the column means of `matrix` (rows x metrics; NaN = missing).

    Clusters (e.g. images) are resampled whole and each resample's mean is the ratio of summed values
    to summed counts, so a column's missing rows simply do not count. Returns (n_boot, n_metrics);
    a resample in which a column has no value gives NaN there.
    """
    values = np.asarray(matrix, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    present = ~np.isnan(values)
    return bootstrap_ratios(
        np.where(present, values, 0.0), present.astype(float), clusters, n_boot=n_boot, seed=seed
    )


def bootstrap_ratios(
    numerators: np.ndarray,
    denominators: np.ndarray,
    clusters: Sequence[Hashable] | None = None,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> np.ndarray:
    """Bootstrap distribution of sum(numerator) / sum(denominator) per column (ratio estimators such
    as claims right / claims checked, or tokens / correct answers); NaN where a resample's sum is 0."""
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    if num.ndim == 1:
        num, den = num[:, None], den[:, None]
    codes, n_clusters = _codes(clusters, num.shape[0])
    if clusters is None:
        sums, counts = num, den
    else:
        sums = np.column_stack([np.bincount(codes, num[:, j], n_clusters) for j in range(num.shape[1])])
        counts = np.column_stack([np.bincount(codes, den[:, j], n_clusters) for j in range(den.shape[1])])
    rng = np.random.default_rng(seed)
    out = []
    for weights in _resample_weights(n_clusters, n_boot, rng):
        total, count = weights @ sums, weights @ counts
        safe = np.where(count != 0, count, 1.0)
        out.append(np.where(count != 0, total / safe, np.nan))
    return np.vstack(out)


def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of bootstrap draws (NaN draws ignored); None when there are none."""
    finite = draws[~np.isnan(draws)]
    if finite.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(
    values: Sequence[float | None],
    clusters: Sequence[Hashable] | None = None,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; None values are skipped, None when none is left."""
    column = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if not np.any(~np.isnan(column)):
        return None
    return percentile_interval(bootstrap_means(column, clusters, n_boot=n_boot, seed=seed)[:, 0], level)


def _log_binom_pmf(k: int, n: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b (A right, B wrong) and c.

    Under the null the b + c discordant pairs split as Binomial(b + c, 1/2); the p-value is twice the
    smaller tail, capped at 1 (the symmetric binomial makes this the likelihood-ordering test too).
    Summed in log space, so a million discordant pairs neither overflow nor underflow.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got {b} and {c}")
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    logs = [_log_binom_pmf(i, n) for i in range(k + 1)]
    top = max(logs)
    tail = math.exp(top + math.log(sum(math.exp(v - top) for v in logs)))
    return min(1.0, 2.0 * tail)


def paired_proportion_interval(
    both: int, only_a: int, only_b: int, neither: int, z: float = Z95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for p_A - p_B on paired 0/1 outcomes.

    It combines the two Wilson intervals with the correlation of the pairs; unlike a percentile
    bootstrap it stays sensible with few discordant pairs (two flips out of 200 do not exclude 0).
    """
    n = both + only_a + only_b + neither
    if n == 0:
        return 0.0, 0.0
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson_interval(both + only_a, n, z)
    l2, u2 = wilson_interval(both + only_b, n, z)
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    phi = (both * neither - only_a * only_b) / math.sqrt(margins) if margins else 0.0
    diff = p1 - p2
    lower = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    upper = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return max(-1.0, diff - lower), min(1.0, diff + upper)


@dataclass(frozen=True)
class PairedResult:
    """A paired difference `mean(a) - mean(b)` with its percentile interval and two-sided p-value."""

    n: int
    mean_a: float
    mean_b: float
    diff: float
    ci95: tuple[float, float]
    p_value: float

    def to_json(self) -> dict[str, float | int | list[float]]:
        return {
            "n": self.n,
            "mean_a": self.mean_a,
            "mean_b": self.mean_b,
            "diff": self.diff,
            "ci95": list(self.ci95),
            "p_value": self.p_value,
        }


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    clusters: Sequence[Hashable] | None = None,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> PairedResult:
    """Paired bootstrap of the mean difference (pairs, or clusters of pairs, resampled together).

    The p-value is twice the share of resampled differences on the far side of zero (at least one
    resample's worth, 1 / (n_boot + 1), so it is never reported as exactly 0); 1 when a == b everywhere.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("paired samples must be two equally long sequences")
    if x.size == 0:
        raise ValueError("paired bootstrap of no pairs")
    d = x - y
    diff = float(d.mean())
    draws = bootstrap_means(d, clusters, n_boot=n_boot, seed=seed)[:, 0]
    interval = percentile_interval(draws) or (diff, diff)
    if not np.any(d):
        p = 1.0
    else:
        below, above = float(np.mean(draws <= 0)), float(np.mean(draws >= 0))
        p = min(1.0, max(2 * min(below, above), 1.0 / (n_boot + 1)))
    return PairedResult(int(x.size), float(x.mean()), float(y.mean()), diff, interval, p)


INTERVAL_NOTE = "95% Wilson interval, clustered by image where questions share one"
PAIRED_INTERVAL_NOTE = "95% Newcombe interval for a paired difference"


def format_interval(
    value: float | None,
    low: float | None,
    high: float | None,
    *,
    scale: float = 100.0,
    digits: int = 1,
    signed: bool = False,
) -> str:
    """`41.2 [36.5, 46.0]`: the one way vlmbench shows a score with its interval. Intervals are not
    symmetric (a Wilson interval near 0 or 1 is lopsided), so a `value ± half-width` would misstate
    them; tables name the method once, in their title or a note (`INTERVAL_NOTE`)."""
    if value is None:
        return "-"
    sign = "+" if signed else ""

    def show(x: float) -> str:
        return f"{scale * x:{sign}.{digits}f}"

    if low is None or high is None:
        return show(value)
    return f"{show(value)} [{show(low)}, {show(high)}]"
