"""Procedural plane geometry: labelled diagrams with four-option questions, correct by construction.

Five question kinds, each with a variant per difficulty; the difficulty is the number of chained facts
a solver needs (1 / 2 / 3), and higher levels also draw more labelled elements, add labelled quantities
the answer does not need, and pick wrong options from typical mistakes (180 - x, x / 2, the wrong ratio):

- `angle_sum` (triangles.py): the third angle of a triangle; an exterior angle; an isosceles triangle;
  a cevian.
- `pythagoras` (pythagoras.py): a right triangle from Pythagorean triples; two right triangles sharing
  an altitude (one-decimal answers); the perimeter of that figure.
- `similar` (similar.py): similar triangles by correspondence; a segment parallel to a side; a perimeter.
- `inscribed` (circles.py): inscribed angle = half the central angle / the arc; Thales; isosceles radii;
  the reflex arc.
- `parallel` (parallel.py): corresponding / alternate / co-interior angles; parallel lines with a
  triangle; an exterior angle; the "zigzag" between two parallels.

Diagrams are drawn to scale (every labelled angle and length matches the picture; figure.py); labels are
placed so that they cross no line, no circle and no other label (labels.py). `structure` records the
givens (by name), the unknown, the variant, the number of steps, and every drawn point, segment, circle
and label in pixels, so a solver can recompute the answer and a checker can measure the picture.
"""

from __future__ import annotations

import random
from typing import Any

from vlmbench.synth.base import SynthItem
from vlmbench.synth.geometry.circles import INSCRIBED
from vlmbench.synth.geometry.options import answer_options
from vlmbench.synth.geometry.parallel import PARALLEL
from vlmbench.synth.geometry.problem import Family
from vlmbench.synth.geometry.pythagoras import PYTHAGORAS
from vlmbench.synth.geometry.similar import SIMILAR
from vlmbench.synth.geometry.triangles import ANGLE_SUM

# The order is part of the output: a kind is drawn by its index.
FAMILIES: tuple[Family, ...] = (ANGLE_SUM, PYTHAGORAS, SIMILAR, INSCRIBED, PARALLEL)
KINDS = tuple(family.kind for family in FAMILIES)
MAX_REDRAWS = 50  # new figures to try while a label cannot be placed clear


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
        family = rng.choice(FAMILIES)
        build = rng.choice(family.builders[difficulty])
        for _ in range(MAX_REDRAWS):
            problem = build(rng)
            image, clear = problem.figure.finish()
            if clear:
                break
        options, index = answer_options(rng, problem, family.unit, difficulty)
        figure = problem.figure.record()
        labelled = [label for label in figure["labels"] if label["role"] != "line"]
        structure = {
            "kind": family.kind,
            "variant": problem.variant,
            "steps": problem.steps,
            "facts": problem.facts,
            "given": problem.given,
            "distractors": problem.distractors,
            "unknown": problem.unknown,
            "unit": family.unit,
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
                "kind": family.kind,
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
