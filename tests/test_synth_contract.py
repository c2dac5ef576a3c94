"""The contract every procedural generator keeps, checked once for all of them.

Spec, for each generator in `generator_names()` and its task: generation is deterministic within a
process and across processes (another interpreter, another string-hash seed); item i is the same
whatever `n` or `start` is; distinct seeds give distinct items; items survive export and load back
identically; the task loads through the registry with overrides and its scorer; bad requests are
clear errors. Each generator's own file checks what only it promises (its solver, its difficulty
steps, its chance level, its pictures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import pytest

from vlmbench.data import load_samples
from vlmbench.data.fingerprint import dataset_fingerprint
from vlmbench.registry import get_task
from vlmbench.schema import Sample
from vlmbench.synth import DIFFICULTIES, SynthError, export, generate, generator_names, synth_tasks
from vlmbench.synth.base import retry
from vlmbench.synth.render import TextCanvas

GENERATORS = generator_names()
# generator: (its task, the task's scorer, the answer types its items may have)
CONTRACT = {
    "chart": ("synth_chart", "chartqa", {"text", "integer", "float"}),
    "geometry": ("synth_geometry", "geometry3k", {"multiple_choice"}),
    "scene": ("synth_scene", "gqa", {"text"}),
    "table_math": ("synth_table_math", "mathvista", {"integer", "float"}),
    "shapes": ("synth_shapes", "gqa", {"text"}),
}
# The lowest difficulty whose question templates have slots to vary. Shapes' levels 1-2 ask three fixed
# questions by design ("What colour are the objects?": the answer is in the picture, not the wording).
VARIED_QUESTIONS_FROM = {"shapes": 3}


@cache
def batch(generator: str, n: int, difficulty: int, seed: int) -> tuple[Sample, ...]:
    """Generated once per test process and shared by the tests below (which never modify it)."""
    return tuple(generate(generator, n, difficulty, seed))


def record(sample: Sample) -> tuple:
    """Everything an item is: id, text, options, gold, meta (structure included) and image bytes."""
    images = [image.data for image in sample.images]
    text = (sample.question, sample.choices, sample.answer, sample.answer_type)
    return (sample.id, *text, sample.meta, images)


def test_every_generator_has_its_task_and_a_contract_entry():
    assert set(CONTRACT) == set(GENERATORS)
    tasks = {get_task(name).source.synth.generator: name for name in synth_tasks()}
    assert tasks == {generator: entry[0] for generator, entry in CONTRACT.items()}


# --------------------------------------------------------------------------------------------------
# determinism


@pytest.mark.parametrize("generator", GENERATORS)
def test_generation_is_deterministic(generator):
    first, again = batch(generator, 20, 3, 5), generate(generator, 20, 3, 5)
    for a, b in zip(first, again, strict=True):
        assert record(a) == record(b), a.id
    assert dataset_fingerprint(first) == dataset_fingerprint(again)


FRESH = [(12, 2, 3), (20, 3, 5)]  # (n, difficulty, seed) generated again in a fresh process
PROBE = (
    "import json, sys; from vlmbench.synth import generate, generator_names; "
    "from vlmbench.data.fingerprint import dataset_fingerprint; "
    "print(json.dumps({f'{g} {n} {d} {s}': dataset_fingerprint(generate(g, n, d, s)) "
    "for g in generator_names() for n, d, s in json.loads(sys.argv[1])}))"
)


@pytest.fixture(scope="module")
def fresh_fingerprints() -> dict[str, str]:
    """Fingerprints from another interpreter with a string-hash seed other than this one's."""
    hash_seed = "4242" if os.environ.get("PYTHONHASHSEED") == "12345" else "12345"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(FRESH)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("generator", GENERATORS)
def test_generation_is_identical_in_a_fresh_process(generator, fresh_fingerprints):
    """No process-dependent state (string hashing, set order, caches) reaches the items."""
    for n, difficulty, seed in FRESH:
        here = dataset_fingerprint(batch(generator, n, difficulty, seed))
        assert fresh_fingerprints[f"{generator} {n} {difficulty} {seed}"] == here, (n, difficulty, seed)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("generator", GENERATORS)
def test_item_i_does_not_depend_on_n_or_start(generator, difficulty):
    long = batch(generator, 20, difficulty, 1)
    short = generate(generator, 5, difficulty, 1)
    assert dataset_fingerprint(short) == dataset_fingerprint(long[:5])
    assert [record(s) for s in short] == [record(s) for s in long[:5]]
    for start, n in ((4, 3), (7, 2)):
        window = generate(generator, n, difficulty, 1, start=start)
        assert [record(s) for s in window] == [record(s) for s in long[start : start + n]], start


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("generator", GENERATORS)
def test_distinct_seeds_give_distinct_items(generator, difficulty):
    """No image repeats across seeds; from difficulty 2 on (where templates have more slots; at
    difficulty 1 geometry asks "Find x." often; shapes: `VARIED_QUESTIONS_FROM`) at least 15 of 20
    questions differ, too."""
    a, b = batch(generator, 20, difficulty, 0), batch(generator, 20, difficulty, 1)
    assert dataset_fingerprint(a) != dataset_fingerprint(b)
    assert {s.images[0].data for s in a}.isdisjoint({s.images[0].data for s in b})
    if difficulty >= VARIED_QUESTIONS_FROM.get(generator, 2):
        assert sum(x.question != y.question for x, y in zip(a, b, strict=True)) >= 15


# --------------------------------------------------------------------------------------------------
# export, the task and bad input


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("generator", GENERATORS)
def test_structure_is_plain_json_and_export_loads_back_identically(tmp_path, generator, difficulty):
    samples = list(batch(generator, 20, difficulty, 1)[:8])
    for s in samples:
        assert json.loads(json.dumps(s.meta)) == s.meta
    task = get_task(CONTRACT[generator][0])
    export(samples, tmp_path / task.name)
    loaded = load_samples(task, tmp_path)
    assert dataset_fingerprint(loaded) == dataset_fingerprint(samples)
    assert [s.meta for s in loaded] == [s.meta for s in samples]
    assert [s.answer_letter for s in loaded] == [s.answer_letter for s in samples]


@pytest.mark.parametrize("generator", GENERATORS)
def test_the_task_loads_through_the_registry_with_overrides(generator):
    name, scorer, answer_types = CONTRACT[generator]
    task = get_task(name)
    assert task.source.synth.generator == generator and task.scorer == scorer
    samples = load_samples(task, synth={"n": 10, "difficulty": 2})
    assert len(samples) == 10
    assert {s.meta["difficulty"] for s in samples} == {2}
    assert {s.meta["generator"] for s in samples} == {generator}
    assert {s.answer_type.value for s in samples} <= answer_types
    assert [s.id for s in load_samples(task, limit=3)] == [f"{generator}-d1-s0-{i:06d}" for i in range(3)]


BAD_REQUESTS = [
    ({"difficulty": 0}, "unknown difficulty 0"),
    ({"difficulty": 4}, "unknown difficulty 4"),
    ({"n": 0}, "n must be a positive integer"),
    ({"n": -3}, "n must be a positive integer"),
    ({"n": -1, "difficulty": 2}, "n must be a positive integer"),
    ({"seed": -1}, "seed must be a non-negative integer"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_REQUESTS)
@pytest.mark.parametrize("generator", GENERATORS)
def test_bad_requests_are_clear_errors(generator, kwargs, message):
    with pytest.raises(SynthError, match=message):
        generate(generator, **{"n": 5, "difficulty": 1, "seed": 0, **kwargs})


# --------------------------------------------------------------------------------------------------
# the shared machinery generators draw with


def test_retry_keeps_the_first_accepted_draw_and_names_the_failure():
    draws = iter([None, None, "item", "later"])
    assert retry(lambda: next(draws), 5, "g", 2) == "item"
    assert next(draws) == "later"  # no draw after the accepted one
    calls: list[int] = []
    with pytest.raises(SynthError, match=r"^g: no valid item after 3 draws at difficulty 2$"):
        retry(lambda: calls.append(1), 3, "g", 2)
    assert len(calls) == 3


def test_text_canvas_records_texts_and_tells_a_clean_layout():
    canvas = TextCanvas(200, 100)
    box = canvas.text((100, 50), "Label", size=16, role="label")
    assert canvas.layout() == {
        "width": 200,
        "height": 100,
        "texts": [{"role": "label", "text": "Label", "size": 16, "box": list(box)}],
    }
    assert abs(box[2] - box[0] - canvas.width_of("Label", 16)) <= 1
    assert canvas.clean()
    canvas.text((100, 52), "Other", size=16, role="label")  # overlaps the first
    assert not canvas.clean()
    outside = TextCanvas(200, 100)
    outside.text((2, 50), "Edge", size=16, role="label", anchor="rm")
    assert not outside.clean()
