"""`pythagoras` questions: a right triangle from a Pythagorean triple; two right triangles sharing an
altitude (one-decimal answers); the perimeter of that figure."""

from __future__ import annotations

import math
import random

from vlmbench.synth.geometry.figure import Figure
from vlmbench.synth.geometry.plane import Point, random_pose
from vlmbench.synth.geometry.problem import Family, Problem

TRIPLES = [(3, 4, 5), (5, 12, 13), (8, 15, 17), (7, 24, 25), (20, 21, 29), (6, 8, 10), (9, 12, 15)]


def _pythagorean_triple(rng: random.Random, max_hyp: int = 30) -> tuple[int, int, int]:
    """Legs and hypotenuse of a scaled triple (the legs in either order)."""
    a, b, c = rng.choice(TRIPLES)
    k = rng.randint(1, max(1, max_hyp // c))
    if rng.random() < 0.5:
        a, b = b, a
    return a * k, b * k, c * k


def _right_triangle(rng: random.Random) -> Problem:
    a, b, c = _pythagorean_triple(rng)  # legs BC = a, AC = b, hypotenuse AB = c
    fig = Figure(random_pose({"C": (0.0, 0.0), "B": (float(a), 0.0), "A": (0.0, float(b))}, rng, 15))
    fig.polyline("A", "B", "C", "A")
    fig.right_angle("A", "C", "B")
    if rng.random() < 0.5:
        fig.length("B", "C", a)
        fig.length("A", "C", b)
        fig.length("A", "B", c, "unknown")
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
        fig.length("A", "B", c)
        fig.length("A", "C", b)
        fig.length("B", "C", a, "unknown")
        mistakes = [c - b, round(math.sqrt(c * c + b * b)), a + 1, a - 1, a + 2, c + b]
        variant = "leg"
    fig.point_labels("A", "B", "C")
    return Problem(
        variant=variant,
        facts=["Pythagorean theorem"],
        question="Triangle ABC has a right angle at C. Find x.",
        figure=fig,
        mistakes=mistakes,
    )


def _altitude_points(rng: random.Random, extend_left: bool) -> tuple[dict[str, Point], dict[str, int]]:
    """Triangle ABC with its altitude AD (D between B and C) and BC extended to E (and to F)."""
    while True:
        bd, ad, ab = _pythagorean_triple(rng, 26)
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


def _altitude_figure(
    rng: random.Random, extend_left: bool, distractors: tuple[str, ...]
) -> tuple[Figure, dict[str, int], float]:
    """The altitude figure drawn, with AB, BD and DC given and the `distractors` labelled;
    returns it, the lengths, and AC (one decimal unless whole)."""
    pts, v = _altitude_points(rng, extend_left)
    fig = Figure(random_pose(pts, rng, 6))
    fig.polyline(*(("F",) if extend_left else ()), "B", "D", "C", "E")
    fig.polyline("B", "A", "C")
    fig.segment("A", "D")
    fig.right_angle("A", "D", "C")
    for name in ("AB", "BD", "DC"):
        fig.length(name[0], name[1], v[name])
    for name in distractors:
        fig.length(name[0], name[1], v[name], "distractor")
    return fig, v, math.sqrt(v["AD"] ** 2 + v["DC"] ** 2)


def _altitude(rng: random.Random) -> Problem:
    fig, v, ac = _altitude_figure(rng, extend_left=False, distractors=("CE",))
    fig.length("A", "C", ac, "unknown")
    fig.dot("D", "E")
    fig.point_labels("A", "B", "C", "D", "E")
    decimals = 0 if ac.is_integer() else 1
    ab, dc, ad, ce = v["AB"], v["DC"], v["AD"], v["CE"]
    return Problem(
        variant="altitude",
        facts=["Pythagorean theorem", "Pythagorean theorem"],
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
        decimals=decimals,
    )


def _perimeter(rng: random.Random) -> Problem:
    fig, v, ac = _altitude_figure(rng, extend_left=True, distractors=("CE", "FB"))
    fig.dot("D", "E", "F")
    fig.point_labels("A", "B", "C", "D", "E", "F")
    ab, bd, dc, ad, ce, fb = v["AB"], v["BD"], v["DC"], v["AD"], v["CE"], v["FB"]
    perimeter = ab + bd + dc + ac
    decimals = 0 if ac.is_integer() else 1
    return Problem(
        variant="perimeter",
        facts=["Pythagorean theorem", "Pythagorean theorem", "perimeter as a sum of sides"],
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
        decimals=decimals,
        undrawn_unknown=("perimeter_ABC", perimeter),
    )


PYTHAGORAS = Family(
    kind="pythagoras",
    unit="length",
    builders={1: [_right_triangle], 2: [_altitude], 3: [_perimeter]},
)
