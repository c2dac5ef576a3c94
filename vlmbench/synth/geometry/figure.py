"""The diagram: named points fitted to the canvas, lines and marks drawn to scale, and labels.

Every value label also records the measure it shows (name, points, value, role), so a problem reads
its givens, distractors and unknown off the figure instead of restating them, and `record` gives a
checker every drawn point, segment, circle and label in pixels.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from PIL import Image

from vlmbench.synth import render
from vlmbench.synth.geometry.labels import (
    Ink,
    PendingLabel,
    around_point,
    beside_segment,
    beyond_end,
    in_wedge,
    place_labels,
)
from vlmbench.synth.geometry.plane import (
    Point,
    distance,
    lerp,
    midpoint,
    normal,
    point_on_line,
    point_on_segment,
    polar,
    screen_angle,
    unit_vector,
)

WIDTH, HEIGHT = 480, 400
MARGIN = 54  # room for labels around the fitted figure
LINE = 3
ARC_RADIUS = 20
# How far (in half-sweeps) label spots may turn off the bisector of an angle, or of an arc.
ANGLE_LABEL_TURNS = (0.0, -0.3, 0.3, -0.55, 0.55)
ARC_LABEL_TURNS = (0.0, -0.15, 0.15, -0.3, 0.3)


def number_text(value: float) -> str:
    """Whole numbers without a decimal point, others to one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def label_text(value: float, role: str, sign: str = "") -> str:
    """What a value label reads: the unknown is x, anything else shows its value."""
    return "x" + sign if role == "unknown" else number_text(value) + sign


class Figure:
    """A diagram in math coordinates (y up), fitted to the canvas; labels are placed by `finish`."""

    def __init__(self, points: dict[str, Point], circle: tuple[str, float] | None = None) -> None:
        xs = [p[0] for p in points.values()]
        ys = [p[1] for p in points.values()]
        if circle is not None:
            cx, cy = points[circle[0]]
            xs += [cx - circle[1], cx + circle[1]]
            ys += [cy - circle[1], cy + circle[1]]
        width, height = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
        scale = min((WIDTH - 2 * MARGIN) / width, (HEIGHT - 2 * MARGIN) / height)
        ox = (WIDTH - width * scale) / 2
        oy = (HEIGHT - height * scale) / 2
        x_min, y_min = min(xs), min(ys)
        self.scale = scale
        self.p: dict[str, tuple[int, int]] = {
            name: (round(ox + (x - x_min) * scale), round(HEIGHT - oy - (y - y_min) * scale))
            for name, (x, y) in points.items()
        }
        self.image, self.draw = render.canvas(WIDTH, HEIGHT)
        self.segments: list[tuple[str, str]] = []
        self.ink = Ink()
        self.circle_centre: str | None = None
        if circle is not None:
            self.circle_centre = circle[0]
            radius = round(circle[1] * scale)
            centre = self.p[circle[0]]
            self.ink.circles.append((centre, radius))
            self.draw.ellipse(
                (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius),
                outline=render.INK,
                width=LINE,
            )
        self.pending: list[PendingLabel] = []
        self.labels: list[dict[str, Any]] = []
        self.measures: list[dict[str, Any]] = []

    # lines and marks ------------------------------------------------------------------------------

    def segment(self, a: str, b: str) -> None:
        p, q = self.p[a], self.p[b]
        self.draw.line((p, q), fill=render.INK, width=LINE)
        self.segments.append((a, b))
        self.ink.segments.append((p, q))

    def polyline(self, *names: str) -> None:
        for a, b in itertools.pairwise(names):
            self.segment(a, b)

    def dot(self, *names: str) -> None:
        for name in names:
            x, y = self.p[name]
            self.draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=render.INK)
            self.ink.boxes.append((x - 4, y - 4, x + 4, y + 4))

    def right_angle(self, a: str, v: str, b: str, size: float = 13.0) -> None:
        vertex = self.p[v]
        ua, ub = unit_vector(vertex, self.p[a]), unit_vector(vertex, self.p[b])
        p1 = (vertex[0] + size * ua[0], vertex[1] + size * ua[1])
        p2 = (p1[0] + size * ub[0], p1[1] + size * ub[1])
        p3 = (vertex[0] + size * ub[0], vertex[1] + size * ub[1])
        self.draw.line((p1, p2, p3), fill=render.INK, width=2)
        self.ink.segments.extend([(p1, p2), (p2, p3)])

    def ticks(self, a: str, b: str, count: int = 1) -> None:
        """Equal-length marks across the middle of a-b."""
        p, q = self.p[a], self.p[b]
        u = unit_vector(p, q)
        n = normal(u)
        mid = midpoint(p, q)
        for k in range(count):
            shift = (k - (count - 1) / 2) * 6
            mx, my = mid[0] + shift * u[0], mid[1] + shift * u[1]
            ends = ((mx - 8 * n[0], my - 8 * n[1]), (mx + 8 * n[0], my + 8 * n[1]))
            self.draw.line(ends, fill=render.INK, width=2)
            self.ink.segments.append(ends)

    def arrows(self, a: str, b: str, at: float | None = None) -> None:
        """A '>' parallel mark on a-b, pointing from a to b: at fraction `at`, else where it is
        farthest from every other point lying on a-b (so no crossing line runs through it)."""
        p, q = self.p[a], self.p[b]
        if at is None:
            inner = [v for v in self.p.values() if v not in (p, q) and point_on_segment(v, p, q)]
            at = max(
                (0.5, 0.35, 0.65, 0.2, 0.8),
                key=lambda f: min((distance(lerp(p, q, f), v) for v in inner), default=1e9),
            )
        u = unit_vector(p, q)
        n = normal(u)
        c = lerp(p, q, at)
        tip = (c[0] + 6 * u[0], c[1] + 6 * u[1])
        wings = [(c[0] - 5 * u[0] + s * 7 * n[0], c[1] - 5 * u[1] + s * 7 * n[1]) for s in (1, -1)]
        self.draw.line((wings[0], tip, wings[1]), fill=render.INK, width=2)
        self.ink.segments.extend([(wings[0], tip), (tip, wings[1])])

    def _wedge(self, a: str, v: str, b: str) -> tuple[float, float]:
        """(start, sweep) of the non-reflex angle a-v-b in screen degrees (clockwise)."""
        t1, t2 = screen_angle(self.p[v], self.p[a]), screen_angle(self.p[v], self.p[b])
        sweep = (t2 - t1) % 360.0
        return (t1, sweep) if sweep <= 180 else (t2, 360.0 - sweep)

    def _trace_arc(self, v: Point, start: float, sweep: float, radius: float) -> None:
        """Add a drawn arc to the ink as short chords, so labels keep clear of it."""
        steps = max(2, math.ceil(sweep / 15))
        pts = [polar(radius, start + sweep * k / steps, v) for k in range(steps + 1)]
        self.ink.segments.extend(itertools.pairwise(pts))

    # value labels: each records its measure -------------------------------------------------------

    def angle(self, a: str, v: str, b: str, value: float, role: str = "given") -> None:
        """Mark the angle a-v-b with an arc and label it inside with its measure (or x)."""
        start, sweep = self._wedge(a, v, b)
        vertex = self.p[v]
        radius = ARC_RADIUS + (8 if sweep < 40 else 0)
        box = (vertex[0] - radius, vertex[1] - radius, vertex[0] + radius, vertex[1] + radius)
        self.draw.arc(box, start, start + sweep, fill=render.INK, width=2)
        self._trace_arc(vertex, start, sweep, radius)
        reach = min(distance(vertex, self.p[a]), distance(vertex, self.p[b]))
        limit = max(radius + 16, min(150.0, 0.9 * reach))
        distances = list(itertools.takewhile(lambda d: d <= limit, itertools.count(radius + 10.0, 3.0)))
        spots = in_wedge(vertex, start, sweep, distances, ANGLE_LABEL_TURNS)
        self._measure("angle", f"angle_{a}{v}{b}", [a, v, b], value, role, spots, sign="°")

    def length(self, a: str, b: str, value: float, role: str = "given") -> None:
        """Label the segment a-b beside its middle, preferably on the side away from the figure."""
        p, q = self.p[a], self.p[b]
        n = normal(unit_vector(p, q))
        mid = midpoint(p, q)
        centre = self._inside_of(a, b)
        outward = 1.0 if (mid[0] - centre[0]) * n[0] + (mid[1] - centre[1]) * n[1] >= 0 else -1.0
        spots = beside_segment(p, q, outward)
        self._measure("length", f"{a}{b}", [a, b], value, role, spots)

    def arc(self, a: str, b: str, value: float, role: str = "given") -> None:
        """Label the minor arc a-b just outside the circle, at the arc's middle."""
        assert self.circle_centre is not None
        centre, radius = self.ink.circles[0]
        start, sweep = self._wedge(a, self.circle_centre, b)
        distances = [radius + d for d in range(12, 46, 3)]
        spots = in_wedge(centre, start, sweep, distances, ARC_LABEL_TURNS)
        self._measure("arc", f"arc_{a}{b}", [a, b], value, role, spots, sign="°")

    def _measure(
        self,
        kind: str,
        name: str,
        points: list[str],
        value: float,
        role: str,
        spots: list[Point],
        sign: str = "",
    ) -> None:
        """Queue the value label (x for the unknown) and record what it measures."""
        self.pending.append(PendingLabel(label_text(value, role, sign), role, spots, name))
        self.measures.append({"type": kind, "name": name, "points": points, "value": value, "role": role})

    def _inside_of(self, a: str, b: str) -> Point:
        """A point on the figure's side of a-b: the centre of the points joined to both a and b (the
        opposite vertex of a triangle side), else of those joined to either, else of the figure."""
        p, q = self.p[a], self.p[b]

        def joined(name: str) -> set[str]:
            found = set()
            for s, t in self.segments:
                if name in (s, t):
                    other = t if s == name else s
                    if not point_on_line(self.p[other], p, q):
                        found.add(other)
            return found

        for names in (joined(a) & joined(b), joined(a) | joined(b)):
            if names:
                pts = [self.p[n] for n in sorted(names)]
                return (sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts))
        xs = [x for x, _ in self.p.values()]
        ys = [y for _, y in self.p.values()]
        return (sum(xs) / len(xs), sum(ys) / len(ys))

    # names -----------------------------------------------------------------------------------------

    def line_name(self, end: str, towards: str, text: str) -> None:
        """Name a line (m, n) beyond its end point `end` (the line runs from `towards` to `end`)."""
        self.pending.append(PendingLabel(text, "line", beyond_end(self.p[end], self.p[towards]), text))

    def point_labels(self, *names: str) -> None:
        """Name points, each in the widest gap between the lines drawn so far that meet it."""
        for name in names:
            spots = around_point(self.p[name], *self._directions_at(name))
            self.pending.append(PendingLabel(name, "point", spots, name))

    def _directions_at(self, name: str) -> tuple[list[float], list[float]]:
        """Headings of the lines that leave the point, and (for a point on the circle) the outward
        heading, which is the preferred place for its name."""
        v = self.p[name]
        directions: list[float] = []
        for a, b in self.segments:
            p, q = self.p[a], self.p[b]
            for end, other in ((p, q), (q, p)):
                if end == v:
                    directions.append(screen_angle(v, other))
            if v not in (p, q) and point_on_segment(v, p, q):
                directions += [screen_angle(v, p), screen_angle(v, q)]
        preferred: list[float] = []
        for centre, radius in self.ink.circles:
            if abs(distance(centre, v) - radius) < 2.5:
                outward = screen_angle(centre, v)
                preferred.append(outward)
                directions += [(outward + 90) % 360, (outward - 90) % 360]
        return directions, preferred

    # output ----------------------------------------------------------------------------------------

    def finish(self) -> tuple[Image.Image, bool]:
        """Place every pending label (value labels first, then names); True when all are clear."""
        self.labels, all_clear = place_labels(self.draw, self.pending, self.ink, WIDTH, HEIGHT)
        return self.image, all_clear

    def record(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "canvas": [WIDTH, HEIGHT],
            "points": {name: list(xy) for name, xy in sorted(self.p.items())},
            "segments": [[a, b] for a, b in self.segments],
            "circles": [{"centre": list(c), "radius": r} for c, r in self.ink.circles],
            "labels": self.labels,
            "measures": self.measures,
        }
        if self.circle_centre is not None:
            data["circles"][0]["centre_point"] = self.circle_centre
        return data
