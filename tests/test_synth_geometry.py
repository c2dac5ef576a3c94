"""The procedural geometry task (`synth_geometry`, generator `geometry`).

Spec: every gold option follows from the givens the item records (`meta.structure`), recomputed here
by an independent solver that knows plane geometry, not the generator; the picture agrees with its
labels (angles and lengths are drawn to scale) and no label crosses a line or another label;
difficulty adds reasoning steps, labelled elements and unneeded labels; gold answers score 100% under
the Geometry3K scorer, while a random letter guesser scores about 25%. Determinism, prefix stability,
export, loading and bad input: `test_synth_contract.py`.
"""

from __future__ import annotations

import math
import random
import statistics
from itertools import combinations

import pytest
from synth_checks import assert_gold_scores_perfectly, boxes_overlap, score

from vlmbench.registry import get_task
from vlmbench.synth import generate

N = 60  # items per difficulty
TASK = get_task("synth_geometry")


@pytest.fixture(scope="module")
def items() -> dict[int, list]:
    return {d: generate("geometry", N, d, 0) for d in (1, 2, 3)}


# --------------------------------------------------------------------------------------------------
# an independent solver: plane geometry from the recorded givens


def position_angle(position: str, phi: float) -> float:
    """At a transversal crossing, the angles up-right and down-left are vertical (equal), the other
    two are their supplements; corresponding positions on parallel lines are equal."""
    return phi if position in ("ur", "dl") else 180 - phi


def solve(structure: dict) -> float:
    g, kind, variant = structure["given"], structure["kind"], structure["variant"]
    if kind == "angle_sum":
        return {
            "third_angle": lambda: 180 - g["angle_BAC"] - g["angle_ABC"],
            # the exterior angle equals the sum of the two remote interior angles
            "exterior_angle": lambda: g["angle_ACD"] - g["angle_BAC"],
            "isosceles": lambda: (180 - g["angle_BAC"]) / 2,
            "isosceles_exterior": lambda: 180 - 2 * (180 - g["angle_ACD"]),
            "cevian": lambda: 180 - g["angle_ABC"] - g["angle_ACB"] - g["angle_BAD"],
        }[variant]()
    if kind == "pythagoras":
        if variant == "hypotenuse":
            return math.hypot(g["BC"], g["AC"])
        if variant == "leg":
            return math.sqrt(g["AB"] ** 2 - g["AC"] ** 2)
        ad_squared = g["AB"] ** 2 - g["BD"] ** 2
        ac = math.sqrt(ad_squared + g["DC"] ** 2)
        return ac if variant == "altitude" else g["AB"] + g["BD"] + g["DC"] + ac
    if kind == "similar":
        if variant == "correspondence":
            return g["BC"] * g["DE"] / g["AB"]
        ratio = (g["AD"] + g["DB"]) / g["AD"]  # triangle ABC is triangle ADE scaled by AB / AD
        if variant == "side_splitter":
            return g["DE"] * ratio
        return (g["AD"] + g["AE"] + g["DE"]) * ratio
    if kind == "inscribed":
        return {
            "central_to_inscribed": lambda: g["angle_AOB"] / 2,
            "inscribed_to_central": lambda: 2 * g["angle_ACB"],
            "arc_to_inscribed": lambda: g["arc_AB"] / 2,
            "thales": lambda: 90 - g["angle_CAB"],
            "isosceles_radii": lambda: (180 - 2 * g["angle_OAB"]) / 2,
            "reflex_arc": lambda: (360 - (180 - 2 * g["angle_OAB"])) / 2,
        }[variant]()
    assert kind == "parallel", kind
    if variant == "triangle":
        return 180 - g["angle_M1AB"] - g["angle_ACB"]  # alternate angle at B, then the angle sum
    if variant == "exterior_angle":
        return g["angle_ACD"] - g["angle_M1AB"]
    if variant == "zigzag":
        return g["angle_M2AP"] + g["angle_N2BP"]
    (value,) = g.values()
    given, unknown = structure["given_position"][1], structure["unknown_position"][1]
    phi = value if position_angle(given, 0) == 0 else 180 - value
    return position_angle(unknown, phi)


def option_value(text: str) -> float:
    return float(text)


def test_every_gold_option_is_the_solvers_answer_and_no_other_option_is(items) -> None:
    for samples in items.values():
        for s in samples:
            st = s.meta["structure"]
            value = round(solve(st), st["decimals"])
            assert len(s.choices) == 4 and len(set(s.choices)) == 4, s.id
            assert s.answer == s.choices[s.meta["answer_index"]] == s.choices[s.answer_index], s.id
            assert math.isclose(option_value(s.answer), value, abs_tol=1e-9), (s.id, s.question, value)
            others = [c for c in s.choices if c != s.answer]
            assert all(abs(option_value(c) - value) > 0.4 for c in others), (s.id, s.choices)
            assert all(option_value(c) > 0 for c in s.choices)
            if st["unit"] == "degrees":
                assert all(option_value(c) < 180 for c in s.choices)


def test_answers_are_plain_numbers_with_at_most_one_decimal(items) -> None:
    for samples in items.values():
        for s in samples:
            decimals = s.meta["structure"]["decimals"]
            for choice in s.choices:
                whole, _, frac = choice.partition(".")
                assert whole.isdigit() and len(frac) == decimals, choice


def test_every_question_kind_appears_at_every_difficulty(items) -> None:
    for samples in items.values():
        assert {s.meta["kind"] for s in samples} == {
            "angle_sum",
            "pythagoras",
            "similar",
            "inscribed",
            "parallel",
        }


# --------------------------------------------------------------------------------------------------
# the picture agrees with its labels, and the labels are readable


def angle_at(points: dict, a: str, v: str, b: str) -> float:
    (ax, ay), (vx, vy), (bx, by) = points[a], points[v], points[b]
    t = math.degrees(math.atan2(ay - vy, ax - vx) - math.atan2(by - vy, bx - vx)) % 360
    return min(t, 360 - t)


def test_diagrams_are_drawn_to_scale(items) -> None:
    """Every labelled angle, arc and length (given, unneeded or unknown) matches the drawing."""
    for samples in items.values():
        for s in samples:
            figure = s.meta["structure"]["figure"]
            points = figure["points"]
            scales = []
            for m in figure["measures"]:
                if m["type"] == "angle":
                    assert abs(angle_at(points, *m["points"]) - m["value"]) < 2.5, (s.id, m)
                elif m["type"] == "arc":
                    centre = figure["circles"][0]["centre_point"]
                    assert abs(angle_at(points, m["points"][0], centre, m["points"][1]) - m["value"]) < 2.5
                else:
                    (ax, ay), (bx, by) = (points[p] for p in m["points"])
                    scales.append(math.hypot(bx - ax, by - ay) / m["value"])
            if scales:
                assert max(scales) / min(scales) < 1.08, (s.id, scales)


def box_hits_segment(box: list[int], p: list[int], q: list[int]) -> bool:
    """Sampled test: does the segment p-q pass through the box?"""
    x0, y0, x1, y1 = box
    steps = max(2, int(math.hypot(q[0] - p[0], q[1] - p[1])))
    for k in range(steps + 1):
        x = p[0] + (q[0] - p[0]) * k / steps
        y = p[1] + (q[1] - p[1]) * k / steps
        if x0 <= x <= x1 and y0 <= y <= y1:
            return True
    return False


def test_labels_cross_no_line_circle_or_other_label(items) -> None:
    for samples in items.values():
        for s in samples:
            figure = s.meta["structure"]["figure"]
            width, height = figure["canvas"]
            points = figure["points"]
            boxes = [label["box"] for label in figure["labels"]]
            for box in boxes:
                assert 0 <= box[0] < box[2] <= width and 0 <= box[1] < box[3] <= height
                assert box[3] - box[1] >= 9, "text shorter than 9 px is hard to read"
                for a, b in figure["segments"]:
                    assert not box_hits_segment(box, points[a], points[b]), (s.id, box, a, b)
                for circle in figure["circles"]:
                    (cx, cy), r = circle["centre"], circle["radius"]
                    corners = [math.hypot(x - cx, y - cy) for x in box[0::2] for y in box[1::2]]
                    near = math.hypot(max(box[0] - cx, 0, cx - box[2]), max(box[1] - cy, 0, cy - box[3]))
                    assert not near <= r <= max(corners), (s.id, box)
            for a, b in combinations(boxes, 2):
                assert not boxes_overlap(a, b), (s.id, a, b)
            assert s.meta["labels_clear"]


def test_the_unknown_and_every_given_are_labelled_in_the_picture(items) -> None:
    for samples in items.values():
        for s in samples:
            st = s.meta["structure"]
            texts = [label["text"] for label in st["figure"]["labels"]]
            for value in st["given"].values():
                number = str(int(value)) if float(value).is_integer() else str(value)
                assert number in texts or f"{number}°" in texts, (s.id, value, texts)
            if not st["unknown"].startswith("perimeter"):
                assert "x" in texts or "x°" in texts


def test_images_are_480_by_400_and_not_blank(items) -> None:
    for s in items[2][:10]:
        image = s.images[0].load()
        assert image.size == (480, 400)
        dark = sum(image.convert("L").histogram()[:128])
        assert 1500 < dark < 0.2 * 480 * 400


# --------------------------------------------------------------------------------------------------
# difficulty


def test_difficulty_adds_steps_elements_and_unneeded_labels(items) -> None:
    def mean(d: int, key) -> float:
        return statistics.mean(key(s.meta["structure"]) for s in items[d])

    assert [mean(d, lambda st: st["steps"]) for d in (1, 2, 3)] == [1, 2, 3]
    elements = [mean(d, lambda st: st["n_elements"]) for d in (1, 2, 3)]
    assert elements[0] < elements[1] < elements[2], elements
    unneeded = [mean(d, lambda st: len(st["distractors"])) for d in (1, 2, 3)]
    assert unneeded[0] == 0 < unneeded[1] < unneeded[2], unneeded


# --------------------------------------------------------------------------------------------------
# scoring


def test_gold_letters_and_gold_texts_score_100_percent(items) -> None:
    for samples in items.values():
        assert_gold_scores_perfectly(TASK, samples, lambda s: s.answer_letter)
        metrics = score(TASK, samples, lambda s: s.answer)
        assert metrics["robust"] == 1.0  # official reads letters, and may take "5" from option "15"
        assert_gold_scores_perfectly(TASK, samples, lambda s: f"x = {s.answer}\nAnswer: {s.answer_letter}")


def test_random_letter_guessing_scores_about_a_quarter() -> None:
    """200 items, p = 0.25: the standard deviation is 3 points, so 14%-36% is a 3.5-sigma band."""
    samples = generate("geometry", 200, 1, 0)
    rng = random.Random(1234)
    metrics = score(TASK, samples, lambda s: rng.choice("ABCD"))
    assert 0.14 <= metrics["official"] <= 0.36, metrics["official"]


def test_value_heuristics_do_no_better_than_chance(items) -> None:
    """The answer's rank among the four values is uniform: "take the middle / largest value" ~ 25%."""
    samples = [s for d in (1, 2, 3) for s in items[d]]
    for rank in range(4):
        hits = sum(sorted(s.choices, key=option_value)[rank] == s.answer for s in samples)
        assert hits / len(samples) <= 0.36, (rank, hits)


def test_breakdowns_by_kind_and_difficulty(items) -> None:
    samples = items[1] + items[3]
    metrics = score(TASK, samples, lambda s: s.answer_letter)
    kinds = {"angle_sum", "pythagoras", "similar", "inscribed", "parallel"}
    assert set(metrics["breakdowns"]["kind"]) == kinds
    assert {k: v["n"] for k, v in metrics["breakdowns"]["difficulty"].items()} == {"1": N, "3": N}
