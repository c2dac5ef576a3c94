"""ChartQA relaxed accuracy (anchors-evaluation.md §2.2).

`official` is pix2struct `metrics.py::relaxed_correctness(target, prediction)` (ChartQA paper §5.1; the
code lmms-eval 0.7.3 `tasks/chartqa/utils.py` and VLMEvalKit `vqa_eval.py` copy) on the stripped
response, max over references. `robust` is the same comparison behind vlmbench's extractor, trying a
percent both as written and as a fraction, with a year guard (pix2struct#35).
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer, relaxed_correctness

SCORER = get_scorer("chartqa")
EXTRACTOR = get_extractor("by_answer_type")  # tasks/chartqa.yaml

# anchors §2.2 "Test vectors (lmms-eval 0.7.3, relaxed_correctness(pred, target))"
VECTORS = [
    ("12", "12.5", True),
    ("11.8", "12.5", False),
    ("50%", "50", False),
    ("50%", "0.5", True),
    ("50", "50%", False),
    ("1,000", "1000", False),
    ("$15", "15", False),
    ("Yes", "yes", True),
    ("yes.", "Yes", False),
    ("0", "0", True),
    ("0.01", "0", False),  # target 0 is falsy: string comparison
    ("2019", "2018", True),  # years are numbers (pix2struct#35)
]


def sample(answer: str, answer_type: str = "text", **meta) -> Sample:
    return Sample(
        id="c", question="q", answer=answer, answer_type=answer_type, meta={"split": "human", **meta}
    )


def _type(answer: str) -> str:
    try:
        float(answer.rstrip("%"))
    except ValueError:
        return "text"
    return "float"


@pytest.mark.parametrize(("pred", "target", "result"), VECTORS)
def test_relaxed_correctness_reproduces_the_pix2struct_vectors(pred: str, target: str, result: bool) -> None:
    assert relaxed_correctness(target, pred) is result


@pytest.mark.parametrize(("pred", "target", "result"), VECTORS)
def test_official_reproduces_the_vectors(pred: str, target: str, result: bool) -> None:
    assert SCORER.official(pred, sample(target, _type(target))) == (float(result), pred)


def test_official_strips_the_response_like_lmms_eval() -> None:
    assert SCORER.official("  12\n", sample("12.5", "float")) == (1.0, "12")


def test_official_denominator_is_the_target() -> None:
    """Argument order matters only through the denominator (VLMEvalKit#584): |p - t| / |t|."""
    assert relaxed_correctness("100", "95") is True  # target 100: 5 / 100 = 0.05
    assert relaxed_correctness("95", "100") is False  # target 95: 5 / 95 > 0.05


def test_official_takes_the_max_over_references() -> None:
    with_refs = sample("Italy", references=["Italia"])
    assert SCORER.official("italia", with_refs)[0] == 1.0
    assert SCORER.official("France", with_refs)[0] == 0.0


# --------------------------------------------------------------------------------------------------
# robust


@pytest.mark.parametrize(
    ("response", "gold", "answer_type"),
    [
        ("1,000", "1000", "integer"),
        ("$15", "15", "integer"),
        ("12 cm", "12", "integer"),
        ("yes.", "Yes", "text"),
        ("Inspired.", "Inspired", "text"),
        ("25%", "25", "integer"),  # percent as written
        ("50%", "0.5", "float"),  # percent as a fraction
        ("The answer is 12.5.", "12.5", "float"),
        ("\\boxed{3}", "3", "integer"),
        ("0", "0", "integer"),
        ("The difference is 0.57.\nAnswer: 0.57", "0.57", "float"),
    ],
)
def test_robust_rescues_realistic_outputs(response: str, gold: str, answer_type: str) -> None:
    assert SCORER.score(response, sample(gold, answer_type), EXTRACTOR).robust == 1.0


@pytest.mark.parametrize(
    ("response", "gold", "answer_type"),
    [
        ("1,000", "1000", "integer"),
        ("$15", "15", "integer"),
        ("yes.", "Yes", "text"),
        ("25%", "25", "integer"),
        ("The answer is 12.5.", "12.5", "float"),
    ],
)
def test_official_fails_where_the_anchors_say_and_robust_does_not(
    response: str, gold: str, answer_type: str
) -> None:
    """anchors §2.2 pitfalls: `1,000`, currency, trailing dots (VLMEvalKit#948), percent mismatch."""
    scored = SCORER.score(response, sample(gold, answer_type), EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0)


def test_robust_year_guard_disagrees_with_official() -> None:
    """pix2struct#35: 2019 is within 5% of 2018. robust requires two years to match exactly."""
    scored = SCORER.score("2019", sample("2018", "integer"), EXTRACTOR)
    assert (scored.official, scored.robust) == (1.0, 0.0)
    assert SCORER.score("2018", sample("2018", "integer"), EXTRACTOR).robust == 1.0


@pytest.mark.parametrize(
    ("response", "gold", "answer_type"),
    [("11.8", "12.5", "float"), ("0.01", "0", "integer"), ("France", "Italy", "text")],
)
def test_robust_keeps_the_relaxed_comparison(response: str, gold: str, answer_type: str) -> None:
    assert SCORER.score(response, sample(gold, answer_type), EXTRACTOR).robust == 0.0


def test_robust_truncated_cot_without_marker_is_unparsed() -> None:
    scored = SCORER.score(
        "Adding the bars: 12 and 15 gives", sample("27", "integer"), EXTRACTOR, truncated=True
    )
    assert (scored.robust, scored.status, scored.method) == (
        0.0,
        "no_answer",
        "truncated_without_answer_marker",
    )


# --------------------------------------------------------------------------------------------------
# Real test items (shared/data/chartqa: 20 human + 20 augmented)


def test_real_items_gold_answers_score_100_percent(shared_items) -> None:
    samples = shared_items("chartqa")
    scores = [SCORER.score(s.answer, s, EXTRACTOR) for s in samples]
    wrong = [
        (s.id, sc.official, sc.robust)
        for s, sc in zip(samples, scores, strict=True)
        if (sc.official, sc.robust) != (1.0, 1.0)
    ]
    assert wrong == []


def test_real_items_report_human_and_augmented_splits(shared_items) -> None:
    samples = shared_items("chartqa")
    scores = [
        SCORER.score(s.answer if s.meta["split"] == "human" else "no idea", s, EXTRACTOR) for s in samples
    ]
    metrics = aggregate(SCORER, samples, scores, ["meta.split"])
    split = metrics["breakdowns"]["split"]
    assert split["human"] == {"n": 20, "official": 1.0, "robust": 1.0}
    assert split["augmented"] == {"n": 20, "official": 0.0, "robust": 0.0}
    assert metrics["official"] == 0.5  # equal-sized splits: overall = mean of the two
