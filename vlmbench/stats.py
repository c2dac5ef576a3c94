"""Confidence intervals for the run summary (the full statistics module comes with the metrics issue)."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


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
