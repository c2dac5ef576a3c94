"""A ladder of simple shape pictures a small model can learn from the image, below `synth_scene`.

Why: a tiny model trained for minutes learns what the question text predicts before it learns to look,
and `synth_scene`'s attribute binding ("How many yellow objects ...") among 3-14 small shapes is too
hard a first step (the tiny models stayed blind on it, docs/training.md). These items start where the
answer can be read straight off the picture and climb to attribute binding; `synth_scene` difficulty 1
is the next rung (same drawing, same words, same scorer).

A square 224 px canvas (a whole number of 56 px model inputs, so nothing is cropped or distorted), 1-4
large shapes in the cells of a jittered 2 x 2 grid, never overlapping; 4 colours, 3 shapes:

1. **read off** (1-3 objects, all one colour and one shape): "What colour are the objects?",
   "What shape are the objects?" - one glance at any object answers.
2. **count** (1-4 objects, all one colour and one shape): "How many objects are there?" (half the
   items, counts drawn evenly) or the colour / shape question of level 1.
3. **bind** (2-4 objects in exactly two colours): "How many red objects are there?", "What colour is
   the square?", "What shape is the blue object?" (asked only when one object fits), "Is there a green
   circle?" (yes / no drawn 50 / 50) - the answer needs colour and shape (or count) bound per object.

Every item records its objects and its question's program in `meta.structure`
(`{"op": "count" | "query" | "exist", "filter": {...}, "attribute": ...}`; for `query` with an
empty filter, every object shares the asked attribute), from which the tests' independent solver
recomputes each answer.
"""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import Image

from vlmbench.synth import render
from vlmbench.synth.base import SynthItem, retry
from vlmbench.synth.scene import EXTENT, OUTLINE, _outline

SIZE = 224  # square canvas: 4 x 56 px, the tiny models' input
SUPERSAMPLE = 2
BACKGROUND = (236, 236, 236)  # synth_scene's
BORDER = 8
GRID = 2  # 2 x 2 cells of 104 px: at most 4 objects
RADIUS = 36  # a shape about 18 px wide in a 56 px input: 2-3 of its 7-px patches across
COLOURS = ("red", "blue", "green", "yellow")
SHAPES = ("circle", "square", "triangle")
MAX_ATTEMPTS = 200

Obj = dict[str, Any]


def _place(rng: random.Random, attrs: list[dict[str, str]]) -> list[Obj]:
    """Each object in a cell of its own, jittered inside it so the shape never leaves the cell."""
    cell = (SIZE - 2 * BORDER) / GRID
    cells = rng.sample(range(GRID * GRID), len(attrs))
    objects = []
    for attr, at in zip(attrs, cells, strict=True):
        reach = math.ceil(EXTENT[attr["shape"]] * RADIUS) + 3
        slack = max(0.0, cell / 2 - reach)
        x = round(BORDER + (at % GRID + 0.5) * cell + rng.uniform(-1, 1) * slack)
        y = round(BORDER + (at // GRID + 0.5) * cell + rng.uniform(-1, 1) * slack)
        points = _outline(attr["shape"], x, y, RADIUS)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        bbox = [math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))]
        objects.append({**attr, "size": "large", "x": x, "y": y, "bbox": bbox})
    return objects


def _render(objects: list[Obj]) -> Image.Image:
    k = SUPERSAMPLE
    image, draw = render.canvas(SIZE * k, SIZE * k)
    draw.rectangle((0, 0, SIZE * k, SIZE * k), fill=BACKGROUND)
    for obj in objects:
        points = [(px * k, py * k) for px, py in _outline(obj["shape"], obj["x"], obj["y"], RADIUS)]
        fill = render.COLOURS[obj["colour"]]
        if obj["shape"] == "circle":
            draw.ellipse((*points[0], *points[1]), fill=fill, outline=OUTLINE, width=2 * k)
        else:
            draw.polygon(points, fill=fill, outline=OUTLINE, width=2 * k)
    return image.reduce(k)


Question = tuple[str, str, dict[str, Any], str]  # question, answer, program, kind


def _uniform(
    rng: random.Random, n_objects: tuple[int, int], kinds: tuple[str, ...]
) -> tuple[list[Obj], Question]:
    """Levels 1-2: every object one colour and one shape; the count or the attribute they share."""
    kind = rng.choice(kinds)
    colour, shape = rng.choice(COLOURS), rng.choice(SHAPES)
    objects = _place(rng, [{"colour": colour, "shape": shape}] * rng.randint(*n_objects))
    if kind == "count":
        program = {"op": "count", "filter": {}}
        return objects, ("How many objects are there?", str(len(objects)), program, kind)
    program = {"op": "query", "attribute": kind, "filter": {}}
    answer = colour if kind == "colour" else shape
    return objects, (f"What {kind} are the objects?", answer, program, kind)


def _bind_candidates(objects: list[Obj]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Level 3 questions the scene supports, by kind."""
    out: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
        "count": [],
        "query": [],
        "exist": [],
    }
    present_colours = sorted({o["colour"] for o in objects})
    present_shapes = sorted({o["shape"] for o in objects})
    for colour in present_colours:
        n = sum(o["colour"] == colour for o in objects)
        out["count"].append(
            (f"How many {colour} objects are there?", str(n), {"op": "count", "filter": {"colour": colour}})
        )
    for shape in present_shapes:
        fits = [o for o in objects if o["shape"] == shape]
        if len(fits) == 1:
            program = {"op": "query", "attribute": "colour", "filter": {"shape": shape}}
            out["query"].append((f"What colour is the {shape}?", fits[0]["colour"], program))
    for colour in present_colours:
        fits = [o for o in objects if o["colour"] == colour]
        if len(fits) == 1:
            program = {"op": "query", "attribute": "shape", "filter": {"colour": colour}}
            out["query"].append((f"What shape is the {colour} object?", fits[0]["shape"], program))
    for colour in present_colours:  # both words name something in the picture: a "no" needs binding
        for shape in present_shapes:
            found = any(o["colour"] == colour and o["shape"] == shape for o in objects)
            program = {"op": "exist", "filter": {"colour": colour, "shape": shape}}
            question = f"Is there {'an' if colour[0] in 'aeiou' else 'a'} {colour} {shape}?"
            out["exist"].append((question, "yes" if found else "no", program))
    return out


def _bind(rng: random.Random, kind: str) -> tuple[list[Obj], Question] | None:
    """Level 3: a picture that offers a `kind` question with more than one possible answer (one is
    enough for `query`), else None (the caller draws another)."""
    n = rng.randint(2, 4)
    two = rng.sample(COLOURS, 2)
    colours = [*two, *(rng.choice(two) for _ in range(n - 2))]
    rng.shuffle(colours)
    attrs = [{"colour": c, "shape": rng.choice(SHAPES)} for c in colours]
    objects = _place(rng, attrs)
    candidates = _bind_candidates(objects)[kind]
    answers = sorted({c[1] for c in candidates})
    if len(answers) < (1 if kind == "query" else 2):
        return None  # e.g. no uniquely named object, or every exist answer the same
    answer = rng.choice(answers)
    question, answer, program = rng.choice([c for c in candidates if c[1] == answer])
    return objects, (question, answer, program, kind)


class ShapesGenerator:
    """Large coloured shapes: read a colour or shape off the picture, count, then bind attributes."""

    name = "shapes"
    version = "1"
    description = (
        "1-4 large coloured shapes on a square canvas; difficulty 1 reads a colour or shape shared by "
        "every object, 2 adds counting, 3 binds colour and shape per object (count a colour, name the "
        "colour of the square, yes / no on a colour-shape pair); the rung below synth_scene."
    )

    def make(self, rng: random.Random, difficulty: int) -> SynthItem:
        if difficulty == 3:
            kind = rng.choice(("count", "query", "exist"))  # drawn once: rejections keep the kinds even
            objects, (question, answer, program, kind) = retry(
                lambda: _bind(rng, kind), MAX_ATTEMPTS, self.name, difficulty
            )
        elif difficulty == 2:
            objects, (question, answer, program, kind) = _uniform(
                rng, (1, 4), ("count", "count", "colour", "shape")
            )
        else:
            objects, (question, answer, program, kind) = _uniform(rng, (1, 3), ("colour", "shape"))
        structure = {
            "kind": kind,
            "canvas": [SIZE, SIZE],
            "objects": [{"id": i, **obj} for i, obj in enumerate(objects)],
            "n_objects": len(objects),
            "query": program,
            "palette": {"colours": list(COLOURS), "shapes": list(SHAPES)},
            "steps": difficulty,
        }
        return SynthItem(
            question=question,
            answer=answer,
            answer_type="text",
            image=_render(objects),
            structure=structure,
            meta={"kind": kind, "n_objects": len(objects)},
        )


__all__ = ["ShapesGenerator"]
