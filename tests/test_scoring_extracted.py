"""`Scorer.from_extracted`: an answer another harness already extracted goes through the benchmark's
own scoring *after* its extraction step only - never through an extractor again.

MathVista's published verdicts are checked sample for sample in `test_rescore.py`; here each scorer's
rule is pinned on vectors, with the contrast to the raw-response path (`official`) where they differ.
"""

from __future__ import annotations

import pytest

from vlmbench.schema import Sample
from vlmbench.scoring import SCORERS, get_scorer
from vlmbench.scoring.base import EXTRACTED_METHOD, Scorer

CHOICES = ["3", "4", "5", "6"]


def choice_sample(gold: str = "5", **meta) -> Sample:
    return Sample(
        id="q", question="x?", answer=gold, answer_type="multiple_choice", choices=CHOICES, meta=meta
    )


def mathvista_sample(answer: str, answer_type: str, choices=None, precision=None) -> Sample:
    question_type = "multi_choice" if choices else "free_form"
    kind = "multiple_choice" if choices else answer_type
    meta = {"question_type": question_type, "answer_type": answer_type, "precision": precision}
    return Sample(id="1", question="x?", answer=answer, answer_type=kind, choices=choices, meta=meta)


def test_every_registered_scorer_implements_it() -> None:
    for name in SCORERS:
        scorer = get_scorer(name)  # the base raises NotImplementedError
        assert type(scorer).from_extracted is not Scorer.from_extracted, name


@pytest.mark.parametrize(
    ("extraction", "sample", "verdict"),
    [
        # calculate_score.py: letter -> its option; anything else -> the nearest option by Levenshtein
        ("C", mathvista_sample("quarter", "text", ["half", "quarter", "o'clock"]), 0.0),
        ("quarter", mathvista_sample("quarter", "text", ["half", "quarter", "o'clock"]), 1.0),
        ("N/A", mathvista_sample("97", "text", ["97", "102", "107", "122"]), 1.0),  # gpt4 pid 5
        ("14.7", mathvista_sample("14", "integer"), 1.0),  # int(float(x)) truncates
        ("0.11", mathvista_sample("0.1", "float", precision=1), 1.0),  # round(x, precision)
        ("N/A", mathvista_sample("3", "integer"), 0.0),
    ],
)
def test_mathvista_applies_normalize_extracted_answer_and_safe_equal(extraction, sample, verdict) -> None:
    assert get_scorer("mathvista").from_extracted(extraction, sample)[0] == verdict


def test_mathvista_does_not_read_a_response_when_given_an_extraction() -> None:
    sample = mathvista_sample("4", "integer")
    scorer = get_scorer("mathvista")
    assert scorer.official("The answer is 4.", sample)[0] == 0.0  # the raw path needs an LLM for this
    assert scorer.from_extracted("The answer is 4.", sample) == (0.0, None)  # not re-extracted either
    assert scorer.from_extracted("4", sample) == (1.0, "4")


@pytest.mark.parametrize(("extraction", "verdict"), [("12", 1.0), ("12.5", 1.0), ("11.8", 0.0), ("1,2", 0.0)])
def test_chartqa_is_relaxed_correctness_on_the_given_answer(extraction: str, verdict: float) -> None:
    sample = Sample(id="c", question="q", answer="12.5", answer_type="float", meta={"split": "human"})
    assert get_scorer("chartqa").from_extracted(extraction, sample)[0] == verdict


@pytest.mark.parametrize(("extraction", "verdict"), [("Yes.", 1.0), (" yes ", 1.0), ("yes it is", 0.0)])
def test_gqa_is_its_exact_match_on_the_given_answer(extraction: str, verdict: float) -> None:
    sample = Sample(id="g", question="q", answer="yes", answer_type="text")
    assert get_scorer("gqa").from_extracted(extraction, sample)[0] == verdict


@pytest.mark.parametrize(("extraction", "verdict"), [("True", 1.0), ("true", 1.0), ("yes", 0.0)])
def test_nlvr2_compares_the_given_label(extraction: str, verdict: float) -> None:
    sample = Sample(id="n", question="q", answer="True", answer_type="boolean")
    assert get_scorer("nlvr2").from_extracted(extraction, sample)[0] == verdict


@pytest.mark.parametrize("scorer", ["geometry3k", "unigeo", "vcr"])
@pytest.mark.parametrize(("extraction", "verdict"), [("C", 1.0), ("(c)", 1.0), ("C.", 1.0), ("B", 0.0)])
def test_letter_benchmarks_compare_the_given_letter(scorer: str, extraction: str, verdict: float) -> None:
    assert get_scorer(scorer).from_extracted(extraction, choice_sample())[0] == verdict


@pytest.mark.parametrize("scorer", ["geometry3k", "unigeo", "vcr"])
def test_letter_benchmarks_read_no_option_out_of_text(scorer: str) -> None:
    value, read = get_scorer(scorer).from_extracted("The answer is C", choice_sample())
    assert (value, read) == (0.0, None)


def test_geometry3k_given_a_sentence_does_not_run_its_regexes_again() -> None:
    scorer, sample = get_scorer("geometry3k"), choice_sample()
    assert scorer.official("The answer is C.", sample)[0] == 1.0
    assert scorer.from_extracted("The answer is C.", sample)[0] == 0.0


@pytest.mark.parametrize(("extraction", "verdict"), [("C", 1.0), ("c", 1.0), ("C. 5", 1.0), ("(C)", 0.0)])
def test_scienceqa_keeps_lmms_eval_exact_match(extraction: str, verdict: float) -> None:
    assert get_scorer("scienceqa").from_extracted(extraction, choice_sample())[0] == verdict


@pytest.mark.parametrize(("extraction", "verdict"), [("C", 1.0), ("(c)", 1.0), ("C.", 1.0), ("C. 5", 0.0)])
def test_ai2d_is_exact_match_ignoring_case_and_punctuation(extraction: str, verdict: float) -> None:
    assert get_scorer("ai2d").from_extracted(extraction, choice_sample())[0] == verdict


def test_score_extracted_fills_both_columns_with_the_official_verdict_and_names_the_method() -> None:
    scored = get_scorer("geometry3k").score_extracted("C", choice_sample())
    assert (scored.official, scored.robust, scored.status) == (1.0, 1.0, "ok")
    assert scored.method == EXTRACTED_METHOD and scored.extracted == scored.official_extracted == "C"


def test_an_extraction_that_normalises_to_nothing_is_unparsed() -> None:
    scored = get_scorer("mathvista").score_extracted("N/A", mathvista_sample("3", "integer"))
    assert (scored.official, scored.status, scored.extracted) == (0.0, "no_answer", None)
