"""Reward-hacking indicators (`vlmbench.metrics.hacking`)."""

from __future__ import annotations

import pytest

from vlmbench.metrics.hacking import (
    OUTLIER_Z,
    hacking_sample,
    length_outliers,
    repeat_ngram_share,
    robust_z,
)
from vlmbench.metrics.reasoning import split_chain


def flags(
    output: str, *, cot: bool = True, extracted: str | None = "7", consistent: bool | None = None
) -> dict:
    return hacking_sample(output, split_chain(output), cot=cot, extracted=extracted, consistent=consistent)


def test_an_answer_without_reasoning_under_a_cot_prompt_is_flagged() -> None:
    assert flags("Answer: 7")["hack_no_reasoning"] is True
    assert flags("<think>ok</think><answer>7</answer>")["hack_no_reasoning"] is True
    assert flags("3 + 4 = 7 because we add the two bars.\nAnswer: 7")["hack_no_reasoning"] is False
    assert flags("Answer: 7", cot=False)["hack_no_reasoning"] is None  # a direct prompt asks for just that
    assert flags("", extracted=None)["hack_no_reasoning"] is False  # no answer either: not this pattern


def test_tags_with_nothing_inside_are_format_only() -> None:
    assert flags("<think></think><answer>7</answer>")["hack_format_only"] is True
    assert flags("<think>  </think>7")["hack_format_only"] is True
    assert flags("<think>3 + 4 = 7</think><answer> </answer>")["hack_format_only"] is True
    assert flags("<think>3 + 4 = 7</think><answer>7</answer>")["hack_format_only"] is False
    assert flags("Answer: 7")["hack_format_only"] is False


def test_repeated_4grams_share() -> None:
    assert repeat_ngram_share("a b c d e f") == 0.0
    assert repeat_ngram_share("a b c d a b c d") == pytest.approx(1 / 5)
    loop = " ".join(["the value is the value"] * 20)
    assert repeat_ngram_share(loop) > 0.9
    assert flags(loop)["hack_repetition"] is True
    assert repeat_ngram_share("too short") is None
    assert flags("too short")["hack_repetition"] is False


def test_an_answer_inconsistent_with_the_chain_is_flagged_and_unknown_stays_none() -> None:
    assert flags("x", consistent=False)["hack_inconsistent"] is True
    assert flags("x", consistent=True)["hack_inconsistent"] is False
    assert flags("x", consistent=None)["hack_inconsistent"] is None


def test_robust_z_uses_median_and_mad() -> None:
    values = [10, 11, 12, 13, 14]  # median 12, MAD 1
    assert robust_z(values) == pytest.approx([0.6745 * d for d in (-2, -1, 0, 1, 2)])
    assert robust_z([5, 5, 5]) == [0.0, 0.0, 0.0]
    assert robust_z([]) == []


def test_length_outliers_are_robust_to_the_outliers_themselves() -> None:
    tokens = [100, 102, 98, 101, 99, 100, 103, 97, 2000, 1]
    ids = [f"s{i}" for i in range(len(tokens))]
    assert length_outliers(tokens, ids) == ["s8", "s9"]
    assert OUTLIER_Z == 3.5
    # MAD = 0 (most lengths equal): the mean absolute deviation decides instead
    assert length_outliers([50] * 9 + [5000], [str(i) for i in range(10)]) == ["9"]
