"""`similar` questions: similar triangles by correspondence; a segment parallel to a side (the side
splitter); the perimeter of the large triangle in that figure."""

from __future__ import annotations

import math
import random

from vlmbench.synth.geometry.figure import Figure
from vlmbench.synth.geometry.plane import Point, lerp, polar, random_pose
from vlmbench.synth.geometry.problem import Family, Problem

RATIOS = [(1, 2), (2, 3), (3, 2), (2, 1), (3, 4), (4, 3), (5, 3), (3, 5), (5, 4), (4, 5)]
SPLITS = [(1, 2), (1, 3), (2, 3), (2, 5), (3, 5), (3, 4)]  # where D and E cut AB and AC (u / v)


def _correspondence(rng: random.Random) -> Problem:
    while True:
        p, q = rng.choice(RATIOS)
        m, n = rng.randint(1, 6), rng.randint(1, 6)
        ab, bc, de, ef = q * m, q * n, p * m, p * n
        if m != n and 0.5 <= m / n <= 2 and max(ab, bc, de, ef) <= 30 and min(ab, bc, de, ef) >= 2:
            break
    beta = rng.randint(45, 110)
    k = p / q
    a, c = polar(ab, beta), (float(bc), 0.0)
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
    fig.length("A", "B", ab)
    fig.length("B", "C", bc)
    fig.length("D", "E", de)
    fig.length("E", "F", ef, "unknown")
    fig.point_labels("A", "B", "C", "D", "E", "F")
    return Problem(
        variant="correspondence",
        facts=["similar triangles have proportional sides"],
        question="Triangle ABC is similar to triangle DEF, with A, B and C corresponding to D, E and F. "
        "Find x.",
        figure=fig,
        mistakes=[bc + de - ab, bc * ab / de, de * ab / bc, bc + de, ef + p, ef - p, de * bc / (ab + 1)],
    )


def _side_splitter_points(rng: random.Random) -> tuple[dict[str, Point], dict[str, int]]:
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
    u, v = rng.choice(SPLITS)
    g = rng.choice([1, 1, 2]) if max(s, r, t) * v <= 15 else 1
    ab, ac, bc = s * v * g, r * v * g, t * v * g
    ax = (ab * ab - ac * ac + bc * bc) / (2 * bc)
    a = (ax, math.sqrt(ab * ab - ax * ax))
    pts = {"B": (0.0, 0.0), "C": (float(bc), 0.0), "A": a}
    pts["D"] = lerp(a, pts["B"], u / v)
    pts["E"] = lerp(a, pts["C"], u / v)
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


def _side_splitter_figure(rng: random.Random, labelled: dict[str, str]) -> tuple[Figure, dict[str, int]]:
    """The side-splitter triangle drawn with its parallel marks and the `labelled` lengths (name ->
    role), D and E dotted and every point named."""
    pts, v = _side_splitter_points(rng)
    fig = Figure(random_pose(pts, rng, 6))
    fig.polyline("A", "D", "B", "C", "E", "A")
    fig.segment("D", "E")
    fig.arrows("D", "E")
    fig.arrows("B", "C")
    for name, role in labelled.items():
        fig.length(name[0], name[1], v[name], role)
    fig.dot("D", "E")
    fig.point_labels("A", "B", "C", "D", "E")
    return fig, v


def _side_splitter(rng: random.Random) -> Problem:
    labelled = {"AD": "given", "DB": "given", "DE": "given", "AE": "distractor", "BC": "unknown"}
    fig, v = _side_splitter_figure(rng, labelled)
    ad, db, de = v["AD"], v["DB"], v["DE"]
    return Problem(
        variant="side_splitter",
        facts=["segment addition", "similar triangles ADE and ABC"],
        question="In triangle ABC, D lies on AB, E lies on AC, and DE is parallel to BC. Find x.",
        figure=fig,
        mistakes=[de * (ad + db) / db, de + db, de * db / ad, 2 * de, de * ad / db, v["BC"] + v["DE"] // 2],
    )


def _perimeter(rng: random.Random) -> Problem:
    fig, v = _side_splitter_figure(rng, dict.fromkeys(("AD", "DB", "AE", "DE"), "given"))
    ad, db, ae, de = v["AD"], v["DB"], v["AE"], v["DE"]
    perimeter = v["AB"] + v["AC"] + v["BC"]
    return Problem(
        variant="perimeter",
        facts=["segment addition", "similar triangles ADE and ABC", "perimeter as a sum of sides"],
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
        undrawn_unknown=("perimeter_ABC", perimeter),
    )


SIMILAR = Family(
    kind="similar",
    unit="length",
    builders={1: [_correspondence], 2: [_side_splitter], 3: [_perimeter]},
)
