"""VCR = Visual Commonsense Reasoning (anchors-evaluation.md §2.6), not Visual Caption Restoration.

rowanz/r2c `models/eval_q2ar.py`: Q->A = mean(answer correct), QA->R = mean(rationale correct, the
rationale being chosen given the gold answer), Q->AR = mean(both correct) *per question*; multiplying the
two accuracies is wrong. vlmbench scores each annotation as two samples, `<id>:q2a` and `<id>:qa2r`.
No harness parses generated text for VCR, so `official` accepts only a response that is one option letter.
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer
from vlmbench.scoring.vcr import vcr_metrics

SCORER = get_scorer("vcr")
EXTRACTOR = get_extractor("choice")  # tasks/vcr.yaml

ANSWERS = ["He is hungry.", "He is lost.", "He is waiting for a friend.", "He is cold."]
RATIONALES = ["He checks his watch.", "He is holding a map.", "He is eating.", "He is shivering."]


def pair(annot_id: str, answer_label: int = 2, rationale_label: int = 0) -> tuple[Sample, Sample]:
    q2a = Sample(
        id=f"{annot_id}:q2a",
        question="Why is 1 standing here?",
        answer=ANSWERS[answer_label],
        answer_type="multiple_choice",
        choices=ANSWERS,
        meta={"vcr_subtask": "q2a", "annot_id": annot_id, "answer_label": answer_label},
    )
    qa2r = Sample(
        id=f"{annot_id}:qa2r",
        question="Why is 1 standing here?",
        answer=RATIONALES[rationale_label],
        answer_type="multiple_choice",
        choices=RATIONALES,
        meta={"vcr_subtask": "qa2r", "annot_id": annot_id, "answer_label": rationale_label},
    )
    return q2a, qa2r


def letter(sample: Sample, right: bool) -> str:
    return sample.answer_letter if right else ("A" if sample.answer_letter != "A" else "B")


def score_questions(outcomes: list[tuple[bool, bool]]) -> dict:
    samples, scores = [], []
    for i, (q2a_right, qa2r_right) in enumerate(outcomes):
        q2a, qa2r = pair(f"val-{i}")
        samples += [q2a, qa2r]
        scores += [
            SCORER.score(letter(q2a, q2a_right), q2a, EXTRACTOR),
            SCORER.score(letter(qa2r, qa2r_right), qa2r, EXTRACTOR),
        ]
    return aggregate(SCORER, samples, scores, ["meta.vcr_subtask"])


@pytest.mark.parametrize(
    ("outcomes", "q2ar"),
    [
        # each question gets one subtask right: Q->A 0.5, QA->R 0.5, Q->AR 0 (the product would say 0.25)
        ([(True, False), (True, False), (False, True), (False, True)], 0.0),
        # the same two questions get both right: Q->A 0.5, QA->R 0.5, Q->AR 0.5 (the product would say 0.25)
        ([(True, True), (True, True), (False, False), (False, False)], 0.5),
        ([(True, True), (True, False), (False, True), (False, False)], 0.25),
    ],
)
def test_q2ar_is_per_question_not_the_product_of_accuracies(
    outcomes: list[tuple[bool, bool]], q2ar: float
) -> None:
    metrics = score_questions(outcomes)
    assert (metrics["q2a"], metrics["qa2r"]) == (0.5, 0.5)
    assert metrics["q2ar"] == q2ar
    assert metrics["official"] == q2ar  # the headline number is Q->AR
    assert metrics["q2ar_robust"] == q2ar
    assert metrics["breakdowns"]["vcr_subtask"]["q2a"]["official"] == 0.5


def test_question_missing_its_rationale_sample_is_wrong_in_q2ar() -> None:
    q2a, qa2r = pair("val-9")
    assert vcr_metrics([q2a], [1.0]) == {"q2a": 1.0, "qa2r": None, "q2ar": 0.0}
    missing = SCORER.missing(qa2r)
    metrics = aggregate(SCORER, [q2a, qa2r], [SCORER.score("C", q2a, EXTRACTOR), missing])
    assert (metrics["q2a"], metrics["qa2r"], metrics["q2ar"]) == (1.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("response", "official"),
    [("C", 1.0), ("(C)", 1.0), ("c.", 1.0), ("C. He is waiting", 0.0), ("The answer is C.", 0.0), ("E", 0.0)],
)
def test_official_accepts_only_a_bare_option_letter(response: str, official: float) -> None:
    q2a, _ = pair("val-0")
    assert SCORER.official(response, q2a)[0] == official


@pytest.mark.parametrize(
    "response",
    [
        "The answer is C.",
        "C. He is waiting",
        "He is waiting for a friend.",
        "**Answer:** (C)",
        "1 keeps looking at the door and checking the time.\nAnswer: C",
    ],
)
def test_robust_reads_realistic_outputs(response: str) -> None:
    q2a, _ = pair("val-0")
    assert SCORER.score(response, q2a, EXTRACTOR).robust == 1.0


# --------------------------------------------------------------------------------------------------
# The real validation annotation (shared/data/vcr: val-1), two samples


def test_real_item_becomes_two_samples_with_the_gold_labels(shared_items) -> None:
    q2a, qa2r = shared_items("vcr")
    assert (q2a.id, qa2r.id) == ("val-1:q2a", "val-1:qa2r")
    assert (q2a.answer_letter, qa2r.answer_letter) == ("C", "D")  # answer_label 2, rationale_label 3


def test_real_item_gold_letters_score_100_percent(shared_items) -> None:
    samples = shared_items("vcr")
    scores = [SCORER.score(s.answer_letter, s, EXTRACTOR) for s in samples]
    metrics = aggregate(SCORER, samples, scores)
    assert (metrics["q2a"], metrics["qa2r"], metrics["q2ar"]) == (1.0, 1.0, 1.0)
    assert (metrics["official"], metrics["robust"]) == (1.0, 1.0)


def test_real_item_gold_option_texts_are_read_by_robust(shared_items) -> None:
    """The rationale (13 words) is longer than a short `whole` answer; given verbatim it is still read."""
    samples = shared_items("vcr")
    scores = [SCORER.score(s.answer, s, EXTRACTOR) for s in samples]
    assert [(sc.official, sc.robust) for sc in scores] == [(0.0, 1.0), (0.0, 1.0)]
