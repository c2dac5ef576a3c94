"""MathVista scoring (anchors-evaluation.md §2.1).

`official` is lupantech/MathVista `extract_answer.py` (rules only: vlmbench runs no GPT extractor) followed
by `calculate_score.py::normalize_extracted_answer` + `safe_equal`; lmms-eval 0.7.3 ports both "almost
line for line". The test vectors of §2.1 are outputs of lmms-eval's `normalize_extracted_answer` +
`safe_equal`, i.e. they start from an *extracted* answer, so they are checked against
`normalize_extracted_answer` directly; `official()` runs the whole judge-less pipeline on raw responses.
The multiple-choice options below are those of the MathVista extractor's own few-shot demo
(`prompts/ext_ans.py`: "(A) 3/11 (B) 8/11 (C) 6/11 (D) 3/5", gold B), which the vectors come from.
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer
from vlmbench.scoring.mathvista import normalize_extracted_answer, safe_equal

SCORER = get_scorer("mathvista")
EXTRACTOR = get_extractor("by_answer_type")  # tasks/mathvista_testmini.yaml


def mc_sample(answer: str = "8/11", choices: list[str] | None = None) -> Sample:
    return Sample(
        id="mc",
        question="What fraction of the shape is blue?",
        answer=answer,
        answer_type="multiple_choice",
        choices=choices or ["3/11", "8/11", "6/11", "3/5"],
        meta={"question_type": "multi_choice", "answer_type": "text", "precision": None},
    )


def free_sample(answer: str, answer_type: str, precision: int | None = None) -> Sample:
    return Sample(
        id=f"{answer_type}-{answer}",
        question="q",
        answer=answer,
        answer_type=answer_type,
        meta={"question_type": "free_form", "answer_type": answer_type, "precision": precision},
    )


# --------------------------------------------------------------------------------------------------
# §2.1 test vectors: normalize_extracted_answer + safe_equal


@pytest.mark.parametrize(
    ("extraction", "normalized", "correct"),
    [
        ("B", "8/11", True),
        ("(B) 8/11", "8/11", True),
        ("8/11", "8/11", True),
        ("b", "3/5", False),  # lowercase is no option letter: smallest Levenshtein distance wins
        ("eight elevenths", "3/11", False),
    ],
)
def test_official_normalize_multiple_choice_vectors(extraction: str, normalized: str, correct: bool) -> None:
    sample = mc_sample()
    assert normalize_extracted_answer(extraction, sample) == normalized
    assert safe_equal(normalize_extracted_answer(extraction, sample), sample.answer) is correct


@pytest.mark.parametrize(
    ("extraction", "gold", "answer_type", "precision", "normalized", "correct"),
    [
        ("14.0", "14", "integer", None, "14", True),
        ("14.7", "14", "integer", None, "14", True),  # int(float(x)) truncates, it does not round
        ("1,000", "1000", "integer", None, None, False),  # float("1,000") fails -> None
        ("1.456", "1.46", "float", 2, "1.46", True),
        ("1.50", "1.5", "float", 2, "1.5", True),
        ("3", "3.0", "float", 1, "3.0", True),
        ("[2007, 2008]", "[2007, 2008]", "list", None, "[2007, 2008]", True),
    ],
)
def test_official_normalize_free_form_vectors(
    extraction: str, gold: str, answer_type: str, precision: int | None, normalized: str | None, correct: bool
) -> None:
    sample = free_sample(gold, answer_type, precision)
    assert normalize_extracted_answer(extraction, sample) == normalized
    assert safe_equal(normalize_extracted_answer(extraction, sample), gold) is correct


def test_official_normalize_multiple_choice_always_returns_an_option() -> None:
    sample = mc_sample()
    for extraction in ["", "Z", "(z)", "nonsense", "42", None, 3]:
        assert normalize_extracted_answer(extraction, sample) in sample.choices


# --------------------------------------------------------------------------------------------------
# official(): the whole pipeline on raw responses


@pytest.mark.parametrize(
    ("response", "read", "score"),
    [
        ("8/11", "8/11", 1.0),  # the response is a choice: extract_answer returns it
        ("  8/11 \n", "8/11", 1.0),  # lmms-eval strips responses first
        ("B", "8/11", 1.0),  # a bare letter stands for the judge's verbatim extraction
        ("(B)", "8/11", 1.0),
        ("B.", "8/11", 1.0),
        ("(B) 8/11", "8/11", 1.0),  # the letter with its own option text: the few-shot prompt's last example
        ("B. 8/11", "8/11", 1.0),
        ("(B) 3/5", "3/5", 0.0),  # letter and text disagree: only the judge can say -> "" -> shortest
        ("The answer is B.", "3/5", 0.0),  # needs the GPT extractor: "" -> the shortest option
        ("b", "3/5", 0.0),
    ],
)
def test_official_pipeline_multiple_choice(response: str, read: str, score: float) -> None:
    assert SCORER.official(response, mc_sample()) == (score, read)


def test_official_unreadable_response_picks_the_shortest_option_bug_for_bug() -> None:
    """extract_answer gives "" without a judge; normalize then picks the option nearest to "" (the
    shortest). When that option is the gold one, an empty answer is scored correct."""
    sample = mc_sample(answer="3/5")
    assert SCORER.official("", sample) == (1.0, "3/5")
    assert SCORER.official("I do not know", sample) == (1.0, "3/5")
    scored = SCORER.score("", sample, EXTRACTOR)
    assert (scored.official, scored.robust, scored.status) == (1.0, 0.0, "no_answer")


@pytest.mark.parametrize(
    ("response", "gold", "answer_type", "precision", "score"),
    [
        ("14", "14", "integer", None, 1.0),
        ("14.0", "14", "integer", None, 1.0),  # int() raises, but a bare number is what the judge copies
        ("3.0", "3", "integer", None, 1.0),
        ("14.7", "14", "integer", None, 1.0),  # copied, then truncated by normalize (bug for bug)
        ("-2", "-2", "integer", None, 1.0),
        ("14 apples", "14", "integer", None, 0.0),  # not bare: the judge's call
        ("1,000", "1000", "integer", None, 0.0),
        ("3", "3.0", "float", 1, 1.0),
        ("1.456", "1.46", "float", 2, 1.0),
        ("1.50", "1.5", "float", 2, 1.0),
        ("[2007, 2008]", "[2007, 2008]", "list", None, 1.0),
        ("The years are 2007 and 2008", "[2007, 2008]", "list", None, 0.0),
        ("\\boxed{3}", "3", "integer", None, 0.0),
    ],
)
def test_official_pipeline_free_form(
    response: str, gold: str, answer_type: str, precision: int | None, score: float
) -> None:
    assert SCORER.official(response, free_sample(gold, answer_type, precision))[0] == score


# --------------------------------------------------------------------------------------------------
# robust: vlmbench's extractor in front of the same normalisation


@pytest.mark.parametrize(
    "response",
    [
        "B",
        "(B)",
        "b",
        "(B) 8/11",
        "The answer is B.",
        "**Answer:** (B) 8/11",
        "8/11",
        "\\boxed{B}",
        "The blue part covers 8 of the 11 cells.\nSo the fraction is 8/11.\nAnswer: B",
    ],
)
def test_robust_reads_the_option_in_realistic_outputs(response: str) -> None:
    assert SCORER.score(response, mc_sample(), EXTRACTOR).robust == 1.0


@pytest.mark.parametrize(
    ("response", "gold", "answer_type", "precision"),
    [
        ("1,234", "1234", "integer", None),
        ("\\boxed{3}", "3", "integer", None),
        ("14.0", "14", "integer", None),
        ("There are 7 objects left.", "7", "integer", None),
        ("The answer is 1.456.", "1.46", "float", 2),
        ("About 1.2 g", "1.2", "float", 1),
        ("The peak is between [2007, 2008].", "[2007, 2008]", "list", None),
    ],
)
def test_robust_rescues_free_form_answers(
    response: str, gold: str, answer_type: str, precision: int | None
) -> None:
    scored = SCORER.score(response, free_sample(gold, answer_type, precision), EXTRACTOR)
    assert scored.robust == 1.0, scored


@pytest.mark.parametrize(
    ("response", "sample"),
    [
        ("The answer is B.", mc_sample()),
        ("1,000", free_sample("1000", "integer")),
        ("\\boxed{3}", free_sample("3", "integer")),
        ("There are 14.", free_sample("14", "integer")),
    ],
)
def test_official_and_robust_disagree_where_the_judge_would_be_needed(response: str, sample: Sample) -> None:
    scored = SCORER.score(response, sample, EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0)


def test_robust_keeps_the_official_integer_truncation() -> None:
    """robust changes the reading, not the comparison: 14.7 still truncates to 14."""
    scored = SCORER.score("14.7", free_sample("14", "integer"), EXTRACTOR)
    assert scored.robust == 1.0
    assert scored.extracted == "14.7"


def test_robust_option_texts_that_look_like_letters() -> None:
    """MathVista pid 168: options are "(c)", "(a)", "(e)", "(d)", "(b)", gold "(b)" = option E.
    Official normalisation reads "(b)" as the letter B -> "(a)"; robust compares the chosen option."""
    sample = mc_sample(answer="(b)", choices=["(c)", "(a)", "(e)", "(d)", "(b)"])
    assert SCORER.official("(b)", sample) == (0.0, "(a)")
    assert SCORER.official("E", sample) == (1.0, "(b)")
    for response in ["E", "(E)", "The answer is E.", "(b)"]:
        assert SCORER.score(response, sample, EXTRACTOR).robust == 1.0, response


def test_robust_cut_off_reasoning_scores_zero_and_is_unparsed() -> None:
    scored = SCORER.score("<think>The fraction is 8/11 so the answer is B", mc_sample(), EXTRACTOR)
    assert (scored.robust, scored.status) == (0.0, "no_answer")


def test_robust_truncated_generation_needs_an_explicit_marker() -> None:
    sample = free_sample("12", "integer")
    assert SCORER.score("Counting: 3, 7, then 12", sample, EXTRACTOR, truncated=True).robust == 0.0
    assert SCORER.score("Counting... Answer: 12. Let me", sample, EXTRACTOR, truncated=True).robust == 1.0


# --------------------------------------------------------------------------------------------------
# Real testmini items (shared/data/mathvista)

# pid 168: the gold text "(b)" is itself an option, and official normalisation reads it as letter B.
OFFICIAL_FAILS_ON_GOLD_TEXT = {"168"}


def _gold_letter_or_value(sample: Sample) -> str:
    return sample.answer_letter if sample.choices else sample.answer


def test_real_items_gold_letters_and_values_score_100_percent(shared_items) -> None:
    samples = shared_items("mathvista")
    scores = [SCORER.score(_gold_letter_or_value(s), s, EXTRACTOR) for s in samples]
    wrong = [
        (s.id, sc.official, sc.robust, sc.official_extracted)
        for s, sc in zip(samples, scores, strict=True)
        if sc.official != 1.0 or sc.robust != 1.0
    ]
    assert wrong == []
    metrics = aggregate(SCORER, samples, scores)
    assert (metrics["official"], metrics["robust"], metrics["unparsed_rate"]) == (1.0, 1.0, 0.0)


def test_real_items_gold_text_scores_100_percent_but_for_option_texts_like_letters(shared_items) -> None:
    samples = shared_items("mathvista")
    official_wrong = {s.id for s in samples if SCORER.official(s.answer, s)[0] != 1.0}
    assert official_wrong == OFFICIAL_FAILS_ON_GOLD_TEXT
    assert all(SCORER.score(s.answer, s, EXTRACTOR).robust == 1.0 for s in samples)


def test_real_items_breakdowns_count_each_skill(shared_items) -> None:
    samples = shared_items("mathvista")
    scores = [SCORER.score(_gold_letter_or_value(s), s, EXTRACTOR) for s in samples]
    metrics = aggregate(SCORER, samples, scores, ["meta.question_type", "meta.metadata.skills"])
    by_type = metrics["breakdowns"]["question_type"]
    assert by_type["multi_choice"]["n"] + by_type["free_form"]["n"] == len(samples)
    skills = metrics["breakdowns"]["metadata.skills"]
    expected = sum(len(s.meta_value("metadata.skills") or []) for s in samples)
    assert sum(v["n"] for v in skills.values()) == expected > len(samples)  # list field: once per value
    assert all(v["official"] == 1.0 for v in skills.values())
