"""ScienceQA-IMG scoring (anchors-evaluation.md §2.3).

`official` is lmms-eval 0.7.3 `tasks/scienceqa/utils.py::sqa_process_results` (metric `exact_match`,
the LLaVA convention): 1 when the stripped response equals the gold letter ignoring case, or starts with
`<UPPER>.` and that letter is the gold one; else 0. ScienceQA's own `tools/evaluate_acc.py` then compares
option indices. `robust` is vlmbench's choice extractor in front of the same index comparison.
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer

SCORER = get_scorer("scienceqa")
EXTRACTOR = get_extractor("choice")  # tasks/scienceqa_img.yaml


def gold_b() -> Sample:
    """Gold index 1 -> "B", as in the anchors' vector table."""
    return Sample(
        id="sqa",
        question="Which animal is a mammal?",
        answer="dog",
        answer_type="multiple_choice",
        choices=["fish", "dog", "frog"],
        meta={"answer_index": 1, "subject": "natural science", "grade": "grade3"},
    )


# anchors §2.3 "Test vectors (lmms-eval, gold index 1 -> "B")"
VECTORS = [
    ("B", 1),
    ("b", 1),
    ("B.", 1),
    ("B. dog", 1),
    ("(B)", 0),
    ("The answer is B.", 0),
    ("dog", 0),
    ("B dog", 0),
]


@pytest.mark.parametrize(("pred", "score"), VECTORS)
def test_official_reproduces_the_lmms_eval_vectors(pred: str, score: int) -> None:
    assert SCORER.official(pred, gold_b())[0] == float(score)


@pytest.mark.parametrize(("pred", "score"), [("A", 0), ("A. fish", 0), ("b.", 0), ("  B \n", 1), ("", 0)])
def test_official_edge_cases(pred: str, score: int) -> None:
    """Lower-case `b.` is neither the bare letter nor `<UPPER>.`; lmms-eval strips the response first."""
    assert SCORER.official(pred, gold_b())[0] == float(score)


@pytest.mark.parametrize(
    "response",
    [
        "(B)",
        "The answer is B.",
        "B dog",
        "dog",
        "Option B",
        "**B**",
        "\\boxed{B}",
        "Mammals have fur and feed their young milk. A dog has fur.\nAnswer: B",
    ],
)
def test_robust_rescues_realistic_outputs(response: str) -> None:
    scored = SCORER.score(response, gold_b(), EXTRACTOR)
    assert scored.robust == 1.0, scored


@pytest.mark.parametrize("response", ["(B)", "The answer is B.", "dog", "B dog"])
def test_official_and_robust_disagree_on_the_formats_official_rejects(response: str) -> None:
    """anchors §2.3: "`(B)`, `B dog`, `The answer is B.` all score 0" under lmms-eval."""
    scored = SCORER.score(response, gold_b(), EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0)


@pytest.mark.parametrize("response", ["A", "The answer is C.", "fish", "A or B", "<think>It is B"])
def test_robust_wrong_or_unreadable_answers_score_zero(response: str) -> None:
    assert SCORER.score(response, gold_b(), EXTRACTOR).robust == 0.0


def test_robust_ambiguous_answer_is_reported_as_such() -> None:
    scored = SCORER.score("A or B", gold_b(), EXTRACTOR)
    assert (scored.robust, scored.status) == (0.0, "ambiguous")


# --------------------------------------------------------------------------------------------------
# Real test items (shared/data/scienceqa, image subset)


def test_real_items_gold_letters_score_100_percent(shared_items) -> None:
    samples = shared_items("scienceqa")
    assert all(s.answer_letter == s.meta["answer_letter"] for s in samples)
    scores = [SCORER.score(s.answer_letter, s, EXTRACTOR) for s in samples]
    wrong = [
        (s.id, sc.official, sc.robust)
        for s, sc in zip(samples, scores, strict=True)
        if (sc.official, sc.robust) != (1.0, 1.0)
    ]
    assert wrong == []


def test_real_items_gold_option_text_is_zero_officially_and_one_robustly(shared_items) -> None:
    """The official rule reads letters only; vlmbench reads the option's text, even a long one."""
    samples = shared_items("scienceqa")
    scores = [SCORER.score(s.answer, s, EXTRACTOR) for s in samples]
    assert all(sc.official == 0.0 for sc in scores)
    assert [s.id for s, sc in zip(samples, scores, strict=True) if sc.robust != 1.0] == []


def test_real_items_missing_predictions_are_wrong_and_unparsed(shared_items) -> None:
    samples = shared_items("scienceqa")
    scores = [SCORER.score(s.answer_letter, s, EXTRACTOR) for s in samples[:30]]
    scores += [SCORER.missing(s) for s in samples[30:]]
    metrics = aggregate(SCORER, samples, scores)
    assert metrics["official"] == metrics["robust"] == 30 / len(samples)
    assert metrics["unparsed_rate"] == (len(samples) - 30) / len(samples)
