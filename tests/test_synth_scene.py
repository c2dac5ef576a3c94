"""The procedural scene task (`synth_scene`, generator `scene`).

Spec: every gold answer follows from the scene's object list and the question's program
(`meta.structure`), recomputed here by an independent solver that filters, relates and counts; no
question is about an object within the left/right (above/below) margin, so spatial answers are
unambiguous; the picture shows exactly the recorded objects, never overlapping; difficulty adds
objects and reasoning steps; gold answers score 100% under the GQA scorer, while constant guessers
stay far below and yes / no is balanced. Determinism, prefix stability, export, loading and bad
input: `test_synth_contract.py`.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from itertools import combinations

import pytest
from synth_checks import assert_gold_scores_perfectly, score

from vlmbench.registry import get_task
from vlmbench.synth import generate
from vlmbench.synth.render import COLOURS

N = 60  # items per difficulty
TASK = get_task("synth_scene")
OBJECT_COUNTS = {1: (3, 5), 2: (6, 9), 3: (10, 14)}


@pytest.fixture(scope="module")
def items() -> dict[int, list]:
    return {d: generate("scene", N, d, 0) for d in (1, 2, 3)}


# --------------------------------------------------------------------------------------------------
# an independent solver: filter, relate, count / query / compare


def fits(obj: dict, description: dict) -> bool:
    return all(obj[attribute] == value for attribute, value in description.items())


def the(objects: list[dict], description: dict) -> dict:
    (found,) = [o for o in objects if fits(o, description)]  # a definite description names one object
    return found


def stands(obj: dict, ref: dict, rel: str, margin: int) -> bool:
    """`obj` is `rel` of `ref`, judged by centres; the question must never hinge on a near tie."""
    delta = obj["x"] - ref["x"] if rel in ("left", "right") else obj["y"] - ref["y"]
    assert abs(delta) >= margin, f"{obj} is within the margin of {ref}"
    return delta < 0 if rel in ("left", "above") else delta > 0


def solve(structure: dict) -> str:
    objects, query = structure["objects"], structure["query"]
    margin = structure["relation_rule"]["margin_px"]
    if query["op"] == "relate":
        subject, other = the(objects, query["subject"]), the(objects, query["object"])
        return "yes" if stands(subject, other, query["rel"], margin) else "no"
    pool = [o for o in objects if fits(o, query["filter"])]
    if query["relate"] is not None:
        ref = the(objects, query["relate"]["ref"])
        pool = [o for o in pool if o is not ref and stands(o, ref, query["relate"]["rel"], margin)]
    if query["op"] == "count":
        return str(len(pool))
    if query["op"] == "exist":
        return "yes" if pool else "no"
    assert query["op"] == "query"
    (found,) = pool
    return found[query["attribute"]]


def test_every_gold_answer_is_the_solvers_answer(items) -> None:
    for samples in items.values():
        for s in samples:
            assert solve(s.meta["structure"]) == s.answer, (s.id, s.question)


def test_questions_name_every_attribute_their_program_filters_on(items) -> None:
    for samples in items.values():
        for s in samples:
            query = s.meta["structure"]["query"]
            descriptions = [query.get(k) for k in ("filter", "subject", "object")]
            descriptions.append((query.get("relate") or {}).get("ref"))
            words = set(re.findall(r"[a-z]+", s.question.lower()))
            for description in filter(None, descriptions):
                for value in description.values():
                    assert value in words or value + "s" in words, (s.question, value)


def test_answers_are_short_and_in_the_documented_forms(items) -> None:
    allowed = {"yes", "no", "small", "large", *COLOURS, "circle", "square", "triangle", "star", "diamond"}
    for samples in items.values():
        for s in samples:
            assert s.answer.isdigit() or s.answer in allowed, s.answer
            assert s.answer_type.value == "text"


def test_attribute_questions_name_exactly_one_object(items) -> None:
    """'What colour is the large square?' is asked only when one large square exists (the solver's
    unpacking `(found,) = pool` checks it); and never about the attribute the question names."""
    for samples in items.values():
        for s in samples:
            query = s.meta["structure"]["query"]
            if query["op"] == "query":
                assert query["attribute"] not in query["filter"]


# --------------------------------------------------------------------------------------------------
# the picture


def test_images_show_the_recorded_objects_without_overlap(items) -> None:
    for samples in items.values():
        for s in samples[:20]:
            st = s.meta["structure"]
            image = s.images[0].load()
            assert image.size == tuple(st["canvas"]) == (480, 400)
            for obj in st["objects"]:
                x0, y0, x1, y1 = obj["bbox"]
                assert 0 <= x0 < x1 <= 480 and 0 <= y0 < y1 <= 400
                pixel = image.getpixel((obj["x"], obj["y"]))  # a shape's centre shows its fill colour
                assert max(abs(a - b) for a, b in zip(pixel, COLOURS[obj["colour"]], strict=True)) <= 6
            for a, b in combinations(st["objects"], 2):
                apart = a["bbox"][2] < b["bbox"][0] or b["bbox"][2] < a["bbox"][0]
                apart = apart or a["bbox"][3] < b["bbox"][1] or b["bbox"][3] < a["bbox"][1]
                assert apart, (s.id, a, b)


def test_sizes_are_told_apart_at_a_glance(items) -> None:
    """A large shape is over 1.5 times as wide as a small one of the same kind."""
    widths: dict[tuple[str, str], set[int]] = {}
    for s in items[3]:
        for obj in s.meta["structure"]["objects"]:
            widths.setdefault((obj["shape"], obj["size"]), set()).add(obj["bbox"][2] - obj["bbox"][0])
    for shape in ("circle", "square", "triangle", "star", "diamond"):
        assert min(widths[shape, "large"]) > 1.5 * max(widths[shape, "small"]), shape


# --------------------------------------------------------------------------------------------------
# difficulty and answer balance


def test_difficulty_adds_objects_and_reasoning_steps(items) -> None:
    for d, (low, high) in OBJECT_COUNTS.items():
        assert all(low <= s.meta["structure"]["n_objects"] <= high for s in items[d])
    objects = [statistics.mean(s.meta["n_objects"] for s in items[d]) for d in (1, 2, 3)]
    steps = [statistics.mean(s.meta["structure"]["steps"] for s in items[d]) for d in (1, 2, 3)]
    assert objects[0] < objects[1] < objects[2], objects
    assert steps == [1, 2, 3], steps
    assert all(s.meta["structure"]["query"].get("relate") for s in items[3] if s.meta["kind"] != "relation")


def test_yes_and_no_are_balanced(items) -> None:
    polar = [s.answer for d in (1, 2, 3) for s in items[d] if s.answer in ("yes", "no")]
    assert len(polar) >= 60
    assert 0.35 <= polar.count("yes") / len(polar) <= 0.65


def test_counts_vary_and_no_answer_dominates(items) -> None:
    samples = [s for d in (1, 2, 3) for s in items[d]]
    counts = Counter(s.answer for s in samples if s.meta["kind"] == "count")
    assert len(counts) >= 4, counts
    top, n = Counter(s.answer for s in samples).most_common(1)[0]
    assert n / len(samples) <= 0.3, (top, n)


def test_constant_guessers_score_far_below_gold(items) -> None:
    samples = [s for d in (1, 2, 3) for s in items[d]]
    for guess in ("yes", "no", "2", "1", "0", "red"):
        metrics = score(TASK, samples, lambda s, guess=guess: guess)
        assert metrics["official"] <= 0.4, (guess, metrics["official"])


def test_gold_answers_score_100_percent_official_and_robust(items) -> None:
    for samples in items.values():
        assert_gold_scores_perfectly(TASK, samples)
        metrics = score(TASK, samples, lambda s: f"Answer: {s.answer.capitalize()}.")
        assert metrics["robust"] == 1.0


def test_breakdowns_by_kind_and_difficulty(items) -> None:
    samples = items[1] + items[2]
    metrics = score(TASK, samples, lambda s: s.answer)
    assert set(metrics["breakdowns"]["kind"]) == {"count", "attribute", "exist", "relation"}
    assert {k: v["n"] for k, v in metrics["breakdowns"]["difficulty"].items()} == {"1": N, "2": N}
