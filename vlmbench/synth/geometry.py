"""Procedural plane geometry: labelled diagrams with four-option questions, correct by construction.

Five question kinds, each with a variant per difficulty; the difficulty is the number of chained facts
a solver needs (1 / 2 / 3), and higher levels also draw more labelled elements, add labelled quantities
the answer does not need, and pick wrong options from typical mistakes (180 - x, x / 2, the wrong ratio):

- `angle_sum`: the third angle of a triangle; an exterior angle; an isosceles triangle; a cevian.
- `pythagoras`: a right triangle from Pythagorean triples; two right triangles sharing an altitude
  (one-decimal answers); the perimeter of that figure.
- `similar`: similar triangles by correspondence; a segment parallel to a side; a perimeter.
- `inscribed`: inscribed angle = half the central angle / the arc; Thales; isosceles radii; the reflex arc.
- `parallel`: corresponding / alternate / co-interior angles; parallel lines with a triangle; an
  exterior angle; the "zigzag" between two parallels.

Diagrams are drawn to scale (every labelled angle and length matches the picture); labels are placed
so that they cross no line, no circle and no other label. `structure` records the givens (by name),
the unknown, the variant, the number of steps, and every drawn point, segment, circle and label in
pixels, so a solver can recompute the answer and a checker can measure the picture.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from vlmbench.synth import render
from vlmbench.synth.base import SynthItem

WIDTH, HEIGHT = 480, 400
MARGIN = 54  # room for labels around the fitted figure
LABEL_SIZE = 18
LINE = 3
ARC_RADIUS = 20
PAD = 3  # clearance between a label's ink and any line

Point = tuple[float, float]
Box = tuple[float, float, float, float]

# --------------------------------------------------------------------------------------------------
# Drawing with collision-free labels


def _dist(p: Point, q: Point) -> float:
    return math.hypot(q[0] - p[0], q[1] - p[1])


def _unit(p: Point, q: Point) -> Point:
    length = _dist(p, q) or 1.0
    return ((q[0] - p[0]) / length, (q[1] - p[1]) / length)


def _screen_angle(v: Point, p: Point) -> float:
    """Direction of v -> p in degrees, clockwise from 3 o'clock (screen coordinates, y down)."""
    return math.degrees(math.atan2(p[1] - v[1], p[0] - v[0])) % 360.0


def _segment_hits_box(p: Point, q: Point, box: Box) -> bool:
    """Liang-Barsky clipping: does the segment p-q meet the box?"""
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
            continue
        t = qk / pk
        if pk < 0:
            if t > t1:
                return False
            t0 = max(t0, t)
        else:
            if t < t0:
                return False
            t1 = min(t1, t)
    return True


def _circle_hits_box(centre: Point, radius: float, box: Box) -> bool:
    """Does the circle's outline meet the box?"""
    x0, y0, x1, y1 = box
    nearest = math.hypot(max(x0 - centre[0], 0, centre[0] - x1), max(y0 - centre[1], 0, centre[1] - y1))
    farthest = max(math.hypot(x - centre[0], y - centre[1]) for x in (x0, x1) for y in (y0, y1))
    return nearest <= radius <= farthest


def _boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _pad(box: Box, pad: float) -> Box:
    return (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)


@dataclass
class _Pending:
    text: str
    role: str
    candidates: list[Point]
    name: str | None = None


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
        self.obstacles: list[tuple[Point, Point]] = []
        self.blocked: list[Box] = []
        self.circles: list[tuple[Point, float]] = []
        self.circle_centre: str | None = None
        if circle is not None:
            self.circle_centre = circle[0]
            radius = round(circle[1] * scale)
            centre = self.p[circle[0]]
            self.circles.append((centre, radius))
            self.draw.ellipse(
                (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius),
                outline=render.INK,
                width=LINE,
            )
        self.pending: list[_Pending] = []
        self.labels: list[dict[str, Any]] = []
        self.measures: list[dict[str, Any]] = []

    # lines and marks ------------------------------------------------------------------------------

    def segment(self, a: str, b: str) -> None:
        p, q = self.p[a], self.p[b]
        self.draw.line((p, q), fill=render.INK, width=LINE)
        self.segments.append((a, b))
        self.obstacles.append((p, q))

    def polyline(self, *names: str) -> None:
        for a, b in itertools.pairwise(names):
            self.segment(a, b)

    def dot(self, *names: str) -> None:
        for name in names:
            x, y = self.p[name]
            self.draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=render.INK)
            self.blocked.append((x - 4, y - 4, x + 4, y + 4))

    def _arc_polyline(self, v: Point, start: float, sweep: float, radius: float) -> None:
        steps = max(2, math.ceil(sweep / 15))
        pts = [
            (
                v[0] + radius * math.cos(math.radians(start + sweep * k / steps)),
                v[1] + radius * math.sin(math.radians(start + sweep * k / steps)),
            )
            for k in range(steps + 1)
        ]
        self.obstacles.extend(itertools.pairwise(pts))

    def _wedge(self, a: str, v: str, b: str) -> tuple[float, float]:
        """(start, sweep) of the non-reflex angle a-v-b in screen degrees (clockwise)."""
        t1, t2 = _screen_angle(self.p[v], self.p[a]), _screen_angle(self.p[v], self.p[b])
        sweep = (t2 - t1) % 360.0
        return (t1, sweep) if sweep <= 180 else (t2, 360.0 - sweep)

    def angle(self, a: str, v: str, b: str, text: str, role: str, value: float | None = None) -> None:
        """Mark the angle a-v-b with an arc and a label inside it; `value` records the measure."""
        start, sweep = self._wedge(a, v, b)
        vertex = self.p[v]
        radius = ARC_RADIUS + (8 if sweep < 40 else 0)
        box = (vertex[0] - radius, vertex[1] - radius, vertex[0] + radius, vertex[1] + radius)
        self.draw.arc(box, start, start + sweep, fill=render.INK, width=2)
        self._arc_polyline(vertex, start, sweep, radius)
        reach = min(_dist(vertex, self.p[a]), _dist(vertex, self.p[b]))
        limit = max(radius + 16, min(150.0, 0.9 * reach))
        candidates = []
        d = radius + 10.0
        while d <= limit:
            for offset in (0.0, -0.3, 0.3, -0.55, 0.55):
                heading = math.radians(start + sweep / 2 + offset * sweep / 2)
                candidates.append((vertex[0] + d * math.cos(heading), vertex[1] + d * math.sin(heading)))
            d += 3.0
        self.pending.append(_Pending(text, role, candidates, f"angle_{a}{v}{b}"))
        if value is not None:
            self.measures.append(
                {
                    "type": "angle",
                    "name": f"angle_{a}{v}{b}",
                    "points": [a, v, b],
                    "value": value,
                    "role": role,
                }
            )

    def right_angle(self, a: str, v: str, b: str, size: float = 13.0) -> None:
        vertex = self.p[v]
        ua, ub = _unit(vertex, self.p[a]), _unit(vertex, self.p[b])
        p1 = (vertex[0] + size * ua[0], vertex[1] + size * ua[1])
        p2 = (p1[0] + size * ub[0], p1[1] + size * ub[1])
        p3 = (vertex[0] + size * ub[0], vertex[1] + size * ub[1])
        self.draw.line((p1, p2, p3), fill=render.INK, width=2)
        self.obstacles.extend([(p1, p2), (p2, p3)])

    def ticks(self, a: str, b: str, count: int = 1) -> None:
        """Equal-length marks across the middle of a-b."""
        p, q = self.p[a], self.p[b]
        u = _unit(p, q)
        n = (-u[1], u[0])
        for k in range(count):
            shift = (k - (count - 1) / 2) * 6
            mx, my = (p[0] + q[0]) / 2 + shift * u[0], (p[1] + q[1]) / 2 + shift * u[1]
            ends = ((mx - 8 * n[0], my - 8 * n[1]), (mx + 8 * n[0], my + 8 * n[1]))
            self.draw.line(ends, fill=render.INK, width=2)
            self.obstacles.append(ends)

    def arrows(self, a: str, b: str, at: float | None = None) -> None:
        """A '>' parallel mark on a-b, pointing from a to b: at fraction `at`, else where it is
        farthest from every other point lying on a-b (so no crossing line runs through it)."""
        p, q = self.p[a], self.p[b]
        if at is None:
            inner = [v for v in self.p.values() if v not in (p, q) and _point_on_segment(v, p, q)]
            at = max(
                (0.5, 0.35, 0.65, 0.2, 0.8),
                key=lambda f: min((_dist(_lerp(p, q, f), v) for v in inner), default=1e9),
            )
        u = _unit(p, q)
        n = (-u[1], u[0])
        c = _lerp(p, q, at)
        tip = (c[0] + 6 * u[0], c[1] + 6 * u[1])
        wings = [(c[0] - 5 * u[0] + s * 7 * n[0], c[1] - 5 * u[1] + s * 7 * n[1]) for s in (1, -1)]
        self.draw.line((wings[0], tip, wings[1]), fill=render.INK, width=2)
        self.obstacles.extend([(wings[0], tip), (tip, wings[1])])

    # labels ---------------------------------------------------------------------------------------

    def centroid(self) -> Point:
        xs = [p[0] for p in self.p.values()]
        ys = [p[1] for p in self.p.values()]
        return (sum(xs) / len(xs), sum(ys) / len(ys))

    def _inside_of(self, a: str, b: str) -> Point:
        """A point on the figure's side of a-b: the centre of the points joined to both a and b (the
        opposite vertex of a triangle side), else of those joined to either, else of the figure."""
        p, q = self.p[a], self.p[b]

        def joined(name: str) -> set[str]:
            found = set()
            for s, t in self.segments:
                if name in (s, t):
                    other = t if s == name else s
                    if not _point_on_line(self.p[other], p, q):
                        found.add(other)
            return found

        for names in (joined(a) & joined(b), joined(a) | joined(b)):
            if names:
                pts = [self.p[n] for n in sorted(names)]
                return (sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts))
        return self.centroid()

    def length(self, a: str, b: str, text: str, role: str, value: float | None = None) -> None:
        """Label the segment a-b beside its middle, preferably on the side away from the figure."""
        p, q = self.p[a], self.p[b]
        u = _unit(p, q)
        n = (-u[1], u[0])
        mid = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
        centre = self._inside_of(a, b)
        outward = 1.0 if (mid[0] - centre[0]) * n[0] + (mid[1] - centre[1]) * n[1] >= 0 else -1.0
        span = _dist(p, q)
        candidates = []
        for side in (outward, -outward):
            for d in range(8, 46, 3):
                for t in (0.0, 0.12, -0.12, 0.25, -0.25):
                    candidates.append(
                        (
                            mid[0] + t * span * u[0] + side * d * n[0],
                            mid[1] + t * span * u[1] + side * d * n[1],
                        )
                    )
        self.pending.append(_Pending(text, role, candidates, f"{a}{b}"))
        if value is not None:
            self.measures.append(
                {"type": "length", "name": f"{a}{b}", "points": [a, b], "value": value, "role": role}
            )

    def arc_label(self, a: str, b: str, text: str, role: str, value: float) -> None:
        """Label the minor arc a-b just outside the circle, at the arc's middle."""
        assert self.circle_centre is not None
        (centre, radius) = self.circles[0]
        start, sweep = self._wedge(a, self.circle_centre, b)
        candidates = []
        for d in range(12, 46, 3):
            for offset in (0.0, -0.15, 0.15, -0.3, 0.3):
                heading = math.radians(start + sweep / 2 + offset * sweep / 2)
                r = radius + d
                candidates.append((centre[0] + r * math.cos(heading), centre[1] + r * math.sin(heading)))
        self.pending.append(_Pending(text, role, candidates, f"arc_{a}{b}"))
        self.measures.append(
            {"type": "arc", "name": f"arc_{a}{b}", "points": [a, b], "value": value, "role": role}
        )

    def line_name(self, end: str, towards: str, text: str) -> None:
        """Name a line (m, n) beyond its end point `end` (the line runs from `towards` to `end`)."""
        p, q = self.p[end], self.p[towards]
        u = _unit(q, p)
        n = (-u[1], u[0])
        candidates = [
            (p[0] + d * u[0] + s * n[0], p[1] + d * u[1] + s * n[1])
            for d in (12, 16, 20, 6, 0, -8)
            for s in (0, -14, 14, -20, 20)
        ]
        self.pending.append(_Pending(text, "line", candidates, text))

    def point_labels(self, *names: str) -> None:
        for name in names:
            self.pending.append(_Pending(name, "point", self._point_candidates(name), name))

    def _point_candidates(self, name: str) -> list[Point]:
        v = self.p[name]
        directions: list[float] = []
        for a, b in self.segments:
            p, q = self.p[a], self.p[b]
            for end, other in ((p, q), (q, p)):
                if end == v:
                    directions.append(_screen_angle(v, other))
            if v not in (p, q) and _point_on_segment(v, p, q):
                directions += [_screen_angle(v, p), _screen_angle(v, q)]
        preferred: list[float] = []
        for centre, radius in self.circles:
            if abs(_dist(centre, v) - radius) < 2.5:
                outward = _screen_angle(centre, v)
                preferred.append(outward)
                directions += [(outward + 90) % 360, (outward - 90) % 360]
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
        around = sorted(((best + k * 15.0) % 360 for k in range(24)), key=lambda h: _angular_gap(h, best))
        headings = preferred + around
        return [
            (v[0] + d * math.cos(math.radians(h)), v[1] + d * math.sin(math.radians(h)))
            for d in (14, 18, 23, 29)
            for h in headings
        ]

    def _collides(self, box: Box) -> int:
        padded = _pad(box, PAD)
        hits = sum(1 for p, q in self.obstacles if _segment_hits_box(p, q, padded))
        hits += sum(1 for centre, radius in self.circles if _circle_hits_box(centre, radius, padded))
        hits += sum(1 for other in self.blocked if _boxes_overlap(padded, other))
        return hits

    def finish(self) -> tuple[Image.Image, bool]:
        """Place every pending label (value labels first, then names); True when all are clear."""
        order = {"unknown": 0, "given": 0, "distractor": 0, "line": 1, "point": 2}
        all_clear = True
        font = render.font(LABEL_SIZE)
        for pending in sorted(self.pending, key=lambda item: order[item.role]):
            best: tuple[int, Point, Box] | None = None
            for centre in pending.candidates:
                box = self.draw.textbbox(centre, pending.text, font=font, anchor="mm")
                if box[0] < 2 or box[1] < 2 or box[2] > WIDTH - 2 or box[3] > HEIGHT - 2:
                    continue
                hits = self._collides(box)
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
                self.draw.rectangle(box, fill=render.BACKGROUND)
            self.draw.text(centre, pending.text, font=font, fill=render.INK, anchor="mm")
            self.blocked.append(_pad(box, 2))
            self.labels.append(
                {
                    "text": pending.text,
                    "role": pending.role,
                    "of": pending.name,
                    "box": [round(c) for c in box],
                }
            )
        return self.image, all_clear

    def record(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "canvas": [WIDTH, HEIGHT],
            "points": {name: list(xy) for name, xy in sorted(self.p.items())},
            "segments": [[a, b] for a, b in self.segments],
            "circles": [{"centre": list(c), "radius": r} for c, r in self.circles],
            "labels": self.labels,
            "measures": self.measures,
        }
        if self.circle_centre is not None:
            data["circles"][0]["centre_point"] = self.circle_centre
        return data


def _angular_gap(a: float, b: float) -> float:
    d = abs(a - b) % 360
    return min(d, 360 - d)


def _point_on_line(v: Point, p: Point, q: Point) -> bool:
    length = _dist(p, q)
    return length > 0 and abs((q[0] - p[0]) * (v[1] - p[1]) - (q[1] - p[1]) * (v[0] - p[0])) / length < 2.0


def _point_on_segment(v: Point, p: Point, q: Point) -> bool:
    length = _dist(p, q)
    if length == 0:
        return False
    cross = abs((q[0] - p[0]) * (v[1] - p[1]) - (q[1] - p[1]) * (v[0] - p[0])) / length
    dot = (v[0] - p[0]) * (q[0] - p[0]) + (v[1] - p[1]) * (q[1] - p[1])
    return cross < 2.0 and 0 < dot < length * length


# --------------------------------------------------------------------------------------------------
# Problems


@dataclass
class Problem:
    """One question: what is given, what is asked, and the answer computed from the givens."""

    kind: str
    variant: str
    steps: int
    facts: list[str]
    given: dict[str, float]
    unknown: str
    answer: float
    unit: str  # "degrees" or "length"
    question: str
    figure: Figure
    mistakes: list[float] = field(default_factory=list)
    distractors: dict[str, float] = field(default_factory=dict)
    decimals: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _deg(value: float) -> str:
    return f"{_num(value)}°"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _rot(
    points: dict[str, Point], rng: random.Random, max_turn: float, mirror: bool = True
) -> dict[str, Point]:
    """Turn the figure by up to `max_turn` degrees, and mirror it half of the time."""
    flip = -1.0 if mirror and rng.random() < 0.5 else 1.0
    turn = math.radians(rng.uniform(-max_turn, max_turn))
    c, s = math.cos(turn), math.sin(turn)
    return {k: (c * flip * x - s * y, s * flip * x + c * y) for k, (x, y) in points.items()}


def _polar(r: float, degrees: float, origin: Point = (0.0, 0.0)) -> Point:
    t = math.radians(degrees)
    return (origin[0] + r * math.cos(t), origin[1] + r * math.sin(t))


def _triangle_on_base(angle_b: float, angle_c: float, base: float = 1.0) -> dict[str, Point]:
    """B = (0, 0), C = (base, 0) and the apex A with the given base angles."""
    angle_a = 180.0 - angle_b - angle_c
    ab = base * math.sin(math.radians(angle_c)) / math.sin(math.radians(angle_a))
    return {"B": (0.0, 0.0), "C": (base, 0.0), "A": _polar(ab, angle_b)}


def _lerp(p: Point, q: Point, t: float) -> Point:
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


# angle_sum -----------------------------------------------------------------------------------------


def _angle_sum_third(rng: random.Random) -> Problem:
    while True:
        a, b = rng.randint(35, 100), rng.randint(35, 100)
        c = 180 - a - b
        if 35 <= c <= 100:
            break
    pts = _rot(_triangle_on_base(a, b), rng, 10)
    # _triangle_on_base puts the apex at A; rename so the triangle reads A (left), B (right), C (apex)
    pts = {"A": pts["B"], "B": pts["C"], "C": pts["A"]}
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    fig.angle("B", "A", "C", _deg(a), "given", a)
    fig.angle("A", "B", "C", _deg(b), "given", b)
    fig.angle("A", "C", "B", "x°", "unknown", c)
    fig.point_labels("A", "B", "C")
    return Problem(
        kind="angle_sum",
        variant="third_angle",
        steps=1,
        facts=["triangle angle sum"],
        given={"angle_BAC": a, "angle_ABC": b},
        unknown="angle_ACB",
        answer=c,
        unit="degrees",
        question="In triangle ABC, find x.",
        figure=fig,
        mistakes=[180 - a, 180 - b, a + b, 2 * c, c / 2, abs(a - b), 90 - c],
    )


def _angle_sum_exterior(rng: random.Random) -> Problem:
    while True:
        b, c = rng.randint(35, 95), rng.randint(35, 95)
        a = 180 - b - c
        if 35 <= a <= 100 and b != a:
            break
    e = 180 - c
    pts = _triangle_on_base(b, c)
    pts["D"] = (1.45, 0.0)
    pts = _rot(pts, rng, 8)
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    fig.segment("C", "D")
    fig.angle("B", "A", "C", _deg(a), "given", a)
    fig.angle("A", "C", "D", _deg(e), "given", e)
    fig.angle("A", "B", "C", "x°", "unknown", b)
    side = rng.randint(5, 15)
    fig.length("A", "B", str(side), "distractor", side)
    fig.dot("D")
    fig.point_labels("A", "B", "C", "D")
    return Problem(
        kind="angle_sum",
        variant="exterior_angle",
        steps=2,
        facts=["linear pair", "triangle angle sum"],
        given={"angle_BAC": a, "angle_ACD": e},
        unknown="angle_ABC",
        answer=b,
        unit="degrees",
        question="In the figure, B, C and D lie on a line. Find x.",
        figure=fig,
        mistakes=[180 - e, 180 - a, e + a - 90, 180 - b, e / 2, c - a, a],
        distractors={"AB": side},
    )


def _angle_sum_isosceles(rng: random.Random) -> Problem:
    apex = 2 * rng.randint(17, 55)
    base_angle = (180 - apex) // 2
    pts = _rot(_triangle_on_base(base_angle, base_angle), rng, 8)
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    fig.ticks("A", "B")
    fig.ticks("A", "C")
    fig.angle("B", "A", "C", _deg(apex), "given", apex)
    fig.angle("A", "B", "C", "x°", "unknown", base_angle)
    side = rng.randint(5, 16)
    fig.length("B", "C", str(side), "distractor", side)
    fig.point_labels("A", "B", "C")
    return Problem(
        kind="angle_sum",
        variant="isosceles",
        steps=2,
        facts=["isosceles base angles", "triangle angle sum"],
        given={"angle_BAC": apex},
        unknown="angle_ABC",
        answer=base_angle,
        unit="degrees",
        question="In triangle ABC, AB = AC. Find x.",
        figure=fig,
        mistakes=[180 - apex, apex, 90 - apex, 180 - 2 * apex, apex / 2, 90 - apex / 2 + 10],
        distractors={"BC": side},
    )


def _angle_sum_isosceles_exterior(rng: random.Random) -> Problem:
    e = rng.randint(105, 148)
    apex = 2 * e - 180
    base_angle = 180 - e
    pts = _triangle_on_base(base_angle, base_angle)
    ab_math = _dist(pts["A"], pts["B"])
    ab = rng.randint(6, 15)
    cd = max(2, round(0.45 * ab / ab_math))
    pts["D"] = (1.0 + cd * ab_math / ab, 0.0)
    pts = _rot(pts, rng, 8)
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    fig.segment("C", "D")
    fig.ticks("A", "B")
    fig.ticks("A", "C")
    fig.angle("A", "C", "D", _deg(e), "given", e)
    fig.angle("B", "A", "C", "x°", "unknown", apex)
    fig.length("A", "B", str(ab), "distractor", ab)
    fig.length("C", "D", str(cd), "distractor", cd)
    fig.dot("D")
    fig.point_labels("A", "B", "C", "D")
    return Problem(
        kind="angle_sum",
        variant="isosceles_exterior",
        steps=3,
        facts=["linear pair", "isosceles base angles", "triangle angle sum"],
        given={"angle_ACD": e},
        unknown="angle_BAC",
        answer=apex,
        unit="degrees",
        question="In triangle ABC, AB = AC, and B, C and D lie on a line. Find x.",
        figure=fig,
        mistakes=[180 - e, 360 - 2 * e, e - 90, e / 2, 180 - apex, e, 2 * e - 200],
        distractors={"AB": ab, "CD": cd},
    )


def _angle_sum_cevian(rng: random.Random) -> Problem:
    while True:
        b, c = rng.randint(40, 80), rng.randint(40, 80)
        a = 180 - b - c
        if a < 55:
            continue
        p = rng.randint(25, a - 25)
        x = a - p
        adb = 180 - b - p
        if adb >= 35 and b + p <= 145 and x != p:
            break
    pts = _triangle_on_base(b, c)
    ab = _dist(pts["A"], pts["B"])
    bd = ab * math.sin(math.radians(p)) / math.sin(math.radians(adb))
    pts["D"] = (bd, 0.0)
    pts = _rot(pts, rng, 6)
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    fig.segment("A", "D")
    fig.angle("A", "B", "C", _deg(b), "given", b)
    fig.angle("A", "C", "B", _deg(c), "given", c)
    fig.angle("B", "A", "D", _deg(p), "given", p)
    fig.angle("D", "A", "C", "x°", "unknown", x)
    side = rng.randint(4, 12)
    fig.length("B", "D", str(side), "distractor", side)
    fig.dot("D")
    fig.point_labels("A", "B", "C", "D")
    return Problem(
        kind="angle_sum",
        variant="cevian",
        steps=3,
        facts=["triangle angle sum", "linear pair", "triangle angle sum"],
        given={"angle_ABC": b, "angle_ACB": c, "angle_BAD": p},
        unknown="angle_DAC",
        answer=x,
        unit="degrees",
        question="D lies on side BC of triangle ABC. Find x.",
        figure=fig,
        mistakes=[adb, a, 180 - c - p, b + p, 180 - b - c + p, abs(b - c) + p, 180 - x],
        distractors={"BD": side},
    )


# pythagoras ----------------------------------------------------------------------------------------

TRIPLES = [(3, 4, 5), (5, 12, 13), (8, 15, 17), (7, 24, 25), (20, 21, 29), (6, 8, 10), (9, 12, 15)]


def _triple(rng: random.Random, max_hyp: int = 30) -> tuple[int, int, int]:
    while True:
        a, b, c = rng.choice(TRIPLES)
        k = rng.randint(1, max(1, max_hyp // c))
        if rng.random() < 0.5:
            a, b = b, a
        return a * k, b * k, c * k


def _pythagoras_triple(rng: random.Random) -> Problem:
    a, b, c = _triple(rng)  # legs BC = a, AC = b, hypotenuse AB = c
    pts = _rot({"C": (0.0, 0.0), "B": (float(a), 0.0), "A": (0.0, float(b))}, rng, 15)
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    fig.right_angle("A", "C", "B")
    if rng.random() < 0.5:
        fig.length("B", "C", str(a), "given", a)
        fig.length("A", "C", str(b), "given", b)
        fig.length("A", "B", "x", "unknown", c)
        given, unknown, answer = {"BC": a, "AC": b}, "AB", c
        mistakes = [
            a + b,
            c + 1,
            c - 1,
            c + 2,
            abs(a - b) + 1,
            (a + b) - 2,
            round(math.sqrt(a * a + b * b)) + 3,
        ]
        variant = "hypotenuse"
    else:
        fig.length("A", "B", str(c), "given", c)
        fig.length("A", "C", str(b), "given", b)
        fig.length("B", "C", "x", "unknown", a)
        given, unknown, answer = {"AB": c, "AC": b}, "BC", a
        mistakes = [c - b, round(math.sqrt(c * c + b * b)), a + 1, a - 1, a + 2, c + b]
        variant = "leg"
    fig.point_labels("A", "B", "C")
    return Problem(
        kind="pythagoras",
        variant=variant,
        steps=1,
        facts=["Pythagorean theorem"],
        given=given,
        unknown=unknown,
        answer=answer,
        unit="length",
        question="Triangle ABC has a right angle at C. Find x.",
        figure=fig,
        mistakes=mistakes,
    )


def _altitude_figure(rng: random.Random, extend_left: bool) -> tuple[dict[str, Point], dict[str, int]]:
    """Triangle ABC with its altitude AD (D between B and C) and BC extended to E (and to F)."""
    while True:
        bd, ad, ab = _triple(rng, 26)
        dc = rng.randint(3, 16)
        ce = rng.randint(3, 8)
        fb = rng.randint(3, 8) if extend_left else 0
        ac2 = ad * ad + dc * dc
        ac = math.sqrt(ac2)
        if dc == bd or ad < 0.28 * (fb + bd + dc + ce):
            continue
        if math.isqrt(ac2) ** 2 != ac2 and abs((ac * 10) % 1 - 0.5) < 0.02:
            continue  # too close to a rounding tie
        break
    pts = {
        "B": (0.0, 0.0),
        "D": (float(bd), 0.0),
        "C": (float(bd + dc), 0.0),
        "E": (float(bd + dc + ce), 0.0),
        "A": (float(bd), float(ad)),
    }
    if extend_left:
        pts["F"] = (-float(fb), 0.0)
    return pts, {"AB": ab, "BD": bd, "DC": dc, "AD": ad, "CE": ce, "FB": fb}


def _pythagoras_altitude(rng: random.Random) -> Problem:
    pts, v = _altitude_figure(rng, extend_left=False)
    fig = Figure(_rot(pts, rng, 6))
    fig.polyline("B", "D", "C", "E")
    fig.polyline("B", "A", "C")
    fig.segment("A", "D")
    fig.right_angle("A", "D", "C")
    fig.length("A", "B", str(v["AB"]), "given", v["AB"])
    fig.length("B", "D", str(v["BD"]), "given", v["BD"])
    fig.length("D", "C", str(v["DC"]), "given", v["DC"])
    fig.length("C", "E", str(v["CE"]), "distractor", v["CE"])
    ac = math.sqrt(v["AD"] ** 2 + v["DC"] ** 2)
    fig.length("A", "C", "x", "unknown", ac)
    fig.dot("D", "E")
    fig.point_labels("A", "B", "C", "D", "E")
    decimals = 0 if ac.is_integer() else 1
    ab, dc, ad, ce = v["AB"], v["DC"], v["AD"], v["CE"]
    return Problem(
        kind="pythagoras",
        variant="altitude",
        steps=2,
        facts=["Pythagorean theorem", "Pythagorean theorem"],
        given={"AB": ab, "BD": v["BD"], "DC": dc},
        unknown="AC",
        answer=ac,
        unit="length",
        question="AD is perpendicular to BC. Find x." + (" Give x to one decimal place." if decimals else ""),
        figure=fig,
        mistakes=[
            math.sqrt(ab * ab + dc * dc),
            math.sqrt(abs(ab * ab - dc * dc)),
            ad + dc,
            math.sqrt(ad * ad + (dc + ce) ** 2),
            ab,
            ac + 1.3,
        ],
        distractors={"CE": ce},
        decimals=decimals,
    )


def _pythagoras_perimeter(rng: random.Random) -> Problem:
    pts, v = _altitude_figure(rng, extend_left=True)
    fig = Figure(_rot(pts, rng, 6))
    fig.polyline("F", "B", "D", "C", "E")
    fig.polyline("B", "A", "C")
    fig.segment("A", "D")
    fig.right_angle("A", "D", "C")
    for name, role in (
        ("AB", "given"),
        ("BD", "given"),
        ("DC", "given"),
        ("CE", "distractor"),
        ("FB", "distractor"),
    ):
        fig.length(name[0], name[1], str(v[name]), role, v[name])
    fig.dot("D", "E", "F")
    fig.point_labels("A", "B", "C", "D", "E", "F")
    ab, bd, dc, ad, ce, fb = v["AB"], v["BD"], v["DC"], v["AD"], v["CE"], v["FB"]
    ac = math.sqrt(ad * ad + dc * dc)
    perimeter = ab + bd + dc + ac
    decimals = 0 if ac.is_integer() else 1
    return Problem(
        kind="pythagoras",
        variant="perimeter",
        steps=3,
        facts=["Pythagorean theorem", "Pythagorean theorem", "perimeter as a sum of sides"],
        given={"AB": ab, "BD": bd, "DC": dc},
        unknown="perimeter_ABC",
        answer=perimeter,
        unit="length",
        question="AD is perpendicular to BC, and F, B, D, C and E lie on a line. "
        + "Find the perimeter of triangle ABC"
        + (" to one decimal place." if decimals else "."),
        figure=fig,
        mistakes=[
            perimeter + ce,
            perimeter + fb,
            ab + bd + dc + ad,
            ab + bd + dc + math.sqrt(ab * ab + dc * dc),
            perimeter - dc,
            ab + ac + dc,
        ],
        distractors={"CE": ce, "FB": fb},
        decimals=decimals,
    )


# similar ---------------------------------------------------------------------------------------------

RATIOS = [(1, 2), (2, 3), (3, 2), (2, 1), (3, 4), (4, 3), (5, 3), (3, 5), (5, 4), (4, 5)]


def _similar_pair(rng: random.Random) -> Problem:
    while True:
        p, q = rng.choice(RATIOS)
        m, n = rng.randint(1, 6), rng.randint(1, 6)
        ab, bc, de, ef = q * m, q * n, p * m, p * n
        if m != n and 0.5 <= m / n <= 2 and max(ab, bc, de, ef) <= 30 and min(ab, bc, de, ef) >= 2:
            break
    beta = rng.randint(45, 110)
    k = p / q
    a, c = _polar(ab, beta), (float(bc), 0.0)
    gap = 0.3 * max(bc, bc * k) + 2.0
    e = (bc + gap, 0.0)
    pts = {
        "B": (0.0, 0.0),
        "A": a,
        "C": c,
        "E": e,
        "D": (e[0] + k * a[0], k * a[1]),
        "F": (e[0] + k * c[0], 0.0),
    }
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    fig.polyline("D", "E", "F", "D")
    fig.length("A", "B", str(ab), "given", ab)
    fig.length("B", "C", str(bc), "given", bc)
    fig.length("D", "E", str(de), "given", de)
    fig.length("E", "F", "x", "unknown", ef)
    fig.point_labels("A", "B", "C", "D", "E", "F")
    return Problem(
        kind="similar",
        variant="correspondence",
        steps=1,
        facts=["similar triangles have proportional sides"],
        given={"AB": ab, "BC": bc, "DE": de},
        unknown="EF",
        answer=ef,
        unit="length",
        question="Triangle ABC is similar to triangle DEF, with A, B and C corresponding to D, E and F. "
        "Find x.",
        figure=fig,
        mistakes=[bc + de - ab, bc * ab / de, de * ab / bc, bc + de, ef + p, ef - p, de * bc / (ab + 1)],
    )


def _side_splitter_figure(rng: random.Random) -> tuple[dict[str, Point], dict[str, int]]:
    """Triangle ABC (sides s, r, t times v) with D on AB and E on AC at fraction u / v, DE || BC."""
    while True:
        s, r, t = rng.randint(2, 6), rng.randint(2, 6), rng.randint(2, 6)
        if not (s < r + t and r < s + t and t < s + r):
            continue
        cos_a = (s * s + r * r - t * t) / (2 * s * r)
        cos_b = (s * s + t * t - r * r) / (2 * s * t)
        cos_c = (r * r + t * t - s * s) / (2 * r * t)
        angles = [math.degrees(math.acos(x)) for x in (cos_a, cos_b, cos_c)]
        if min(angles) >= 38 and max(angles) <= 95:
            break
    u, v = rng.choice([(1, 2), (1, 3), (2, 3), (2, 5), (3, 5), (3, 4)])
    g = rng.choice([1, 1, 2]) if max(s, r, t) * v <= 15 else 1
    ab, ac, bc = s * v * g, r * v * g, t * v * g
    ax = (ab * ab - ac * ac + bc * bc) / (2 * bc)
    a = (ax, math.sqrt(ab * ab - ax * ax))
    pts = {"B": (0.0, 0.0), "C": (float(bc), 0.0), "A": a}
    pts["D"] = _lerp(a, pts["B"], u / v)
    pts["E"] = _lerp(a, pts["C"], u / v)
    values = {
        "AD": s * u * g,
        "DB": s * (v - u) * g,
        "AE": r * u * g,
        "EC": r * (v - u) * g,
        "DE": t * u * g,
        "BC": bc,
        "AB": ab,
        "AC": ac,
    }
    return pts, values


def _similar_parallel(rng: random.Random) -> Problem:
    pts, v = _side_splitter_figure(rng)
    fig = Figure(_rot(pts, rng, 6))
    fig.polyline("A", "D", "B", "C", "E", "A")
    fig.segment("D", "E")
    fig.arrows("D", "E")
    fig.arrows("B", "C")
    fig.length("A", "D", str(v["AD"]), "given", v["AD"])
    fig.length("D", "B", str(v["DB"]), "given", v["DB"])
    fig.length("D", "E", str(v["DE"]), "given", v["DE"])
    fig.length("A", "E", str(v["AE"]), "distractor", v["AE"])
    fig.length("B", "C", "x", "unknown", v["BC"])
    fig.dot("D", "E")
    fig.point_labels("A", "B", "C", "D", "E")
    ad, db, de = v["AD"], v["DB"], v["DE"]
    return Problem(
        kind="similar",
        variant="side_splitter",
        steps=2,
        facts=["segment addition", "similar triangles ADE and ABC"],
        given={"AD": ad, "DB": db, "DE": de},
        unknown="BC",
        answer=v["BC"],
        unit="length",
        question="In triangle ABC, D lies on AB, E lies on AC, and DE is parallel to BC. Find x.",
        figure=fig,
        mistakes=[de * (ad + db) / db, de + db, de * db / ad, 2 * de, de * ad / db, v["BC"] + v["DE"] // 2],
        distractors={"AE": v["AE"]},
    )


def _similar_perimeter(rng: random.Random) -> Problem:
    pts, v = _side_splitter_figure(rng)
    fig = Figure(_rot(pts, rng, 6))
    fig.polyline("A", "D", "B", "C", "E", "A")
    fig.segment("D", "E")
    fig.arrows("D", "E")
    fig.arrows("B", "C")
    for name in ("AD", "DB", "AE", "DE"):
        fig.length(name[0], name[1], str(v[name]), "given", v[name])
    fig.dot("D", "E")
    fig.point_labels("A", "B", "C", "D", "E")
    ad, db, ae, de = v["AD"], v["DB"], v["AE"], v["DE"]
    perimeter = v["AB"] + v["AC"] + v["BC"]
    return Problem(
        kind="similar",
        variant="perimeter",
        steps=3,
        facts=["segment addition", "similar triangles ADE and ABC", "perimeter as a sum of sides"],
        given={"AD": ad, "DB": db, "AE": ae, "DE": de},
        unknown="perimeter_ABC",
        answer=perimeter,
        unit="length",
        question="In triangle ABC, D lies on AB, E lies on AC, and DE is parallel to BC. "
        "Find the perimeter of triangle ABC.",
        figure=fig,
        mistakes=[
            ad + db + ae + de,
            (ad + ae + de) * (ad + db) / db,
            ad + db + ae + de + db,
            v["AB"] + v["AC"] + de,
            perimeter - v["EC"],
            2 * (ad + ae + de),
        ],
    )


# inscribed -------------------------------------------------------------------------------------------


def _on_circle(degrees: float) -> Point:
    return _polar(1.0, degrees)


def _inscribed_central(rng: random.Random) -> Problem:
    y = rng.randint(30, 75)
    start = rng.uniform(0, 360)
    pts = {"O": (0.0, 0.0), "A": _on_circle(start), "B": _on_circle(start + 2 * y)}
    while True:
        pts["C"] = _on_circle(start + 2 * y + rng.uniform(0.3, 0.7) * (360 - 2 * y))
        if _clear_of_centre(pts, ("A", "C"), ("B", "C")):
            break
    mode = rng.choice(["central_to_inscribed", "inscribed_to_central", "arc_to_inscribed"])
    fig = Figure(pts, circle=("O", 1.0))
    fig.polyline("A", "C", "B")
    if mode == "arc_to_inscribed":
        fig.arc_label("A", "B", _deg(2 * y), "given", 2 * y)
        fig.angle("A", "C", "B", "x°", "unknown", y)
        given, unknown, answer = {"arc_AB": 2 * y}, "angle_ACB", y
        question = "A, B and C lie on the circle; the label beside arc AB is its measure. Find x."
        mistakes = [2 * y, 180 - y, 180 - 2 * y, 90 - y, y / 2, 360 - 2 * y]
    else:
        fig.polyline("A", "O", "B")
        fig.dot("O")
        if mode == "central_to_inscribed":
            fig.angle("A", "O", "B", _deg(2 * y), "given", 2 * y)
            fig.angle("A", "C", "B", "x°", "unknown", y)
            given, unknown, answer = {"angle_AOB": 2 * y}, "angle_ACB", y
            mistakes = [2 * y, 180 - y, 180 - 2 * y, 90 - y, y / 2, 360 - 2 * y]
        else:
            fig.angle("A", "C", "B", _deg(y), "given", y)
            fig.angle("A", "O", "B", "x°", "unknown", 2 * y)
            given, unknown, answer = {"angle_ACB": y}, "angle_AOB", 2 * y
            mistakes = [y, 180 - y, 180 - 2 * y, y / 2, 90 + y, 3 * y]
        question = "O is the centre of the circle. Find x."
    fig.point_labels(*(["A", "B", "C"] if mode == "arc_to_inscribed" else ["O", "A", "B", "C"]))
    return Problem(
        kind="inscribed",
        variant=mode,
        steps=1,
        facts=["inscribed angle is half the central angle / arc"],
        given=given,
        unknown=unknown,
        answer=answer,
        unit="degrees",
        question=question,
        figure=fig,
        mistakes=mistakes,
    )


def _inscribed_thales(rng: random.Random) -> Problem:
    a = rng.choice([k for k in range(25, 66) if k != 45])
    pts = {"O": (0.0, 0.0), "A": (-1.0, 0.0), "B": (1.0, 0.0), "C": _on_circle(2 * a)}
    pts = _rot(pts, rng, 20)
    fig = Figure(pts, circle=("O", 1.0))
    fig.polyline("A", "C", "B", "A")
    fig.dot("O")
    fig.angle("C", "A", "B", _deg(a), "given", a)
    fig.angle("A", "B", "C", "x°", "unknown", 90 - a)
    side = rng.randint(5, 14)
    fig.length("A", "C", str(side), "distractor", side)
    fig.point_labels("O", "A", "B", "C")
    return Problem(
        kind="inscribed",
        variant="thales",
        steps=2,
        facts=["angle in a semicircle is 90°", "triangle angle sum"],
        given={"angle_CAB": a},
        unknown="angle_ABC",
        answer=90 - a,
        unit="degrees",
        question="AB is a diameter of the circle with centre O. Find x.",
        figure=fig,
        mistakes=[a, 180 - a, 90 + a, 180 - 2 * a, 2 * a, 90 - a / 2],
        distractors={"AC": side},
    )


def _inscribed_isosceles(rng: random.Random) -> Problem:
    a = rng.randint(20, 58)
    central = 180 - 2 * a
    start = rng.uniform(0, 360)
    pts = {"O": (0.0, 0.0), "A": _on_circle(start), "B": _on_circle(start + central)}
    while True:
        pts["C"] = _on_circle(start + central + rng.uniform(0.3, 0.7) * (360 - central))
        if _clear_of_centre(pts, ("A", "C"), ("B", "C")):
            break
    fig = Figure(pts, circle=("O", 1.0))
    fig.polyline("A", "O", "B", "A")
    fig.polyline("A", "C", "B")
    fig.dot("O")
    fig.angle("O", "A", "B", _deg(a), "given", a)
    fig.angle("A", "C", "B", "x°", "unknown", 90 - a)
    radius = rng.randint(4, 12)
    fig.length("O", "B", str(radius), "distractor", radius)
    fig.point_labels("O", "A", "B", "C")
    return Problem(
        kind="inscribed",
        variant="isosceles_radii",
        steps=2,
        facts=["radii are equal (isosceles triangle OAB)", "inscribed angle is half the central angle"],
        given={"angle_OAB": a},
        unknown="angle_ACB",
        answer=90 - a,
        unit="degrees",
        question="O is the centre of the circle. Find x.",
        figure=fig,
        mistakes=[central, a, 2 * a, 180 - a, 90 + a, central / 4],
        distractors={"OB": radius},
    )


def _clear_of_centre(pts: dict[str, Point], *chords: tuple[str, str]) -> bool:
    """No chord passes close to the centre O (it would read as a diameter)."""
    return all(_line_distance(pts["O"], pts[a], pts[b]) >= 0.15 for a, b in chords)


def _line_distance(v: Point, p: Point, q: Point) -> float:
    return abs((q[0] - p[0]) * (v[1] - p[1]) - (q[1] - p[1]) * (v[0] - p[0])) / (_dist(p, q) or 1.0)


def _inscribed_reflex(rng: random.Random) -> Problem:
    """D on the minor arc AB: the inscribed angle ADB is half the reflex central angle."""
    a = rng.randint(20, 40)
    central = 180 - 2 * a
    start = rng.uniform(0, 360)
    pts = {
        "O": (0.0, 0.0),
        "A": _on_circle(start),
        "B": _on_circle(start + central),
        "D": _on_circle(start + rng.uniform(0.4, 0.6) * central),
    }
    fig = Figure(pts, circle=("O", 1.0))
    fig.polyline("A", "O", "B", "A")
    fig.polyline("A", "D", "B")
    fig.dot("O")
    fig.angle("O", "A", "B", _deg(a), "given", a)
    fig.angle("O", "B", "A", _deg(a), "distractor", a)
    fig.angle("A", "D", "B", "x°", "unknown", 90 + a)
    radius = rng.randint(4, 12)
    fig.length("O", "A", str(radius), "distractor", radius)
    fig.point_labels("O", "A", "B", "D")
    return Problem(
        kind="inscribed",
        variant="reflex_arc",
        steps=3,
        facts=[
            "triangle angle sum in isosceles OAB",
            "the major arc AB is 360° minus the central angle",
            "inscribed angle is half its arc",
        ],
        given={"angle_OAB": a},
        unknown="angle_ADB",
        answer=90 + a,
        unit="degrees",
        question="O is the centre of the circle, and D lies on the minor arc AB. Find x.",
        figure=fig,
        mistakes=[90 - a, central, 180 - a, 2 * a + 90, 180 - central / 2 + a, 90 + 2 * a, 180 - 2 * a + a],
        distractors={"angle_OBA": a, "OA": radius},
    )


# parallel --------------------------------------------------------------------------------------------

# At an intersection the transversal (up / down) and the parallel line (left / right) make four angles.
POSITIONS = ("ur", "ul", "dl", "dr")
NAMED_RELATIONS = {
    "corresponding": [(p, p) for p in POSITIONS],
    "alternate interior": [("dl", "ur"), ("dr", "ul")],
    "alternate exterior": [("ul", "dr"), ("ur", "dl")],
    "co-interior": [("dl", "ul"), ("dr", "ur")],
}
TWO_STEP_PAIRS = [("ur", "ul"), ("ul", "ur"), ("dl", "dr"), ("dr", "dl")]


def _transversal_figure(rng: random.Random) -> tuple[dict[str, Point], int]:
    phi = rng.choice([k for k in range(40, 141) if abs(k - 90) >= 18])
    direction = _polar(1.0, phi)
    p = (0.0, 1.0)
    q = (p[0] - direction[0] / direction[1], 0.0)
    left, right = min(p[0], q[0]) - 1.3, max(p[0], q[0]) + 1.3
    pts = {
        "P": p,
        "Q": q,
        "T1": (p[0] + 0.75 * direction[0], p[1] + 0.75 * direction[1]),
        "T2": (q[0] - 0.75 * direction[0], q[1] - 0.75 * direction[1]),
        "M1": (left, 1.0),
        "M2": (right, 1.0),
        "N1": (left, 0.0),
        "N2": (right, 0.0),
    }
    return _rot(pts, rng, 12, mirror=False), phi


def _position_rays(vertex: str, position: str) -> tuple[str, str]:
    left, right = ("M1", "M2") if vertex == "P" else ("N1", "N2")
    return {"ur": (right, "T1"), "ul": ("T1", left), "dl": (left, "T2"), "dr": ("T2", right)}[position]


def _position_value(position: str, phi: int) -> int:
    return phi if position in ("ur", "dl") else 180 - phi


def _parallel_lines(fig: Figure) -> None:
    fig.segment("M1", "M2")
    fig.segment("N1", "N2")
    fig.arrows("M1", "M2")
    fig.arrows("N1", "N2")
    fig.line_name("M2", "M1", "m")
    fig.line_name("N2", "N1", "n")


def _parallel_pair(rng: random.Random, two_step: bool) -> Problem:
    pts, phi = _transversal_figure(rng)
    if two_step:
        relation = "linear pair + corresponding"
        pos_p, pos_q = rng.choice(TWO_STEP_PAIRS)
    else:
        relation = rng.choice(sorted(NAMED_RELATIONS))
        pos_p, pos_q = rng.choice(NAMED_RELATIONS[relation])
    given_at, unknown_at = ("P", pos_p), ("Q", pos_q)
    if rng.random() < 0.5:
        given_at, unknown_at = unknown_at, given_at
    fig = Figure(pts)
    _parallel_lines(fig)
    fig.segment("T1", "T2")
    g = _position_value(given_at[1], phi)
    answer = _position_value(unknown_at[1], phi)
    ga, gb = _position_rays(*given_at)
    ua, ub = _position_rays(*unknown_at)
    fig.angle(ga, given_at[0], gb, _deg(g), "given", g)
    fig.angle(ua, unknown_at[0], ub, "x°", "unknown", answer)
    return Problem(
        kind="parallel",
        variant="two_step_pair" if two_step else relation.replace(" ", "_").replace("-", "_"),
        steps=2 if two_step else 1,
        facts=["linear pair", "corresponding angles"] if two_step else [f"{relation} angles"],
        given={f"angle_{ga}{given_at[0]}{gb}": g},
        unknown=f"angle_{ua}{unknown_at[0]}{ub}",
        answer=answer,
        unit="degrees",
        question="Lines m and n are parallel. Find x.",
        figure=fig,
        mistakes=[180 - answer, 90 - answer / 2, answer / 2, 2 * answer, abs(90 - answer), 180 - answer / 2],
        extra={"given_position": list(given_at), "unknown_position": list(unknown_at), "relation": relation},
    )


def _parallel_triangle_figure(rng: random.Random, alpha: int, gamma: int, extend: bool) -> dict[str, Point]:
    a = (0.0, 1.0)
    b = (-1.0 / math.tan(math.radians(alpha)), 0.0)
    c = (1.0 / math.tan(math.radians(gamma)), 0.0)
    right = c[0] + (0.75 if extend else 0.0)
    pts = {
        "A": a,
        "B": b,
        "C": c,
        "M1": (min(b[0], -0.4) - 0.7, 1.0),
        "M2": (max(right, 0.4) + 0.7, 1.0),
        "N1": (min(b[0], -0.4) - 0.7, 0.0),
        "N2": (max(right, 0.4) + 0.7, 0.0),
    }
    if extend:
        pts["D"] = (right, 0.0)
        u = _unit(a, c)
        pts["G"] = (c[0] + 0.4 * u[0], c[1] + 0.4 * u[1])
    return _rot(pts, rng, 8, mirror=True)


def _parallel_triangle(rng: random.Random) -> Problem:
    while True:
        alpha, gamma = rng.randint(35, 78), rng.randint(35, 78)
        x = 180 - alpha - gamma
        if x >= 30 and x not in (alpha, gamma):
            break
    fig = Figure(_parallel_triangle_figure(rng, alpha, gamma, extend=False))
    _parallel_lines(fig)
    fig.polyline("B", "A", "C")
    fig.dot("A", "B", "C")
    fig.angle("M1", "A", "B", _deg(alpha), "given", alpha)
    fig.angle("A", "C", "B", _deg(gamma), "given", gamma)
    fig.angle("B", "A", "C", "x°", "unknown", x)
    side = rng.randint(5, 14)
    fig.length("A", "B", str(side), "distractor", side)
    fig.point_labels("A", "B", "C")
    return Problem(
        kind="parallel",
        variant="triangle",
        steps=2,
        facts=["alternate interior angles", "triangle angle sum"],
        given={"angle_M1AB": alpha, "angle_ACB": gamma},
        unknown="angle_BAC",
        answer=x,
        unit="degrees",
        question="Lines m and n are parallel; A is on m, and B and C are on n. Find x.",
        figure=fig,
        mistakes=[180 - alpha, 180 - gamma, alpha + gamma, abs(alpha - gamma), 180 - x / 2, 90 - x / 2],
        distractors={"AB": side},
    )


def _parallel_exterior(rng: random.Random) -> Problem:
    while True:
        alpha, gamma = rng.randint(35, 78), rng.randint(35, 78)
        x = 180 - alpha - gamma
        if x >= 30 and x not in (alpha, gamma):
            break
    e = 180 - gamma
    fig = Figure(_parallel_triangle_figure(rng, alpha, gamma, extend=True))
    _parallel_lines(fig)
    fig.polyline("B", "A", "C", "G")
    fig.dot("A", "B", "C", "D")
    fig.angle("M1", "A", "B", _deg(alpha), "given", alpha)
    fig.angle("A", "C", "D", _deg(e), "given", e)
    fig.angle("B", "C", "G", _deg(e), "distractor", e)
    fig.angle("B", "A", "C", "x°", "unknown", x)
    side = rng.randint(5, 14)
    fig.length("A", "B", str(side), "distractor", side)
    fig.point_labels("A", "B", "C", "D")
    return Problem(
        kind="parallel",
        variant="exterior_angle",
        steps=3,
        facts=["alternate interior angles", "linear pair", "triangle angle sum"],
        given={"angle_M1AB": alpha, "angle_ACD": e},
        unknown="angle_BAC",
        answer=x,
        unit="degrees",
        question="Lines m and n are parallel; A is on m, and B, C and D are on n. Find x.",
        figure=fig,
        mistakes=[180 - e - alpha, 180 - e, e + alpha - 90, alpha, 180 - x, e - x / 2, 180 - alpha],
        distractors={"angle_BCG": e, "AB": side},
    )


def _parallel_zigzag(rng: random.Random) -> Problem:
    while True:
        a, b = rng.randint(25, 65), rng.randint(25, 65)
        if 60 <= a + b <= 140 and a != b:
            break
    py = rng.uniform(0.4, 0.6)
    p = ((1 - py) / math.tan(math.radians(a)), py)
    b_point = (p[0] - py / math.tan(math.radians(b)), 0.0)
    left = min(0.0, b_point[0]) - 0.8
    right = p[0] + 0.6
    pts = {
        "A": (0.0, 1.0),
        "P": p,
        "B": b_point,
        "M1": (left, 1.0),
        "M2": (right, 1.0),
        "N1": (left, 0.0),
        "N2": (right, 0.0),
    }
    fig = Figure(_rot(pts, rng, 8))
    _parallel_lines(fig)
    fig.polyline("A", "P", "B")
    fig.dot("A", "B", "P")
    fig.angle("M2", "A", "P", _deg(a), "given", a)
    fig.angle("N2", "B", "P", _deg(b), "given", b)
    fig.angle("M1", "A", "P", _deg(180 - a), "distractor", 180 - a)
    fig.angle("A", "P", "B", "x°", "unknown", a + b)
    side = rng.randint(4, 12)
    fig.length("A", "P", str(side), "distractor", side)
    fig.point_labels("A", "B", "P")
    return Problem(
        kind="parallel",
        variant="zigzag",
        steps=3,
        facts=["draw the parallel through P", "alternate interior angles (twice)", "angle addition"],
        given={"angle_M2AP": a, "angle_N2BP": b},
        unknown="angle_APB",
        answer=a + b,
        unit="degrees",
        question="Lines m and n are parallel; A is on m, B is on n, and P lies between them. Find x.",
        figure=fig,
        mistakes=[180 - a - b, abs(a - b), (a + b) / 2, 180 - a + b, 360 - 2 * (a + b), 90 + abs(a - b)],
        distractors={"angle_M1AP": 180 - a, "AP": side},
    )


VARIANTS: dict[str, dict[int, list[Callable[[random.Random], Problem]]]] = {
    "angle_sum": {
        1: [_angle_sum_third],
        2: [_angle_sum_exterior, _angle_sum_isosceles],
        3: [_angle_sum_isosceles_exterior, _angle_sum_cevian],
    },
    "pythagoras": {1: [_pythagoras_triple], 2: [_pythagoras_altitude], 3: [_pythagoras_perimeter]},
    "similar": {1: [_similar_pair], 2: [_similar_parallel], 3: [_similar_perimeter]},
    "inscribed": {
        1: [_inscribed_central],
        2: [_inscribed_thales, _inscribed_isosceles],
        3: [_inscribed_reflex],
    },
    "parallel": {
        1: [lambda rng: _parallel_pair(rng, two_step=False)],
        2: [lambda rng: _parallel_pair(rng, two_step=True), _parallel_triangle],
        3: [_parallel_exterior, _parallel_zigzag],
    },
}
KINDS = tuple(VARIANTS)


# --------------------------------------------------------------------------------------------------
# Options


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _options(rng: random.Random, problem: Problem, difficulty: int) -> tuple[list[str], int]:
    """The answer and three wrong options: up to `difficulty` typical mistakes, then nearby values.

    The answer's rank among the four values is drawn uniformly first (how many wrong options lie
    below it), so "pick the middle value" or "pick the largest" does no better than chance.
    """
    d = problem.decimals
    answer = _fmt(problem.answer, d)
    value = float(answer)
    taken = {answer}
    wrong: list[str] = []
    gap = 2.0 if problem.unit == "degrees" else (1.0 if d == 0 else 0.5)  # options never near-equal
    below = rng.randint(0, 3)  # wrong options smaller than the answer

    def usable(candidate: float, quota: bool = True) -> str | None:
        if not math.isfinite(candidate) or candidate <= 0:
            return None
        if problem.unit == "degrees" and candidate >= 180:
            return None
        if d == 0 and not float(candidate).is_integer():
            return None
        text = _fmt(candidate, d)
        number = float(text)
        if number <= 0 or any(abs(number - float(t)) < gap for t in taken):
            return None
        n_below = sum(float(t) < value for t in wrong)
        if quota and (n_below >= below if number < value else len(wrong) - n_below >= 3 - below):
            return None
        return text

    mistakes = list(problem.mistakes)
    rng.shuffle(mistakes)
    for candidate in mistakes:
        if len(wrong) >= difficulty:
            break
        text = usable(candidate)
        if text is not None:
            taken.add(text)
            wrong.append(text)
    tries = 0
    while len(wrong) < 3:
        tries += 1
        widen = 1 + tries // 20  # a small answer leaves few nearby values: look farther
        if problem.unit == "degrees":
            delta = float(rng.randint(4, 30 * widen))
        elif d == 0:
            delta = float(rng.randint(1, max(3, round(problem.answer * 0.4)) * widen))
        else:
            delta = rng.randint(5, max(8, round(problem.answer * 3)) * widen) / 10
        n_below = sum(float(t) < value for t in wrong)
        strict = tries < 100  # no room for the drawn rank (a small answer): any side will do
        direction = (-1 if n_below < below else 1) if strict else rng.choice((-1, 1))
        text = usable(problem.answer + direction * delta, quota=strict)
        if text is not None:
            taken.add(text)
            wrong.append(text)
    options = [answer, *wrong]
    rng.shuffle(options)
    return options, options.index(answer)


# --------------------------------------------------------------------------------------------------


class GeometryGenerator:
    """Plane-geometry diagrams with four-option questions (scored like Geometry3K)."""

    name = "geometry"
    version = "1"
    description = (
        "Plane-geometry diagrams (triangles, circles, parallel lines) drawn to scale with labelled "
        "points, angles and lengths; four-option questions on angle sums, Pythagoras, similar triangles, "
        "inscribed angles and parallel lines; 1 / 2 / 3 chained facts by difficulty."
    )

    def make(self, rng: random.Random, difficulty: int) -> SynthItem:
        kind = rng.choice(KINDS)
        build = rng.choice(VARIANTS[kind][difficulty])
        for _ in range(50):
            problem = build(rng)
            image, clear = problem.figure.finish()
            if clear:
                break
        options, index = _options(rng, problem, difficulty)
        figure = problem.figure.record()
        labelled = [label for label in figure["labels"] if label["role"] != "line"]
        structure = {
            "kind": problem.kind,
            "variant": problem.variant,
            "steps": problem.steps,
            "facts": problem.facts,
            "given": problem.given,
            "distractors": problem.distractors,
            "unknown": problem.unknown,
            "unit": problem.unit,
            "decimals": problem.decimals,
            "answer_value": round(problem.answer, problem.decimals),
            "options": options,
            "n_elements": len(labelled),
            **problem.extra,
            "figure": figure,
        }
        return SynthItem(
            question=problem.question,
            answer=options[index],
            answer_type="multiple_choice",
            image=image,
            structure=_plain(structure),
            choices=options,
            meta={
                "kind": problem.kind,
                "variant": problem.variant,
                "steps": problem.steps,
                "answer_index": index,
                "labels_clear": clear,
            },
        )


def _plain(value: Any) -> Any:
    """JSON-ready copy: tuples become lists, integral floats stay floats (values keep their type)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


__all__ = ["GeometryGenerator"]
