"""`inscribed` questions: an inscribed angle is half the central angle / the arc; Thales' theorem;
equal radii make triangle OAB isosceles; the inscribed angle on the reflex arc."""

from __future__ import annotations

import random

from vlmbench.synth.geometry.figure import Figure
from vlmbench.synth.geometry.plane import Point, line_distance, polar, random_pose
from vlmbench.synth.geometry.problem import Family, Problem

CENTRAL_MODES = ["central_to_inscribed", "inscribed_to_central", "arc_to_inscribed"]


def _on_circle(degrees: float) -> Point:
    """The point of the unit circle about the origin at `degrees`."""
    return polar(1.0, degrees)


def _clear_of_centre(pts: dict[str, Point], *chords: tuple[str, str]) -> bool:
    """No chord passes close to the centre O (it would read as a diameter)."""
    return all(line_distance(pts["O"], pts[a], pts[b]) >= 0.15 for a, b in chords)


def _chord_and_far_point(rng: random.Random, central: float) -> dict[str, Point]:
    """Centre O, the chord AB subtending `central` degrees, and C on the major arc, placed so that
    neither chord AC nor BC passes near O."""
    start = rng.uniform(0, 360)
    pts = {"O": (0.0, 0.0), "A": _on_circle(start), "B": _on_circle(start + central)}
    while True:
        pts["C"] = _on_circle(start + central + rng.uniform(0.3, 0.7) * (360 - central))
        if _clear_of_centre(pts, ("A", "C"), ("B", "C")):
            return pts


def _radii_triangle(pts: dict[str, Point], on_arc: str, a: int) -> Figure:
    """Triangle OAB of two radii and the chord, angle OAB given, and the inscribed angle at `on_arc`
    drawn (A-on_arc-B)."""
    fig = Figure(pts, circle=("O", 1.0))
    fig.polyline("A", "O", "B", "A")
    fig.polyline("A", on_arc, "B")
    fig.dot("O")
    fig.angle("O", "A", "B", a)
    return fig


def _central(rng: random.Random) -> Problem:
    y = rng.randint(30, 75)
    pts = _chord_and_far_point(rng, 2 * y)
    mode = rng.choice(CENTRAL_MODES)
    fig = Figure(pts, circle=("O", 1.0))
    fig.polyline("A", "C", "B")
    if mode == "arc_to_inscribed":
        fig.arc("A", "B", 2 * y)
        fig.angle("A", "C", "B", y, "unknown")
        question = "A, B and C lie on the circle; the label beside arc AB is its measure. Find x."
        mistakes = [2 * y, 180 - y, 180 - 2 * y, 90 - y, y / 2, 360 - 2 * y]
        fig.point_labels("A", "B", "C")
    else:
        fig.polyline("A", "O", "B")
        fig.dot("O")
        if mode == "central_to_inscribed":
            fig.angle("A", "O", "B", 2 * y)
            fig.angle("A", "C", "B", y, "unknown")
            mistakes = [2 * y, 180 - y, 180 - 2 * y, 90 - y, y / 2, 360 - 2 * y]
        else:
            fig.angle("A", "C", "B", y)
            fig.angle("A", "O", "B", 2 * y, "unknown")
            mistakes = [y, 180 - y, 180 - 2 * y, y / 2, 90 + y, 3 * y]
        question = "O is the centre of the circle. Find x."
        fig.point_labels("O", "A", "B", "C")
    return Problem(
        variant=mode,
        facts=["inscribed angle is half the central angle / arc"],
        question=question,
        figure=fig,
        mistakes=mistakes,
    )


def _thales(rng: random.Random) -> Problem:
    a = rng.choice([k for k in range(25, 66) if k != 45])
    pts = {"O": (0.0, 0.0), "A": (-1.0, 0.0), "B": (1.0, 0.0), "C": _on_circle(2 * a)}
    fig = Figure(random_pose(pts, rng, 20), circle=("O", 1.0))
    fig.polyline("A", "C", "B", "A")
    fig.dot("O")
    fig.angle("C", "A", "B", a)
    fig.angle("A", "B", "C", 90 - a, "unknown")
    fig.length("A", "C", rng.randint(5, 14), "distractor")
    fig.point_labels("O", "A", "B", "C")
    return Problem(
        variant="thales",
        facts=["angle in a semicircle is 90°", "triangle angle sum"],
        question="AB is a diameter of the circle with centre O. Find x.",
        figure=fig,
        mistakes=[a, 180 - a, 90 + a, 180 - 2 * a, 2 * a, 90 - a / 2],
    )


def _isosceles_radii(rng: random.Random) -> Problem:
    a = rng.randint(20, 58)
    central = 180 - 2 * a
    fig = _radii_triangle(_chord_and_far_point(rng, central), "C", a)
    fig.angle("A", "C", "B", 90 - a, "unknown")
    fig.length("O", "B", rng.randint(4, 12), "distractor")
    fig.point_labels("O", "A", "B", "C")
    return Problem(
        variant="isosceles_radii",
        facts=["radii are equal (isosceles triangle OAB)", "inscribed angle is half the central angle"],
        question="O is the centre of the circle. Find x.",
        figure=fig,
        mistakes=[central, a, 2 * a, 180 - a, 90 + a, central / 4],
    )


def _reflex_arc(rng: random.Random) -> Problem:
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
    fig = _radii_triangle(pts, "D", a)
    fig.angle("O", "B", "A", a, "distractor")
    fig.angle("A", "D", "B", 90 + a, "unknown")
    fig.length("O", "A", rng.randint(4, 12), "distractor")
    fig.point_labels("O", "A", "B", "D")
    return Problem(
        variant="reflex_arc",
        facts=[
            "triangle angle sum in isosceles OAB",
            "the major arc AB is 360° minus the central angle",
            "inscribed angle is half its arc",
        ],
        question="O is the centre of the circle, and D lies on the minor arc AB. Find x.",
        figure=fig,
        mistakes=[90 - a, central, 180 - a, 2 * a + 90, 180 - central / 2 + a, 90 + 2 * a, 180 - 2 * a + a],
    )


INSCRIBED = Family(
    kind="inscribed",
    unit="degrees",
    builders={1: [_central], 2: [_thales, _isosceles_radii], 3: [_reflex_arc]},
)
