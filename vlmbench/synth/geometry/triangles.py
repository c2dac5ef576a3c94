"""`angle_sum` questions: the third angle of a triangle; an exterior angle; an isosceles triangle
(with its apex, or with an exterior angle); a cevian splitting the apex angle."""

from __future__ import annotations

import math
import random

from vlmbench.synth.geometry.figure import Figure
from vlmbench.synth.geometry.plane import Point, distance, polar, random_pose
from vlmbench.synth.geometry.problem import Family, Problem


def _triangle_on_base(angle_b: float, angle_c: float, base: float = 1.0) -> dict[str, Point]:
    """B = (0, 0), C = (base, 0) and the apex A with the given base angles."""
    angle_a = 180.0 - angle_b - angle_c
    ab = base * math.sin(math.radians(angle_c)) / math.sin(math.radians(angle_a))
    return {"B": (0.0, 0.0), "C": (base, 0.0), "A": polar(ab, angle_b)}


def _triangle_figure(
    pts: dict[str, Point], line: tuple[str, str] | None = None, isosceles: bool = False
) -> Figure:
    """Triangle ABC, plus the segment `line` if any (BC extended to D, or a cevian AD), and the
    equal-side marks AB = AC if `isosceles`."""
    fig = Figure(pts)
    fig.polyline("A", "B", "C", "A")
    if line is not None:
        fig.segment(*line)
    if isosceles:
        fig.ticks("A", "B")
        fig.ticks("A", "C")
    return fig


def _name_with_d(fig: Figure) -> None:
    """D, the extra point on line BC, gets a dot; all four points get names."""
    fig.dot("D")
    fig.point_labels("A", "B", "C", "D")


def _third_angle(rng: random.Random) -> Problem:
    while True:
        a, b = rng.randint(35, 100), rng.randint(35, 100)
        c = 180 - a - b
        if 35 <= c <= 100:
            break
    pts = random_pose(_triangle_on_base(a, b), rng, 10)
    # _triangle_on_base puts the apex at A; rename so the triangle reads A (left), B (right), C (apex)
    fig = _triangle_figure({"A": pts["B"], "B": pts["C"], "C": pts["A"]})
    fig.angle("B", "A", "C", a)
    fig.angle("A", "B", "C", b)
    fig.angle("A", "C", "B", c, "unknown")
    fig.point_labels("A", "B", "C")
    return Problem(
        variant="third_angle",
        facts=["triangle angle sum"],
        question="In triangle ABC, find x.",
        figure=fig,
        mistakes=[180 - a, 180 - b, a + b, 2 * c, c / 2, abs(a - b), 90 - c],
    )


def _exterior_angle(rng: random.Random) -> Problem:
    while True:
        b, c = rng.randint(35, 95), rng.randint(35, 95)
        a = 180 - b - c
        if 35 <= a <= 100 and b != a:
            break
    e = 180 - c
    pts = _triangle_on_base(b, c)
    pts["D"] = (1.45, 0.0)
    fig = _triangle_figure(random_pose(pts, rng, 8), line=("C", "D"))
    fig.angle("B", "A", "C", a)
    fig.angle("A", "C", "D", e)
    fig.angle("A", "B", "C", b, "unknown")
    fig.length("A", "B", rng.randint(5, 15), "distractor")
    _name_with_d(fig)
    return Problem(
        variant="exterior_angle",
        facts=["linear pair", "triangle angle sum"],
        question="In the figure, B, C and D lie on a line. Find x.",
        figure=fig,
        mistakes=[180 - e, 180 - a, e + a - 90, 180 - b, e / 2, c - a, a],
    )


def _isosceles(rng: random.Random) -> Problem:
    apex = 2 * rng.randint(17, 55)
    base_angle = (180 - apex) // 2
    fig = _triangle_figure(random_pose(_triangle_on_base(base_angle, base_angle), rng, 8), isosceles=True)
    fig.angle("B", "A", "C", apex)
    fig.angle("A", "B", "C", base_angle, "unknown")
    fig.length("B", "C", rng.randint(5, 16), "distractor")
    fig.point_labels("A", "B", "C")
    return Problem(
        variant="isosceles",
        facts=["isosceles base angles", "triangle angle sum"],
        question="In triangle ABC, AB = AC. Find x.",
        figure=fig,
        mistakes=[180 - apex, apex, 90 - apex, 180 - 2 * apex, apex / 2, 90 - apex / 2 + 10],
    )


def _isosceles_exterior(rng: random.Random) -> Problem:
    e = rng.randint(105, 148)
    apex = 2 * e - 180
    base_angle = 180 - e
    pts = _triangle_on_base(base_angle, base_angle)
    ab_math = distance(pts["A"], pts["B"])
    ab = rng.randint(6, 15)
    cd = max(2, round(0.45 * ab / ab_math))
    pts["D"] = (1.0 + cd * ab_math / ab, 0.0)
    fig = _triangle_figure(random_pose(pts, rng, 8), line=("C", "D"), isosceles=True)
    fig.angle("A", "C", "D", e)
    fig.angle("B", "A", "C", apex, "unknown")
    fig.length("A", "B", ab, "distractor")
    fig.length("C", "D", cd, "distractor")
    _name_with_d(fig)
    return Problem(
        variant="isosceles_exterior",
        facts=["linear pair", "isosceles base angles", "triangle angle sum"],
        question="In triangle ABC, AB = AC, and B, C and D lie on a line. Find x.",
        figure=fig,
        mistakes=[180 - e, 360 - 2 * e, e - 90, e / 2, 180 - apex, e, 2 * e - 200],
    )


def _cevian(rng: random.Random) -> Problem:
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
    ab = distance(pts["A"], pts["B"])
    pts["D"] = (ab * math.sin(math.radians(p)) / math.sin(math.radians(adb)), 0.0)
    fig = _triangle_figure(random_pose(pts, rng, 6), line=("A", "D"))
    fig.angle("A", "B", "C", b)
    fig.angle("A", "C", "B", c)
    fig.angle("B", "A", "D", p)
    fig.angle("D", "A", "C", x, "unknown")
    fig.length("B", "D", rng.randint(4, 12), "distractor")
    _name_with_d(fig)
    return Problem(
        variant="cevian",
        facts=["triangle angle sum", "linear pair", "triangle angle sum"],
        question="D lies on side BC of triangle ABC. Find x.",
        figure=fig,
        mistakes=[adb, a, 180 - c - p, b + p, 180 - b - c + p, abs(b - c) + p, 180 - x],
    )


ANGLE_SUM = Family(
    kind="angle_sum",
    unit="degrees",
    builders={1: [_third_angle], 2: [_exterior_angle, _isosceles], 3: [_isosceles_exterior, _cevian]},
)
