"""Rewards are the eval scorers: the reward of a completion equals the eval score of the same text."""

from __future__ import annotations

import pytest

from vlmbench.data import load_samples
from vlmbench.extract import get_extractor
from vlmbench.models.base import Response
from vlmbench.registry import get_task
from vlmbench.rewards import (
    Curriculum,
    HybridReward,
    ZeroSpreadCounter,
    accuracy_reward,
    build_reward_parts,
    expected_format,
    format_reward,
    length_reward,
    sample_columns,
    sample_from_columns,
)
from vlmbench.runner import score_response
from vlmbench.scoring import get_scorer

SYNTH = ["synth_scene", "synth_geometry", "synth_chart", "synth_table_math"]


def _candidates(sample):
    gold = sample.answer_letter if sample.choices else sample.answer
    return [gold, f"Answer: {gold}", sample.answer, "no", "12", "B", "", "I think it is 3.\nAnswer: 7",
            f"<think> steps </think> <answer>{gold}</answer>", "lorem ipsum dolor sit amet " * 4]  # fmt: skip


def _columns(samples):
    rows = [sample_columns(s) for s in samples]
    return {key: [r[key] for r in rows] for key in rows[0]}


@pytest.mark.parametrize("task", SYNTH)
@pytest.mark.parametrize("convention", ["official", "robust"])
def test_reward_equals_eval_score(task, convention):
    spec = get_task(task)
    scorer = get_scorer(spec.scorer)
    samples = load_samples(spec, None, limit=6)
    reward = accuracy_reward(spec, convention=convention)
    for sample in samples:
        texts = _candidates(sample)
        columns = _columns([sample] * len(texts))
        got = reward(texts, **columns)
        want = [getattr(score_response(scorer, spec, sample, Response(t)), convention) for t in texts]
        assert got == want
        # conversational completions, as TRL passes them, read the same
        turns = [[{"role": "assistant", "content": t}] for t in texts]
        assert reward(turns, **columns) == want


def test_truncated_completions_are_scored_as_eval_scores_truncated_responses():
    spec = get_task("synth_table_math")
    sample = load_samples(spec, None, limit=1)[0]
    text = f"Let me compute {sample.answer}"  # no explicit answer marker: unreadable when cut off
    scorer = get_scorer(spec.scorer)
    cut = score_response(scorer, spec, sample, Response(text, finish_reason="length")).robust
    whole = score_response(scorer, spec, sample, Response(text)).robust
    reward = accuracy_reward(spec, convention="robust", eos_ids=[2])
    columns = _columns([sample, sample])
    columns["completion_ids"] = [[5, 6, 7], [5, 6, 2]]  # first one ends without EOS: truncated
    assert reward([text, text], **columns) == [cut, whole]


def test_full_credit_is_binary():
    spec = get_task("synth_chart")
    samples = load_samples(spec, None, limit=8)
    texts = [s.answer for s in samples]
    values = accuracy_reward(spec, partial=False)(texts, **_columns(samples))
    assert set(values) <= {0.0, 1.0}


def test_sample_round_trips_through_columns():
    for task in SYNTH:
        sample = load_samples(get_task(task), None, limit=1)[0]
        back = sample_from_columns(_columns([sample]), 0)
        assert (back.id, back.answer, back.choices, back.answer_index, back.meta) == (
            sample.id, sample.answer, sample.choices, sample.answer_index, sample.meta,
        )  # fmt: skip
        extractor = get_extractor(get_task(task).extractor)
        assert extractor("x", back) == extractor("x", sample)


def test_format_follows_the_prompt():
    scene = get_task("synth_scene")
    assert expected_format(scene, "direct") == "short"
    assert expected_format(scene, "cot") == "answer_line"
    short, line = format_reward(scene, "direct"), format_reward(scene, "cot")
    texts = ["red", "it is red\nAnswer: red", "a b c d e f g h i j k l m n o p", "<think> unfinished"]
    assert short(texts) == [1.0, 0.0, 0.0, 0.0]
    assert line(texts) == [0.0, 1.0, 0.0, 0.0]
    # a completion cut off by the token limit is not well formed, however short
    cut = format_reward(scene, "direct", eos_ids=[9])
    assert cut(["red", "red"], completion_ids=[[4, 9], [4, 5]]) == [1.0, 0.0]
    assert short(["red"], truncated=[True]) == [0.0]


def test_length_penalty_is_dense():
    values = length_reward(target=2, scale=4)(["a", "b", "c"], completion_ids=[[1], [1, 2, 3], [1] * 6])
    assert values == [0.0, -0.25, -1.0]


def test_step_reward_uses_reasoning_metrics():
    pytest.importorskip("vlmbench.metrics.reasoning")
    from vlmbench.metrics.reasoning import step_accuracy
    from vlmbench.rewards import step_reward

    texts = ["3 + 4 = 7, so 7 * 2 = 14", "3 + 4 = 8", "no arithmetic here"]
    got = step_reward(missing=0.0)(texts)
    want = [step_accuracy(t).accuracy if step_accuracy(t).accuracy is not None else 0.0 for t in texts]
    assert got == want
    assert got == [1.0, 0.0, 0.0]  # all steps right, a wrong step, nothing verifiable (-> missing)


def test_hybrid_weights_and_zero_spread_logging():
    spec = get_task("synth_scene")
    samples = load_samples(spec, None, limit=2)
    parts = build_reward_parts(spec, {"accuracy": 1.0, "length": 0.5}, length_scale=1.0)
    logged = {}
    hybrid = HybridReward(parts, group_size=2)
    texts = [samples[0].answer, samples[0].answer + " x", "zzz", "zzz"]
    columns = _columns([samples[0], samples[0], samples[1], samples[1]])
    columns["completion_ids"] = [[1], [1, 2], [1], [1]]
    values = hybrid(texts, log_metric=lambda k, v: logged.__setitem__(k, v), **columns)
    assert values == [1.0 - 0.5, 0.0 - 1.0, -0.5, -0.5]  # "<gold> x" is wrong under exact match
    assert logged["zero_spread_groups"] == 0.5  # the second group is flat
    assert hybrid.counter.groups == 2 and hybrid.counter.fraction == 0.5


def test_zero_spread_counter():
    counter = ZeroSpreadCounter()
    assert counter.update([1, 1, 0, 1, 2, 2], group_size=2) == pytest.approx(2 / 3)
    assert counter.update([0, 0], group_size=2) == 1.0
    assert counter.fraction == 0.75


def test_curriculum_orders_items_by_difficulty():
    curriculum = Curriculum(((1, 0.5), (2, 0.25), (3, 0.25)))
    assert curriculum.plan(8) == [1, 1, 1, 1, 2, 2, 3, 3]
    assert curriculum.difficulty_at(0.0) == 1 and curriculum.difficulty_at(0.99) == 3
    assert Curriculum.linear(1, 3).plan(3) == [1, 2, 3]
    samples = curriculum.samples("scene", 8, seed=3)
    assert [s.meta["difficulty"] for s in samples] == curriculum.plan(8)
    assert len({s.id for s in samples}) == 8


def test_length_in_characters():
    assert length_reward(target=3, scale=1, unit="chars")(["abc", "abcdef"]) == [0.0, -3.0]
