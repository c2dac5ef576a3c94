"""GQA testdev-balanced scoring (anchors-evaluation.md §2.5).

`official` is lmms-eval's `gqa` task: responses are stripped, then `exact_match_hf_evaluate` with
`ignore_case` and `ignore_punctuation` (lower-case, delete `string.punctuation`), then `==`. No article
removal and no number-word mapping. `robust` puts vlmbench's short-text extractor in front of the same
comparison.
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer

SCORER = get_scorer("gqa")
EXTRACTOR = get_extractor("short_text")  # tasks/gqa_testdev_balanced.yaml


def sample(answer: str) -> Sample:
    return Sample(id="q", question="q", answer=answer, answer_type="text")


# anchors §2.5 "Test vectors (lmms-eval)"
VECTORS = [
    ("Yes", "yes", 1),
    ("yes.", "yes", 1),
    ("Left", "left", 1),
    ("the table", "table", 0),
    ("t-shirt", "t shirt", 0),
    ("tshirt", "t-shirt", 1),  # the hyphen is deleted
]


@pytest.mark.parametrize(("pred", "gold", "score"), VECTORS)
def test_official_reproduces_the_lmms_eval_vectors(pred: str, gold: str, score: int) -> None:
    assert SCORER.official(pred, sample(gold))[0] == float(score)


def test_official_deletes_punctuation_after_stripping() -> None:
    """The space before a deleted "." survives: `yes .` is `yes ` and does not match `yes`."""
    assert SCORER.official("  yes.\n", sample("yes"))[0] == 1.0
    assert SCORER.official("yes .", sample("yes")) == (0.0, "yes ")


@pytest.mark.parametrize(
    ("response", "gold"),
    [
        ("The answer is yes.", "yes"),
        ("**Camera**", "camera"),
        ("Answer: left", "left"),
        ("It is the camera.", "the camera"),
        ("The device on the traffic signal is a camera.\nAnswer: camera", "camera"),
    ],
)
def test_robust_reads_the_answer_phrase(response: str, gold: str) -> None:
    scored = SCORER.score(response, sample(gold), EXTRACTOR)
    assert scored.robust == 1.0, scored


@pytest.mark.parametrize(("response", "gold"), [("The answer is yes.", "yes"), ("Answer: left", "left")])
def test_official_and_robust_disagree_on_answer_sentences(response: str, gold: str) -> None:
    scored = SCORER.score(response, sample(gold), EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0)


@pytest.mark.parametrize(("response", "gold"), [("the table", "table"), ("t-shirt", "t shirt")])
def test_robust_keeps_the_official_comparison(response: str, gold: str) -> None:
    """robust changes how the answer is read, not what counts as equal: articles still matter."""
    assert SCORER.score(response, sample(gold), EXTRACTOR).robust == 0.0


# --------------------------------------------------------------------------------------------------
# Real items (shared/data/gqa: balanced val questions)


def test_real_items_gold_answers_score_100_percent(shared_items) -> None:
    samples = shared_items("gqa")
    scores = [SCORER.score(s.answer, s, EXTRACTOR) for s in samples]
    assert [(sc.official, sc.robust) for sc in scores] == [(1.0, 1.0)] * len(samples)


def test_real_items_full_answers_are_read_by_robust_only_when_they_lead_with_the_answer(shared_items) -> None:
    """GQA's `fullAnswer` ("Yes, there is a cart near the pond.") is a sentence, not an answer."""
    samples = shared_items("gqa")
    by_id = {s.id: SCORER.score(s.meta["fullAnswer"], s, EXTRACTOR) for s in samples}
    assert all(sc.official == 0.0 for sc in by_id.values())
    assert by_id["00126851"].robust == 1.0  # "Yes, there is a cart near the pond." -> "Yes"
    assert by_id["00137872"].robust == 0.0  # "The device is a camera." is read whole


def test_real_items_breakdowns_by_question_type(shared_items) -> None:
    samples = shared_items("gqa")
    scores = [SCORER.score(s.answer, s, EXTRACTOR) for s in samples]
    metrics = aggregate(SCORER, samples, scores, ["meta.types.structural", "meta.types.semantic"])
    structural = metrics["breakdowns"]["types.structural"]
    assert sum(v["n"] for v in structural.values()) == len(samples)
    assert "verify" in structural
