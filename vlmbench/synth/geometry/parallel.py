"""`parallel` questions: corresponding / alternate / co-interior angles at a transversal; parallel
lines with a triangle between them; its exterior angle; the "zigzag" between two parallels."""

from __future__ import annotations

import math
import random

from vlmbench.synth.geometry.figure import Figure
from vlmbench.synth.geometry.plane import Point, polar, random_pose, unit_vector
from vlmbench.synth.geometry.problem import Family, Problem

# At an intersection the transversal (up / down) and the parallel line (left / right) make four angles.
POSITIONS = ("ur", "ul", "dl", "dr")
NAMED_RELATIONS = {
    "corresponding": [(p, p) for p in POSITIONS],
    "alternate interior": [("dl", "ur"), ("dr", "ul")],
    "alternate exterior": [("ul", "dr"), ("ur", "dl")],
    "co-interior": [("dl", "ul"), ("dr", "ur")],
}
TWO_STEP_PAIRS = [("ur", "ul"), ("ul", "ur"), ("dl", "dr"), ("dr", "dl")]


def _parallel_lines(fig: Figure) -> None:
    """Lines m (M1-M2) and n (N1-N2), with parallel marks and names."""
    fig.segment("M1", "M2")
    fig.segment("N1", "N2")
    fig.arrows("M1", "M2")
    fig.arrows("N1", "N2")
    fig.line_name("M2", "M1", "m")
    fig.line_name("N2", "N1", "n")


def _with_lines(pts: dict[str, Point], left: float, right: float) -> dict[str, Point]:
    """`pts` with m (y = 1) and n (y = 0) running from x = left to x = right."""
    return {**pts, "M1": (left, 1.0), "M2": (right, 1.0), "N1": (left, 0.0), "N2": (right, 0.0)}


# a transversal --------------------------------------------------------------------------------------


def _transversal_points(rng: random.Random) -> tuple[dict[str, Point], int]:
    """m and n cut by the transversal T1-P-Q-T2 at `phi` degrees."""
    phi = rng.choice([k for k in range(40, 141) if abs(k - 90) >= 18])
    direction = polar(1.0, phi)
    p = (0.0, 1.0)
    q = (p[0] - direction[0] / direction[1], 0.0)
    pts = {
        "P": p,
        "Q": q,
        "T1": (p[0] + 0.75 * direction[0], p[1] + 0.75 * direction[1]),
        "T2": (q[0] - 0.75 * direction[0], q[1] - 0.75 * direction[1]),
    }
    pts = _with_lines(pts, min(p[0], q[0]) - 1.3, max(p[0], q[0]) + 1.3)
    return random_pose(pts, rng, 12, mirror=False), phi


def _position_rays(vertex: str, position: str) -> tuple[str, str]:
    """The two rays (as far points) that bound the angle at `position` of intersection P or Q."""
    left, right = ("M1", "M2") if vertex == "P" else ("N1", "N2")
    return {"ur": (right, "T1"), "ul": ("T1", left), "dl": (left, "T2"), "dr": ("T2", right)}[position]


def _position_value(position: str, phi: int) -> int:
    return phi if position in ("ur", "dl") else 180 - phi


def _angle_pair(rng: random.Random, two_step: bool) -> Problem:
    pts, phi = _transversal_points(rng)
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
    answer = _position_value(unknown_at[1], phi)
    ga, gb = _position_rays(*given_at)
    ua, ub = _position_rays(*unknown_at)
    fig.angle(ga, given_at[0], gb, _position_value(given_at[1], phi))
    fig.angle(ua, unknown_at[0], ub, answer, "unknown")
    return Problem(
        variant="two_step_pair" if two_step else relation.replace(" ", "_").replace("-", "_"),
        facts=["linear pair", "corresponding angles"] if two_step else [f"{relation} angles"],
        question="Lines m and n are parallel. Find x.",
        figure=fig,
        mistakes=[180 - answer, 90 - answer / 2, answer / 2, 2 * answer, abs(90 - answer), 180 - answer / 2],
        extra={"given_position": list(given_at), "unknown_position": list(unknown_at), "relation": relation},
    )


def _one_step_pair(rng: random.Random) -> Problem:
    return _angle_pair(rng, two_step=False)


def _two_step_pair(rng: random.Random) -> Problem:
    return _angle_pair(rng, two_step=True)


# a triangle between the lines ----------------------------------------------------------------------


def _triangle_between(rng: random.Random, extend: bool) -> tuple[Figure, int, int, int]:
    """Triangle ABC with A on m and BC on n; angle M1AB = alpha, angle ACB = gamma, angle BAC = x.
    With `extend`, n runs on to D past C and AC on to G. Returns the figure with m and n drawn."""
    while True:
        alpha, gamma = rng.randint(35, 78), rng.randint(35, 78)
        x = 180 - alpha - gamma
        if x >= 30 and x not in (alpha, gamma):
            break
    a = (0.0, 1.0)
    b = (-1.0 / math.tan(math.radians(alpha)), 0.0)
    c = (1.0 / math.tan(math.radians(gamma)), 0.0)
    right = c[0] + (0.75 if extend else 0.0)
    pts = _with_lines({"A": a, "B": b, "C": c}, min(b[0], -0.4) - 0.7, max(right, 0.4) + 0.7)
    if extend:
        pts["D"] = (right, 0.0)
        u = unit_vector(a, c)
        pts["G"] = (c[0] + 0.4 * u[0], c[1] + 0.4 * u[1])
    fig = Figure(random_pose(pts, rng, 8, mirror=True))
    _parallel_lines(fig)
    return fig, alpha, gamma, x


def _triangle(rng: random.Random) -> Problem:
    fig, alpha, gamma, x = _triangle_between(rng, extend=False)
    fig.polyline("B", "A", "C")
    fig.dot("A", "B", "C")
    fig.angle("M1", "A", "B", alpha)
    fig.angle("A", "C", "B", gamma)
    fig.angle("B", "A", "C", x, "unknown")
    fig.length("A", "B", rng.randint(5, 14), "distractor")
    fig.point_labels("A", "B", "C")
    return Problem(
        variant="triangle",
        facts=["alternate interior angles", "triangle angle sum"],
        question="Lines m and n are parallel; A is on m, and B and C are on n. Find x.",
        figure=fig,
        mistakes=[180 - alpha, 180 - gamma, alpha + gamma, abs(alpha - gamma), 180 - x / 2, 90 - x / 2],
    )


def _exterior_angle(rng: random.Random) -> Problem:
    fig, alpha, gamma, x = _triangle_between(rng, extend=True)
    e = 180 - gamma
    fig.polyline("B", "A", "C", "G")
    fig.dot("A", "B", "C", "D")
    fig.angle("M1", "A", "B", alpha)
    fig.angle("A", "C", "D", e)
    fig.angle("B", "C", "G", e, "distractor")
    fig.angle("B", "A", "C", x, "unknown")
    fig.length("A", "B", rng.randint(5, 14), "distractor")
    fig.point_labels("A", "B", "C", "D")
    return Problem(
        variant="exterior_angle",
        facts=["alternate interior angles", "linear pair", "triangle angle sum"],
        question="Lines m and n are parallel; A is on m, and B, C and D are on n. Find x.",
        figure=fig,
        mistakes=[180 - e - alpha, 180 - e, e + alpha - 90, alpha, 180 - x, e - x / 2, 180 - alpha],
    )


def _zigzag(rng: random.Random) -> Problem:
    while True:
        a, b = rng.randint(25, 65), rng.randint(25, 65)
        if 60 <= a + b <= 140 and a != b:
            break
    py = rng.uniform(0.4, 0.6)
    p = ((1 - py) / math.tan(math.radians(a)), py)
    b_point = (p[0] - py / math.tan(math.radians(b)), 0.0)
    pts = _with_lines({"A": (0.0, 1.0), "P": p, "B": b_point}, min(0.0, b_point[0]) - 0.8, p[0] + 0.6)
    fig = Figure(random_pose(pts, rng, 8))
    _parallel_lines(fig)
    fig.polyline("A", "P", "B")
    fig.dot("A", "B", "P")
    fig.angle("M2", "A", "P", a)
    fig.angle("N2", "B", "P", b)
    fig.angle("M1", "A", "P", 180 - a, "distractor")
    fig.angle("A", "P", "B", a + b, "unknown")
    fig.length("A", "P", rng.randint(4, 12), "distractor")
    fig.point_labels("A", "B", "P")
    return Problem(
        variant="zigzag",
        facts=["draw the parallel through P", "alternate interior angles (twice)", "angle addition"],
        question="Lines m and n are parallel; A is on m, B is on n, and P lies between them. Find x.",
        figure=fig,
        mistakes=[180 - a - b, abs(a - b), (a + b) / 2, 180 - a + b, 360 - 2 * (a + b), 90 + abs(a - b)],
    )


PARALLEL = Family(
    kind="parallel",
    unit="degrees",
    builders={1: [_one_step_pair], 2: [_two_step_pair, _triangle], 3: [_exterior_angle, _zigzag]},
)
