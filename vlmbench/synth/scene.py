"""Procedural CLEVR/GQA-style scenes: coloured shapes on a plain background, short-answer questions.

Objects (circle, square, triangle, star, diamond; eight named colours; small / large) sit in the cells
of a jittered grid, so they never overlap. Four question kinds, answers always computable from the
object list in `structure`:

- `count`     "How many red circles are there?" -> "2"
- `attribute` "What colour is the large square?" -> "blue" (asked only when exactly one object fits)
- `exist`     "Is there a small green triangle?" -> "yes" / "no"
- `relation`  "Is the red circle to the left of the blue square?" -> "yes" / "no"

Spatial rule (recorded in `structure.relation_rule`): X is left of Y when X's centre is at least
`margin` pixels left of Y's centre (right / above / below likewise). A question is asked only when no
object it could be about lies within the margin, so the answer is the same under any reading of
"left of". Difficulty: 1) 3-5 objects, one attribute filter, 4 colours, 3 shapes; 2) 6-9 objects,
two filters (or a relation between two objects), 6 colours, 4 shapes, near-duplicate objects;
3) 10-14 objects, relation + filter + count/query/exist, all 8 colours and 5 shapes, more
near-duplicates. Answers are balanced: yes / no are drawn 50 / 50 and counts are drawn evenly from
the counts the scene offers.
"""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import Image

from vlmbench.synth import render
from vlmbench.synth.base import SynthItem, retry

WIDTH, HEIGHT = 480, 400
SUPERSAMPLE = 2  # drawn at twice the size, then downsampled: smooth edges
BACKGROUND = (236, 236, 236)
OUTLINE = (40, 40, 40)
BORDER = 10  # empty frame around the grid
MARGIN = 40  # pixels between centres before "left of" / "above" is asked about
RADIUS = {"small": 19, "large": 33}
# half of each shape's widest extent, in units of its radius (how much room it needs in a cell)
EXTENT = {"circle": 1.0, "square": 0.9, "triangle": 1.2, "star": 1.25, "diamond": 1.2}
ATTRIBUTES = ("size", "colour", "shape")
PLURAL = {
    "circle": "circles",
    "square": "squares",
    "triangle": "triangles",
    "star": "stars",
    "diamond": "diamonds",
}
RELATIONS = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}
MAX_ATTEMPTS = 200  # scenes drawn per item before giving up (in practice at most a few)


class Level:
    def __init__(self, n: tuple[int, int], grid: tuple[int, int], colours: int, shapes: int, near: float):
        self.n = n
        self.grid = grid
        self.colours = ["red", "blue", "green", "yellow", "orange", "purple", "brown", "gray"][:colours]
        self.shapes = ["circle", "square", "triangle", "star", "diamond"][:shapes]
        self.near_duplicates = near  # chance an object copies another one with one attribute changed


LEVELS = {
    1: Level((3, 5), (4, 3), 4, 3, 0.0),
    2: Level((6, 9), (5, 4), 6, 4, 0.35),
    3: Level((10, 14), (5, 4), 8, 5, 0.5),
}
KINDS = {1: ("count", "attribute", "exist"), 2: ("count", "attribute", "exist", "relation")}
KINDS[3] = KINDS[2]

Obj = dict[str, Any]
Desc = dict[str, str]

# --------------------------------------------------------------------------------------------------
# Scenes


def _objects(rng: random.Random, level: Level) -> list[Obj]:
    n = rng.randint(*level.n)
    values = {"size": ["small", "large"], "colour": level.colours, "shape": level.shapes}
    attrs: list[Desc] = []
    for _ in range(n):
        if attrs and rng.random() < level.near_duplicates:
            base = dict(rng.choice(attrs))
            changed = rng.choice(ATTRIBUTES)
            base[changed] = rng.choice([v for v in values[changed] if v != base[changed]])
            attrs.append(base)
        else:
            attrs.append({a: rng.choice(values[a]) for a in ATTRIBUTES})
    cols, rows = level.grid
    cell_w, cell_h = (WIDTH - 2 * BORDER) / cols, (HEIGHT - 2 * BORDER) / rows
    cells = rng.sample(range(cols * rows), n)
    objects = []
    for attr, cell in zip(attrs, cells, strict=True):
        radius = RADIUS[attr["size"]]
        reach = math.ceil(EXTENT[attr["shape"]] * radius) + 3
        cx = BORDER + (cell % cols + 0.5) * cell_w
        cy = BORDER + (cell // cols + 0.5) * cell_h
        x = round(cx + rng.uniform(-1, 1) * max(0.0, cell_w / 2 - reach))
        y = round(cy + rng.uniform(-1, 1) * max(0.0, cell_h / 2 - reach))
        points = _outline(attr["shape"], x, y, radius)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        objects.append(
            {
                **attr,
                "x": x,
                "y": y,
                "bbox": [math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))],
            }
        )
    return objects


def _outline(shape: str, x: float, y: float, r: float) -> list[tuple[float, float]]:
    """The shape's outline points (a circle as its bounding square's corners)."""
    if shape == "circle":
        return [(x - r, y - r), (x + r, y + r)]
    if shape == "square":
        s = 0.9 * r
        return [(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)]
    if shape == "triangle":
        big = 1.2 * r
        return [
            (x + big * math.cos(math.radians(a)), y + big * math.sin(math.radians(a))) for a in (-90, 30, 150)
        ]
    if shape == "diamond":
        return [(x, y - 1.2 * r), (x + 0.8 * r, y), (x, y + 1.2 * r), (x - 0.8 * r, y)]
    outer, inner = 1.25 * r, 0.5 * r
    return [
        (
            x + (outer if k % 2 == 0 else inner) * math.cos(math.radians(-90 + 36 * k)),
            y + (outer if k % 2 == 0 else inner) * math.sin(math.radians(-90 + 36 * k)),
        )
        for k in range(10)
    ]


def _render(objects: list[Obj]) -> Image.Image:
    k = SUPERSAMPLE
    image, draw = render.canvas(WIDTH * k, HEIGHT * k)
    draw.rectangle((0, 0, WIDTH * k, HEIGHT * k), fill=BACKGROUND)
    for obj in objects:
        points = [
            (px * k, py * k) for px, py in _outline(obj["shape"], obj["x"], obj["y"], RADIUS[obj["size"]])
        ]
        fill = render.COLOURS[obj["colour"]]
        if obj["shape"] == "circle":
            draw.ellipse((*points[0], *points[1]), fill=fill, outline=OUTLINE, width=2 * k)
        else:
            draw.polygon(points, fill=fill, outline=OUTLINE, width=2 * k)
    return image.reduce(k)  # 2x2 box average: cheap, exact anti-aliasing


# --------------------------------------------------------------------------------------------------
# Questions


def _matches(obj: Obj, desc: Desc) -> bool:
    return all(obj[a] == v for a, v in desc.items())


def _related(obj: Obj, ref: Obj, rel: str) -> bool | None:
    """True / False when clear; None when the two centres lie within the margin on that axis."""
    delta = obj["x"] - ref["x"] if rel in ("left", "right") else obj["y"] - ref["y"]
    if abs(delta) < MARGIN:
        return None
    return delta < 0 if rel in ("left", "above") else delta > 0


def _phrase(desc: Desc, plural: bool = False) -> str:
    if "shape" in desc:
        noun = PLURAL[desc["shape"]] if plural else desc["shape"]
    else:
        noun = "objects" if plural else "object"
    return " ".join([*(desc[a] for a in ("size", "colour") if a in desc), noun])


def _a(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _descs(values: dict[str, list[str]], arity: int) -> list[Desc]:
    """Every description naming exactly `arity` attributes, in a fixed order."""
    if arity == 1:
        return [{a: v} for a in ATTRIBUTES for v in values[a]]
    pairs = [("size", "colour"), ("size", "shape"), ("colour", "shape")]
    return [{a: va, b: vb} for a, b in pairs for va in values[a] for vb in values[b]]


def _unique(objects: list[Obj], desc: Desc) -> Obj | None:
    found = [o for o in objects if _matches(o, desc)]
    return found[0] if len(found) == 1 else None


def _refs(objects: list[Obj], arity: int) -> list[tuple[Desc, Obj]]:
    """Objects named uniquely by a description of `arity` attributes (each object once)."""
    seen: list[Obj] = []
    out = []
    values = {a: sorted({o[a] for o in objects}) for a in ATTRIBUTES}
    for desc in _descs(values, arity):
        obj = _unique(objects, desc)
        if obj is not None and not any(obj is other for other in seen):
            seen.append(obj)
            out.append((desc, obj))
    return out


def _related_set(objects: list[Obj], desc: Desc, ref: Obj, rel: str) -> list[Obj] | None:
    """Objects fitting `desc` in relation `rel` to `ref`; None if one that fits lies in the margin."""
    out = []
    for obj in objects:
        if obj is ref or not _matches(obj, desc):
            continue
        relation = _related(obj, ref, rel)
        if relation is None:
            return None
        if relation:
            out.append(obj)
    return out


Candidate = tuple[str, str, dict[str, Any], int]  # question, answer, query, steps


def _candidates(kind: str, objects: list[Obj], level: Level, difficulty: int) -> list[Candidate]:
    values = {"size": ["small", "large"], "colour": level.colours, "shape": level.shapes}
    out: list[Candidate] = []
    if kind == "relation":
        arity = difficulty - 1  # d2: "the circle" vs "the red object"; d3: "the small circle" ...
        named = _refs(objects, arity)
        for sd, s in named:
            for od, o in named:
                if s is o:
                    continue
                for rel in RELATIONS:
                    truth = _related(s, o, rel)
                    if truth is None:
                        continue
                    question = f"Is the {_phrase(sd)} {RELATIONS[rel]} the {_phrase(od)}?"
                    query = {"op": "relate", "rel": rel, "subject": sd, "object": od}
                    out.append((question, "yes" if truth else "no", query, 1 + arity))
        return out
    if difficulty < 3:
        arity = difficulty
        for desc in _descs(values, arity):
            found = [o for o in objects if _matches(o, desc)]
            if arity == 2 and any(not any(_matches(o, {a: v}) for o in objects) for a, v in desc.items()):
                singles_present = False  # "no" to "a red circle" only when red things and circles exist
            else:
                singles_present = True
            if kind == "count":
                query = {"op": "count", "filter": desc, "relate": None}
                out.append((f"How many {_phrase(desc, True)} are there?", str(len(found)), query, arity))
            elif kind == "exist":
                if not found and not singles_present:
                    continue
                question = (
                    f"Is there {_a(_phrase(desc))}?"
                    if arity == 2
                    else f"Are there any {_phrase(desc, True)}?"
                )
                query = {"op": "exist", "filter": desc, "relate": None}
                out.append((question, "yes" if found else "no", query, arity))
            elif kind == "attribute" and len(found) == 1:
                if arity == 2 and any(
                    sum(_matches(o, {a: v}) for o in objects) == 1 for a, v in desc.items()
                ):
                    continue  # one attribute alone would do: not a two-filter question
                for attribute in ATTRIBUTES:
                    if attribute in desc:
                        continue
                    query = {"op": "query", "attribute": attribute, "filter": desc, "relate": None}
                    question = f"What {attribute} is the {_phrase(desc)}?"
                    out.append((question, found[0][attribute], query, arity))
        return out
    # difficulty 3: a filter, a relation to a uniquely named object, and a count / query / existence
    for ref_desc, ref in _refs(objects, 2):
        for rel, words in RELATIONS.items():
            relate = {"rel": rel, "ref": ref_desc}
            where = f"{words} the {_phrase(ref_desc)}"
            for desc in _descs(values, 1):
                found = _related_set(objects, desc, ref, rel)
                if found is None:
                    continue
                if kind == "count":
                    query = {"op": "count", "filter": desc, "relate": relate}
                    out.append((f"How many {_phrase(desc, True)} are {where}?", str(len(found)), query, 3))
                elif kind == "exist":
                    query = {"op": "exist", "filter": desc, "relate": relate}
                    out.append((f"Is there {_a(_phrase(desc))} {where}?", "yes" if found else "no", query, 3))
                elif kind == "attribute" and len(found) == 1:
                    for attribute in ATTRIBUTES:
                        if attribute in desc:
                            continue
                        query = {"op": "query", "attribute": attribute, "filter": desc, "relate": relate}
                        question = f"What {attribute} is the {_phrase(desc)} {where}?"
                        out.append((question, found[0][attribute], query, 3))
    return out


def _scene(
    rng: random.Random, level: Level, kind: str, difficulty: int
) -> tuple[list[Obj], list[Candidate], list[str]] | None:
    """Objects, their candidate questions of `kind` and the distinct answers, when the scene offers this
    kind of question with more than one possible answer (one suffices for attributes); else None."""
    objects = _objects(rng, level)
    candidates = _candidates(kind, objects, level, difficulty)
    answers = sorted({c[1] for c in candidates})
    if len(answers) >= 2 or (answers and kind == "attribute"):
        return objects, candidates, answers
    return None


class SceneGenerator:
    """Shapes on a plain background; counting, attribute, existence and spatial-relation questions."""

    name = "scene"
    version = "1"
    description = (
        "CLEVR/GQA-style scenes of coloured shapes (no overlaps); short-answer questions on counts, "
        "attributes, existence and left/right/above/below relations; balanced yes/no and counts; "
        "more objects, filters and near-duplicate distractors with difficulty."
    )

    def make(self, rng: random.Random, difficulty: int) -> SynthItem:
        level = LEVELS[difficulty]
        kind = rng.choice(KINDS[difficulty])
        scene = retry(lambda: _scene(rng, level, kind, difficulty), MAX_ATTEMPTS, self.name, difficulty)
        objects, candidates, answers = scene
        answer = rng.choice(answers)
        question, answer, query, steps = rng.choice([c for c in candidates if c[1] == answer])
        structure = {
            "kind": kind,
            "canvas": [WIDTH, HEIGHT],
            "objects": [{"id": i, **obj} for i, obj in enumerate(objects)],
            "n_objects": len(objects),
            "query": query,
            "steps": steps,
            "palette": {"colours": level.colours, "shapes": level.shapes, "sizes": ["small", "large"]},
            "relation_rule": {
                "margin_px": MARGIN,
                "left": "x + margin <= other x",
                "right": "x - margin >= other x",
                "above": "y + margin <= other y",
                "below": "y - margin >= other y",
                "coordinates": "pixels from the top-left corner; (x, y) is the shape's centre",
                "ambiguous": "no object a question is about lies within the margin of its reference",
            },
        }
        return SynthItem(
            question=question,
            answer=answer,
            answer_type="text",
            image=_render(objects),
            structure=structure,
            meta={"kind": kind, "steps": steps, "n_objects": len(objects)},
        )


__all__ = ["SceneGenerator"]
