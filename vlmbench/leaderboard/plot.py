"""The efficiency plot: accuracy against output tokens per sample, as inline SVG geometry.

Coordinates are computed here and drawn by the page template (so every label is HTML-escaped there).
The x axis is logarithmic: chance rows answer in one token, chain-of-thought models in hundreds. The
frontier links the models no other model beats with fewer tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vlmbench.leaderboard.table import Row

WIDTH, HEIGHT = 720, 380
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 20, 50


@dataclass
class Point:
    x: float
    y: float
    label: str
    slug: str
    baseline: bool
    frontier: bool
    tokens: float
    accuracy: float


@dataclass
class Plot:
    width: int = WIDTH
    height: int = HEIGHT
    points: list[Point] = field(default_factory=list)
    frontier: str = ""  # SVG polyline points
    xticks: list[tuple[float, str]] = field(default_factory=list)
    yticks: list[tuple[float, str]] = field(default_factory=list)
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def efficiency_plot(rows: list[Row]) -> Plot:
    plot = Plot()
    data = [r for r in rows if r.accuracy is not None and r.tokens_per_sample is not None]
    if not data:
        return plot
    tokens = [max(1.0, r.tokens_per_sample or 0.0) for r in data]
    low = math.floor(math.log10(min(tokens)))
    high = max(low + 1, math.ceil(math.log10(max(tokens))))

    def px(t: float) -> float:
        return plot.left + (math.log10(t) - low) / (high - low) * (plot.right - plot.left)

    def py(a: float) -> float:
        return plot.bottom - a * (plot.bottom - plot.top)

    plot.xticks = [(px(10**d), f"{10**d:,}") for d in range(low, high + 1)]
    plot.yticks = [(py(a / 100), f"{a}%") for a in range(0, 101, 20)]
    best = -1.0
    frontier_keys = set()
    for row, _ in sorted(zip(data, tokens, strict=True), key=lambda p: (p[1], -(p[0].accuracy or 0.0))):
        if (row.accuracy or 0.0) > best:
            best = row.accuracy or 0.0
            frontier_keys.add(row.key)
    for row, t in zip(data, tokens, strict=True):
        accuracy = row.accuracy or 0.0
        plot.points.append(
            Point(
                round(px(t), 1),
                round(py(accuracy), 1),
                row.name,
                row.slug,
                row.baseline,
                row.key in frontier_keys,
                t,
                accuracy,
            )
        )
    on_frontier = sorted((p for p in plot.points if p.frontier), key=lambda p: p.x)
    plot.frontier = " ".join(f"{p.x},{p.y}" for p in on_frontier)
    return plot
