"""The shapes ladder (`synth_shapes`, generator `shapes`), the rung below `synth_scene`.

Spec: every gold answer follows from the picture's object list and the question's program
(`meta.structure`), recomputed here by an independent solver; the picture shows exactly the recorded
objects (each shape's centre has its colour), never overlapping, inside a square canvas; level 1 asks
only for the colour or shape every object shares, level 2 adds counting, level 3 needs colour and
shape bound per object (two colours in every picture); gold answers score 100% under the GQA scorer,
constant guessers stay far below, counts and yes / no are balanced; the task shares synth_scene's
prompts, extractor and scorer, so the two mix in one training set. Determinism, prefix stability,
export, loading and bad input: `test_synth_contract.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import combinations

import pytest
from synth_checks import assert_gold_scores_perfectly, score

from vlmbench.registry import get_task
from vlmbench.synth import generate
from vlmbench.synth.render import COLOURS

N = 300  # items per difficulty (a third of a second each): enough for the balance checks
TASK = get_task("synth_shapes")


@pytest.fixture(scope="module")
def items() -> dict[int, list]:
    return {d: generate("shapes", N, d, 0) for d in (1, 2, 3)}


# --------------------------------------------------------------------------------------------------
# an independent solver: filter the objects, then count, name the shared or the unique attribute, or
# say whether one exists


def solve(structure: dict) -> str:
    objects, query = structure["objects"], structure["query"]
    pool = [o for o in objects if all(o[k] == v for k, v in query["filter"].items())]
    if query["op"] == "count":
        return str(len(pool))
    if query["op"] == "exist":
        return "yes" if pool else "no"
    assert query["op"] == "query"
    values = {o[query["attribute"]] for o in pool}
    if not query["filter"]:  # "What colour are the objects?": every object must share it
        (value,) = values
        return value
    (found,) = pool  # "What colour is the square?": exactly one object fits
    return found[query["attribute"]]


def test_every_gold_answer_is_the_solvers_answer(items) -> None:
    for samples in items.values():
        for s in samples:
            assert solve(s.meta["structure"]) == s.answer, (s.id, s.question)


def test_questions_name_every_attribute_their_program_filters_on(items) -> None:
    for samples in items.values():
        for s in samples:
            query = s.meta["structure"]["query"]
            words = set(re.findall(r"[a-z]+", s.question.lower()))
            assert all(value in words for value in query["filter"].values()), s.question
            if query["op"] == "query":
                assert query["attribute"] not in query["filter"] and query["attribute"] in words


# --------------------------------------------------------------------------------------------------
# the picture


def test_images_show_the_recorded_objects_without_overlap(items) -> None:
    for samples in items.values():
        for s in samples[:30]:
            st = s.meta["structure"]
            image = s.images[0].load()
            assert image.size == tuple(st["canvas"]) == (224, 224)  # square: a 56 px input, uncropped
            for obj in st["objects"]:
                x0, y0, x1, y1 = obj["bbox"]
                assert 0 <= x0 < x1 <= 224 and 0 <= y0 < y1 <= 224
                assert x1 - x0 >= 60  # large: about 2-3 patches of a 56 px input across
                pixel = image.getpixel((obj["x"], obj["y"]))
                assert max(abs(a - b) for a, b in zip(pixel, COLOURS[obj["colour"]], strict=True)) <= 6
            for a, b in combinations(st["objects"], 2):
                apart = a["bbox"][2] < b["bbox"][0] or b["bbox"][2] < a["bbox"][0]
                apart = apart or a["bbox"][3] < b["bbox"][1] or b["bbox"][3] < a["bbox"][1]
                assert apart, (s.id, a, b)


# --------------------------------------------------------------------------------------------------
# the ladder


def test_level_1_reads_one_shared_colour_or_shape(items) -> None:
    for s in items[1]:
        st = s.meta["structure"]
        assert 1 <= st["n_objects"] <= 3
        assert len({(o["colour"], o["shape"]) for o in st["objects"]}) == 1
        assert s.meta["kind"] in ("colour", "shape")
        assert s.question in ("What colour are the objects?", "What shape are the objects?")
    assert {s.meta["kind"] for s in items[1]} == {"colour", "shape"}


def test_level_2_adds_counting(items) -> None:
    kinds = Counter(s.meta["kind"] for s in items[2])
    assert set(kinds) == {"count", "colour", "shape"} and 0.35 <= kinds["count"] / N <= 0.65
    for s in items[2]:
        st = s.meta["structure"]
        assert 1 <= st["n_objects"] <= 4
        assert len({(o["colour"], o["shape"]) for o in st["objects"]}) == 1
    counts = Counter(s.answer for s in items[2] if s.meta["kind"] == "count")
    assert set(counts) == {"1", "2", "3", "4"} and max(counts.values()) <= 2 * min(counts.values())


def test_level_3_binds_colour_and_shape_per_object(items) -> None:
    assert {s.meta["kind"] for s in items[3]} == {"count", "query", "exist"}
    for s in items[3]:
        st = s.meta["structure"]
        assert 2 <= st["n_objects"] <= 4
        assert len({o["colour"] for o in st["objects"]}) == 2  # a colour must be bound to its objects
        assert st["query"]["filter"]  # never a question about every object at once
        if st["query"]["op"] == "exist":  # both words name something in the picture
            colour, shape = st["query"]["filter"]["colour"], st["query"]["filter"]["shape"]
            assert any(o["colour"] == colour for o in st["objects"])
            assert any(o["shape"] == shape for o in st["objects"])
    polar = [s.answer for s in items[3] if s.meta["kind"] == "exist"]
    assert len(polar) >= 60 and 0.35 <= polar.count("yes") / len(polar) <= 0.65


def test_steps_grow_with_difficulty(items) -> None:
    assert [items[d][0].meta["structure"]["steps"] for d in (1, 2, 3)] == [1, 2, 3]


def test_the_task_mixes_with_synth_scene() -> None:
    """Same prompts, extractor and scorer as the next rung, so a training set can hold both."""
    scene = get_task("synth_scene")
    assert TASK.prompts.templates == scene.prompts.templates
    assert (TASK.extractor, TASK.scorer) == (scene.extractor, scene.scorer)


# --------------------------------------------------------------------------------------------------
# scoring and chance


def test_gold_answers_score_100_percent_official_and_robust(items) -> None:
    for samples in items.values():
        assert_gold_scores_perfectly(TASK, samples)
        assert score(TASK, samples, lambda s: f"Answer: {s.answer.capitalize()}.")["robust"] == 1.0


def test_constant_guessers_score_far_below_gold(items) -> None:
    for d, samples in items.items():
        for guess in ("yes", "no", "1", "2", "red", "circle", "square"):
            official = score(TASK, samples, lambda s, guess=guess: guess)["official"]
            assert official <= (0.3 if d < 3 else 0.25), (d, guess, official)


def test_breakdowns_by_kind_and_difficulty(items) -> None:
    metrics = score(TASK, items[2] + items[3], lambda s: s.answer)
    assert set(metrics["breakdowns"]["kind"]) == {"count", "colour", "shape", "query", "exist"}
    assert {k: v["n"] for k, v in metrics["breakdowns"]["difficulty"].items()} == {"2": N, "3": N}
