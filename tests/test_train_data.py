"""One data path: training prompts are the eval's prompts, SFT targets score 1, bad items are skipped."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")
pytest.importorskip("datasets")

from train_adapters.data import DataReport, build_rows, load_split, target_answer, to_dataset
from vlmbench.data import load_samples
from vlmbench.models.base import GenerationParams, Response
from vlmbench.models.hf import chat_messages
from vlmbench.prompts import build_request
from vlmbench.registry import get_task
from vlmbench.runner import score_response
from vlmbench.schema import ImageRef
from vlmbench.scoring import get_scorer

SYNTH = ["synth_scene", "synth_geometry", "synth_chart", "synth_table_math"]


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    from vlmbench.models.processors import load_processor
    from vlmbench.models.tiny import make_tiny_model

    return load_processor(make_tiny_model(tmp_path_factory.mktemp("tiny"), "llava"))


@pytest.mark.parametrize("task", SYNTH)
@pytest.mark.parametrize("style", ["direct", "cot"])
def test_training_prompt_is_the_eval_prompt(task, style, processor):
    spec = get_task(task)
    samples = load_samples(spec, None, limit=3)
    rows = build_rows(spec, samples, style, processor=processor)
    for row, sample in zip(rows, samples, strict=True):
        request = build_request(spec, sample, style, GenerationParams(max_new_tokens=8))
        render = processor.apply_chat_template
        assert render(row["prompt"], tokenize=False, add_generation_prompt=True) == render(
            chat_messages(request), tokenize=False, add_generation_prompt=True
        )
        assert len(row["images"]) == len(sample.images)


@pytest.mark.parametrize("task", SYNTH)
@pytest.mark.parametrize("style", ["direct", "cot"])
def test_sft_targets_score_full_marks(task, style):
    """Direct answers score 1 under both conventions; `Answer:` lines under the robust one (official
    short-answer rules read the raw text, which is why recipes for cot prompts use `robust`)."""
    spec = get_task(task)
    scorer = get_scorer(spec.scorer)
    for sample in load_samples(spec, None, limit=10):
        score = score_response(scorer, spec, sample, Response(target_answer(spec, sample, style)))
        assert score.robust == 1.0
        if style == "direct":
            assert score.official == 1.0


def test_a_reward_that_cannot_read_gold_is_refused(tmp_path):
    from train_adapters.config import RecipeError, check_ready, validate_recipe

    base = {"algorithm": "grpo", "model": "a/b", "output_dir": str(tmp_path)}
    cot = {**base, "data": {"task": "synth_scene", "prompt": "cot"}}
    with pytest.raises(RecipeError, match="use convention: robust"):
        check_ready(validate_recipe(cot, "r.yaml"))
    check_ready(validate_recipe({**cot, "rewards": {"convention": "robust"}}, "r.yaml"))
    check_ready(validate_recipe(base, "r.yaml"))


def test_bad_items_are_skipped_and_counted(processor):
    spec = get_task("synth_scene")
    samples = load_samples(spec, None, limit=3)
    samples[1].images = [ImageRef(path="/nonexistent/image.png")]
    report = DataReport()
    rows = build_rows(spec, samples, "direct", processor=processor, report=report, with_target=True)
    assert [r["sample_id"] for r in rows] == [samples[0].id, samples[2].id]
    assert report.kept == 2 and list(report.skipped) == [samples[1].id]
    assert "image file not found" in report.skipped[samples[1].id]
    ds = to_dataset(rows)
    assert {"prompt", "images", "completion", "sample_id", "answer", "meta_json"} <= set(ds.column_names)


def test_training_items_are_held_out_from_eval():
    spec = get_task("synth_scene")
    train = load_split(spec, n=20, seed=1)
    held = load_samples(spec, None, limit=20)  # what evaluation reads (the task's seed 0)
    assert not {s.id for s in train} & {s.id for s in held}


def test_stage_counts_split_n_by_share_exactly():
    from train_adapters.data import stage_counts

    assert sum(stage_counts([0.25, 0.5, 0.25], 10)) == 10 and stage_counts([1, 1], 4) == [2, 2]
    for n in (1, 7, 100, 3001):
        counts = stage_counts([0.2, 0.4, 0.2, 0.2], n)
        shares = [0.2, 0.4, 0.2, 0.2]
        assert sum(counts) == n and all(abs(c - n * s) < 1 for c, s in zip(counts, shares, strict=True))


def test_a_ladder_of_tasks_is_ordered_easy_to_hard_and_never_repeats_an_item():
    from train_adapters.data import ladder_samples

    rungs = [
        ("synth_shapes", 1, 0.3),
        ("synth_shapes", 3, 0.3),
        ("synth_scene", 1, 0.2),
        ("synth_shapes", 1, 0.2),
    ]
    samples = ladder_samples(rungs, 10, seed=1)
    assert [(s.meta["generator"], s.meta["difficulty"]) for s in samples] == [
        *[("shapes", 1)] * 3, *[("shapes", 3)] * 3, *[("scene", 1)] * 2, *[("shapes", 1)] * 2,
    ]  # fmt: skip
    assert len({s.id for s in samples}) == 10  # the second shapes-1 rung goes on from item 3
    first_rung = [s for s in samples if s.meta["difficulty"] == 1 and s.meta["generator"] == "shapes"]
    assert [s.meta["index"] for s in first_rung] == [
        0, 1, 2, 3, 4,
    ]  # fmt: skip


def test_the_recipe_curriculum_takes_rungs_of_tasks_that_read_alike(tmp_path):
    from train_adapters.common import curriculum_of
    from train_adapters.config import RecipeError, check_recipe, validate_recipe
    from vlmbench.rewards import Curriculum

    base = {"algorithm": "sft", "model": "a/b", "output_dir": str(tmp_path), "data": {"task": "synth_shapes"}}
    ladder = [["synth_shapes", 1, 0.5], [2, 0.3], ["synth_scene", 1, 0.2]]
    recipe = validate_recipe({**base, "data": {**base["data"], "curriculum": ladder}}, "r.yaml")
    check_recipe(recipe, read_gold=False)
    assert curriculum_of(recipe) == [
        ("synth_shapes", 1, 0.5),
        ("synth_shapes", 2, 0.3),
        ("synth_scene", 1, 0.2),
    ]
    plain = validate_recipe({**base, "data": {**base["data"], "curriculum": [[1, 0.5], [2, 0.5]]}}, "r.yaml")
    assert curriculum_of(plain) == Curriculum(((1, 0.5), (2, 0.5)))  # the task's own difficulties
    other = validate_recipe(
        {**base, "data": {**base["data"], "curriculum": [["synth_chart", 1, 1.0]]}}, "r.yaml"
    )
    with pytest.raises(RecipeError, match=r"'synth_chart' does not share 'synth_shapes''s prompts"):
        check_recipe(other, read_gold=False)
    with pytest.raises(RecipeError, match=r"difficulty 1-3 and a share > 0"):
        validate_recipe({**base, "data": {**base["data"], "curriculum": [["synth_scene", 4, 1.0]]}}, "r.yaml")
