"""NLVR2 scoring: lil-lab/nlvr `nlvr2/eval/metrics.py`.

Accuracy: `prediction.lower() == example["label"].lower()`. Consistency: examples are grouped by their
identifier with the pair id blanked (`anon_label[2] = ''`, identifier format `split-set-pair-sentence`),
and a sentence counts as consistent only when every one of its examples is correct.

There are no real NLVR2 items in `shared/data`. The items below are written for these tests in the
fields of the official NLVR2 json lines (`sentence`, `label` "True"/"False", `identifier`); they are not
real items.
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer
from vlmbench.scoring.nlvr2 import consistency, sentence_group

SCORER = get_scorer("nlvr2")
EXTRACTOR = get_extractor("yes_no")  # tasks/nlvr2.yaml

JSON_LINES = [  # written for the tests: two sentences, each paired with two image pairs
    {"identifier": "dev-850-0-0", "sentence": "There are exactly two dogs in total.", "label": "True"},
    {"identifier": "dev-850-1-0", "sentence": "There are exactly two dogs in total.", "label": "False"},
    {"identifier": "dev-850-0-1", "sentence": "One image shows a dog on grass.", "label": "True"},
    {"identifier": "dev-850-2-1", "sentence": "One image shows a dog on grass.", "label": "True"},
]


def from_json(line: dict) -> Sample:
    return Sample(
        id=line["identifier"],
        question=line["sentence"],
        answer=line["label"],
        answer_type="boolean",
        meta={"identifier": line["identifier"]},
    )


SAMPLES = [from_json(line) for line in JSON_LINES]
TRUE_ITEM = SAMPLES[0]


@pytest.mark.parametrize(
    ("pred", "score"),
    [("True", 1), ("true", 1), ("TRUE", 1), ("  True \n", 1), ("True.", 0), ("yes", 0), ("False", 0)],
)
def test_official_accuracy_is_case_insensitive_equality_with_the_label(pred: str, score: int) -> None:
    assert SCORER.official(pred, TRUE_ITEM)[0] == float(score)


@pytest.mark.parametrize(
    "response", ["True.", "yes", "Yes, there are exactly two dogs.", "The statement is true.", "**True**"]
)
def test_robust_reads_polar_answers(response: str) -> None:
    scored = SCORER.score(response, TRUE_ITEM, EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0), scored


@pytest.mark.parametrize("response", ["False", "no", "It is false.", "Not true"])
def test_robust_reads_negative_answers(response: str) -> None:
    false_item = SAMPLES[1]
    assert SCORER.score(response, false_item, EXTRACTOR).robust == 1.0
    assert SCORER.score(response, TRUE_ITEM, EXTRACTOR).robust == 0.0


def test_robust_hedged_answer_is_ambiguous_and_wrong() -> None:
    scored = SCORER.score("It could be true or false.", TRUE_ITEM, EXTRACTOR)
    assert (scored.robust, scored.status) == (0.0, "ambiguous")


def test_sentence_group_blanks_the_pair_id() -> None:
    assert sentence_group("dev-850-0-0") == sentence_group("dev-850-1-0")
    assert sentence_group("dev-850-0-0") != sentence_group("dev-850-0-1")  # same set, other sentence
    assert sentence_group("test1-12-3-2") == sentence_group("test1-12-0-2")


def test_consistency_groups_by_sentence() -> None:
    # sentence 0: both pairs right; sentence 1: one pair wrong -> accuracy 0.75, consistency 0.5
    predictions = ["True", "False", "False", "True"]
    scores = [SCORER.score(p, s, EXTRACTOR) for p, s in zip(predictions, SAMPLES, strict=True)]
    metrics = aggregate(SCORER, SAMPLES, scores)
    assert metrics["official"] == metrics["robust"] == 0.75
    assert metrics["consistency"] == metrics["consistency_robust"] == 0.5


def test_consistency_of_official_and_robust_differ_when_their_readings_differ() -> None:
    predictions = ["yes", "no", "True", "True"]  # official reads "yes"/"no" as wrong labels
    scores = [SCORER.score(p, s, EXTRACTOR) for p, s in zip(predictions, SAMPLES, strict=True)]
    metrics = aggregate(SCORER, SAMPLES, scores)
    assert (metrics["consistency"], metrics["consistency_robust"]) == (0.5, 1.0)


def test_consistency_without_samples_is_none() -> None:
    assert consistency([], []) is None
