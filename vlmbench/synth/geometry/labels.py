"""Collision-free labels: candidate spots for each kind of label, and the greedy placer that picks,
for each label in turn, the first spot whose text crosses no line, no circle and no other label."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import ImageDraw

from vlmbench.synth import render
from vlmbench.synth.geometry.plane import (
    Box,
    Point,
    angular_gap,
    boxes_overlap,
    circle_hits_box,
    distance,
    grow,
    midpoint,
    normal,
    polar,
    segment_hits_box,
    unit_vector,
)

LABEL_SIZE = 18
PAD = 3  # clearance between a label's ink and any line
# Value labels are placed first (they must sit next to what they measure), then line names, then points.
PLACEMENT_ORDER = {"unknown": 0, "given": 0, "distractor": 0, "line": 1, "point": 2}


@dataclass
class PendingLabel:
    """A label still to be placed: its text, its role and where it may go, best spot first."""

    text: str
    role: str
    candidates: list[Point]
    name: str | None = None


@dataclass
class Ink:
    """Everything drawn that a label must keep clear of (pixels)."""

    segments: list[tuple[Point, Point]] = field(default_factory=list)
    circles: list[tuple[Point, float]] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)

    def hits(self, box: Box) -> int:
        """How many drawn things the box (with its clearance) touches."""
        padded = grow(box, PAD)
        hits = sum(1 for p, q in self.segments if segment_hits_box(p, q, padded))
        hits += sum(1 for centre, radius in self.circles if circle_hits_box(centre, radius, padded))
        hits += sum(1 for other in self.boxes if boxes_overlap(padded, other))
        return hits


# candidate spots -------------------------------------------------------------------------------------


def in_wedge(
    origin: Point, start: float, sweep: float, distances: list[float], offsets: tuple[float, ...]
) -> list[Point]:
    """Spots inside the wedge `start .. start + sweep` (screen degrees): at each distance, the
    bisector first, then rays turned by `offset` half-sweeps to either side."""
    return [polar(d, start + sweep / 2 + offset * sweep / 2, origin) for d in distances for offset in offsets]


def beside_segment(p: Point, q: Point, outward: float) -> list[Point]:
    """Spots beside the middle of p-q, on the `outward` side (+1 / -1 along the normal) first."""
    u = unit_vector(p, q)
    n = normal(u)
    mid = midpoint(p, q)
    span = distance(p, q)
    return [
        (mid[0] + t * span * u[0] + side * d * n[0], mid[1] + t * span * u[1] + side * d * n[1])
        for side in (outward, -outward)
        for d in range(8, 46, 3)
        for t in (0.0, 0.12, -0.12, 0.25, -0.25)
    ]


def beyond_end(end: Point, towards: Point) -> list[Point]:
    """Spots just past `end` of a line running from `towards`, for the line's name."""
    u = unit_vector(towards, end)
    n = normal(u)
    return [
        (end[0] + d * u[0] + s * n[0], end[1] + d * u[1] + s * n[1])
        for d in (12, 16, 20, 6, 0, -8)
        for s in (0, -14, 14, -20, 20)
    ]


def around_point(v: Point, directions: list[float], preferred: list[float]) -> list[Point]:
    """Spots around a point: the `preferred` headings first, then headings nearest the middle of the
    widest gap between the `directions` in which lines leave the point."""
    if directions:
        ordered = sorted(directions)
        gaps = [
            ((ordered[(i + 1) % len(ordered)] - ordered[i]) % 360 or 360.0, ordered[i])
            for i in range(len(ordered))
        ]
        gap, start = max(gaps)
        best = (start + gap / 2) % 360
    else:
        best = 270.0
    around = sorted(((best + k * 15.0) % 360 for k in range(24)), key=lambda h: angular_gap(h, best))
    headings = preferred + around
    return [polar(d, h, v) for d in (14, 18, 23, 29) for h in headings]


# placement -------------------------------------------------------------------------------------------


def place_labels(
    draw: ImageDraw.ImageDraw, pending: list[PendingLabel], ink: Ink, width: int, height: int
) -> tuple[list[dict[str, Any]], bool]:
    """Draw every pending label at its first clear spot (else the least crowded one, on a blanked
    backdrop); returns the placed labels and whether all of them are clear."""
    all_clear = True
    placed: list[dict[str, Any]] = []
    font = render.font(LABEL_SIZE)
    for label in sorted(pending, key=lambda item: PLACEMENT_ORDER[item.role]):
        best: tuple[int, Point, Box] | None = None
        for centre in label.candidates:
            box = draw.textbbox(centre, label.text, font=font, anchor="mm")
            if box[0] < 2 or box[1] < 2 or box[2] > width - 2 or box[3] > height - 2:
                continue
            hits = ink.hits(box)
            if best is None or hits < best[0]:
                best = (hits, centre, box)
            if hits == 0:
                break
        if best is None:
            all_clear = False
            continue
        hits, centre, box = best
        if hits:
            all_clear = False
            draw.rectangle(box, fill=render.BACKGROUND)
        draw.text(centre, label.text, font=font, fill=render.INK, anchor="mm")
        ink.boxes.append(grow(box, 2))
        placed.append(
            {"text": label.text, "role": label.role, "of": label.name, "box": [round(c) for c in box]}
        )
    return placed, all_clear
