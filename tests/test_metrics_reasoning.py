"""Step quality from raw outputs (`vlmbench.metrics.reasoning`), on hand-written chains with known values."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vlmbench.metrics.reasoning import (
    BACKTRACK_LEXICON,
    LEXICON_VERSION,
    METRICS_VERSION,
    StepCheck,
    count_backtracks,
    reasoning_metrics,
    segment_steps,
    split_chain,
    step_accuracy,
)

WRONG_STEP = """Step 1: The bars show 12 apples and 7 pears.
Step 2: 12 + 7 = 19.
Step 3: 19 * 2 = 36.
Answer: 36"""

BACKTRACK = """<think>The table lists 4 boxes of 6 eggs. 4 * 6 = 24.
Wait, I made a mistake: there are 5 boxes. Let me re-check: 5 * 6 = 30.</think>
<answer>30</answer>"""

CONTRADICTS = """1. Each row has 8 seats.
2. There are 3 rows, so 3 * 8 = 24 seats.
Answer: 27"""

NO_ARITHMETIC = """The largest bar is the blue one. It belongs to March.
So the month with the most sales is March.
Answer: March"""


def test_a_chain_with_a_wrong_arithmetic_step_scores_its_share_of_right_steps() -> None:
    check = step_accuracy(WRONG_STEP)
    assert (check.n_verifiable, check.n_correct, check.accuracy) == (2, 1, 0.5)
    assert [c.text for c in check.wrong] == ["19 * 2 = 36"]
    assert check.wrong[0].lhs_value == 38.0


def test_a_chain_with_no_verifiable_step_is_none_not_zero() -> None:
    check = step_accuracy(NO_ARITHMETIC)
    assert check == StepCheck(0, 0, None)
    metrics = reasoning_metrics(
        NO_ARITHMETIC, question="Which month?", choices=None, extracted="March", n_output_tokens=None
    )
    assert metrics["step_accuracy"] is None
    assert metrics["answer_chain_consistent"] is None  # the chain derives no value


@pytest.mark.parametrize(
    ("text", "verifiable", "correct"),
    [
        ("3 + 4 * 2 = 11", 1, 1),  # precedence
        ("3 + 4 * 2 = 14", 1, 0),
        ("So 3 + 4 * 2 = 3 + 8 = 11.", 2, 2),  # a chain: one claim per adjacent pair
        ("12% of 50 = 6", 1, 1),
        ("1/4 = 25%", 1, 1),
        ("15 / 30 * 100 = 50%", 1, 1),  # a percentage may state the number of percent
        ("1/4 = 40%", 1, 0),
        ("1,234 + 766 = 2,000", 1, 1),  # thousands separators
        ("0.1 + 0.2 = 0.3", 1, 1),  # decimals are exact rationals
        ("7 × 3 = 21 and 12 ÷ 4 = 3", 2, 2),
        ("2^10 = 1024", 1, 1),
        ("3 x 4 = 12", 1, 1),
        ("2(3 + 4) = 14", 1, 1),
        ("5 - 8 = -3", 1, 1),
        ("√16 = 4", 1, 1),
        ("\\frac{3}{4} = 0.75", 1, 1),
        ("The total is $12 + $8 = $20.", 1, 1),
        ("3 cm + 4 cm = 7 cm", 1, 1),  # unit words are skipped
        ("Area = 1/2 * 6 * 4 = 12", 1, 1),  # prose before the expression is not part of it
        ("5/0 = 0", 1, 0),  # division by zero is never right
        ("x = 180° - 50° - 60° = 70°", 1, 1),  # degrees
        ("70^\\circ + 20^{\\circ} = 90^\\circ", 1, 1),
        ("3² + 4² = 5²", 1, 1),
        ("3 cm² + 4 cm² = 7 cm²", 1, 1),  # a squared unit is a unit
        ("1.5 hours × 60 = 90 minutes", 1, 1),
        ("2 + 2 = 4 and 4 + 4 = 9", 2, 1),
    ],
)
def test_arithmetic_claims_are_found_and_rechecked(text: str, verifiable: int, correct: int) -> None:
    check = step_accuracy(text)
    assert (check.n_verifiable, check.n_correct) == (verifiable, correct), check.claims


@pytest.mark.parametrize(
    ("text", "right"),
    [
        ("10/3 = 3.33", True),  # rounded to the digits shown
        ("2/3 = 0.67", True),
        ("2/3 = 0.66", True),  # truncated to the digits shown
        ("2/3 = 0.6", True),
        ("2/3 = 0.65", False),  # off in the last digit shown
        ("100/7 = 14", True),  # a non-integer result written as an integer: rounding
        ("7 * 3 = 20", False),  # an integer result must be exact
        ("1/3 = 33.3%", True),
        ("sqrt(2) ≈ 1.41", True),
        ("sqrt(2) = 1.5", False),
    ],
)
def test_rounding_to_the_shown_precision_is_tolerated(text: str, right: bool) -> None:
    check = step_accuracy(text)
    assert check.n_verifiable == 1
    assert check.claims[0].correct is right


def test_equations_with_an_unknown_are_checked_with_the_value_the_chain_gives_it() -> None:
    assert step_accuracy("x/2 = 3, so x = 6").accuracy == 1.0
    solved = step_accuracy("2x + 3 = 11\n2x = 8\nx = 4")
    assert (solved.n_verifiable, solved.n_correct) == (2, 2)
    wrong = step_accuracy("2x + 3 = 11\nx = 5")
    assert (wrong.n_verifiable, wrong.n_correct) == (1, 0)
    assert step_accuracy("x² - 2 = 7").n_skipped == 1  # not `- 2 = 7`: the operator continues x²
    undecided = step_accuracy("x + 1 = 5")  # x is never given a value: skipped, not wrong
    assert (undecided.n_verifiable, undecided.accuracy, undecided.n_skipped) == (0, None, 1)


def test_naming_a_value_is_not_a_claim() -> None:
    assert step_accuracy("x = 4").n_verifiable == 0
    assert step_accuracy("7 = 7").n_verifiable == 0
    assert [c.text for c in step_accuracy("x = 3 + 4 = 7").claims] == ["3 + 4 = 7"]


def test_numbers_that_mark_list_items_or_steps_do_not_join_the_expression() -> None:
    for text in ("1. 3 + 4 = 7", "2) 3 + 4 = 7", "Step 2: 3 + 4 = 7."):
        assert [c.text for c in step_accuracy(text).claims] == ["3 + 4 = 7"], text


def test_step_segmentation_step_markers() -> None:
    assert segment_steps(split_chain(WRONG_STEP).reasoning) == [
        "Step 1: The bars show 12 apples and 7 pears.",
        "Step 2: 12 + 7 = 19.",
        "Step 3: 19 * 2 = 36.",
    ]


def test_step_segmentation_numbered_lines_with_continuations() -> None:
    chain = "We count seats.\n1. Each row has 8 seats,\n   and there are 3 rows.\n2. 3 * 8 = 24."
    assert segment_steps(chain) == [
        "We count seats.",
        "1. Each row has 8 seats,\nand there are 3 rows.",
        "2. 3 * 8 = 24.",
    ]


def test_step_segmentation_sentences_keep_decimals_whole() -> None:
    chain = "The bar is 3.5 units. The other is 2. Their sum is 5.5! Is that right? Yes"
    assert segment_steps(chain) == [
        "The bar is 3.5 units.",
        "The other is 2.",
        "Their sum is 5.5!",
        "Is that right?",
        "Yes",
    ]
    assert segment_steps("") == []


def test_the_chain_excludes_the_answer() -> None:
    assert split_chain(WRONG_STEP).answer == "Answer: 36"
    backtrack = split_chain(BACKTRACK)
    assert backtrack.reasoning.startswith("The table") and backtrack.answer.strip() == "<answer>30</answer>"
    tagged = split_chain("12 + 3 = 15 <answer>15</answer>")
    assert tagged.reasoning.strip() == "12 + 3 = 15"
    # no answer marker: read as the extractors read it
    assert split_chain("B").reasoning == "" and split_chain("B").answer == "B"  # a direct answer
    two_lines = split_chain("3 + 4 = 7\n7")
    assert (two_lines.reasoning, two_lines.answer) == ("3 + 4 = 7\n", "7")
    long = "we add the three bars and the two lines and then we compare the sums to get it"
    assert split_chain(long).reasoning == long and split_chain(long).answer == ""


def test_backtracks_are_counted_from_the_versioned_lexicon() -> None:
    assert count_backtracks(BACKTRACK) == 3  # wait, I made a mistake, let me re-check
    assert count_backtracks("Hmm, actually, on second thought the answer is B.") == 3
    assert count_backtracks("We waited for the bus; nothing unusual.") == 0  # word boundaries
    assert count_backtracks("WAIT.\nLet  me\nreconsider") == 2  # any case, any spacing
    assert "let me re-check" in BACKTRACK_LEXICON and LEXICON_VERSION == "1" and METRICS_VERSION == "1"


def test_backtrack_rate_is_per_100_steps() -> None:
    metrics = reasoning_metrics(
        BACKTRACK, question="How many eggs?", choices=None, extracted="30", n_output_tokens=None
    )
    assert metrics["steps"] == 4
    assert metrics["backtracks"] == 3
    assert metrics["backtrack_rate"] == pytest.approx(75.0)
    assert metrics["step_accuracy"] == 1.0  # both products are right; the correction is not an error
    assert metrics["answer_chain_consistent"] is True  # the last derived value is 30


def test_an_answer_that_contradicts_the_chain_is_inconsistent() -> None:
    metrics = reasoning_metrics(
        CONTRADICTS, question="3 rows of 8 seats?", choices=None, extracted="27", n_output_tokens=None
    )
    assert metrics["step_accuracy"] == 1.0
    assert metrics["answer_chain_consistent"] is False
    agree = reasoning_metrics(
        CONTRADICTS.replace("27", "24"), question="", choices=None, extracted="24", n_output_tokens=None
    )
    assert agree["answer_chain_consistent"] is True


def test_a_choice_letter_is_compared_through_its_option_text() -> None:
    output = "The angles sum to 180, so 180 - 50 - 60 = 70.\nAnswer: B"
    kwargs = {"question": "Find the angle.", "n_output_tokens": None}
    assert (
        reasoning_metrics(output, choices=["60", "70", "80"], extracted="B", **kwargs)[
            "answer_chain_consistent"
        ]
        is True
    )
    assert (
        reasoning_metrics(output, choices=["60", "70", "80"], extracted="C", **kwargs)[
            "answer_chain_consistent"
        ]
        is False
    )
    assert (
        reasoning_metrics(output, choices=["red", "blue"], extracted="B", **kwargs)["answer_chain_consistent"]
        is None
    )


def test_a_rounded_answer_matches_the_chains_exact_value() -> None:
    output = "2 / 3 = 0.6667\nAnswer: 0.67"
    assert reasoning_metrics(output, question="", choices=None, extracted="0.67", n_output_tokens=None)[
        "answer_chain_consistent"
    ]


def test_information_use_counts_the_question_numbers_and_options_the_chain_mentions() -> None:
    question = "A shop sold 12 apples on Monday and 1,500 grams of pears. How many apples in 3 days?"
    chain = "12 * 3 = 36 apples. The pears (1500 g) do not matter. The options are blue or red."
    metrics = reasoning_metrics(
        chain,
        question=question,
        choices=["red", "green", "blue", "yellow"],
        extracted=None,
        n_output_tokens=None,
    )
    assert metrics["info_use_numbers"] == 1.0  # 12, 1500, 3 all appear
    assert metrics["info_use_choices"] == 0.5
    assert metrics["info_use"] == pytest.approx(5 / 7)
    none = reasoning_metrics("x", question="What colour?", choices=None, extracted=None, n_output_tokens=None)
    assert none["info_use"] is None and none["info_use_numbers"] is None


@pytest.mark.parametrize(
    ("output", "expect_line", "ok"),
    [
        ("<think>3 + 4 = 7</think><answer>7</answer>", False, True),
        ("<think>3 + 4 = 7</think><answer>7</answer>", True, True),  # the answer tag is an explicit answer
        ("<think>3 + 4 = 7", False, False),  # never closed
        ("<think></think>7", False, False),  # empty reasoning
        ("<think>ok</think><answer> </answer>", False, False),
        ("3 + 4 = 7\nAnswer: 7", True, True),
        ("3 + 4 = 7, so it is 7", True, False),  # the prompt asked for an Answer: line
        ("7", False, True),
    ],
)
def test_format_compliance(output: str, expect_line: bool, ok: bool) -> None:
    metrics = reasoning_metrics(
        output, question="", choices=None, extracted="7", n_output_tokens=None, expect_answer_line=expect_line
    )
    assert metrics["format_ok"] is ok


def test_chain_tokens_use_the_backends_count_when_given() -> None:
    output = "one two three four five six\nAnswer: 7"  # 8 words, 6 in the chain
    assert (
        reasoning_metrics(output, question="", choices=None, extracted="7", n_output_tokens=None)[
            "chain_tokens"
        ]
        == 6
    )
    assert (
        reasoning_metrics(output, question="", choices=None, extracted="7", n_output_tokens=16)[
            "chain_tokens"
        ]
        == 12
    )


def test_reasoning_metrics_are_json_safe() -> None:
    for output in (WRONG_STEP, BACKTRACK, CONTRADICTS, NO_ARITHMETIC, ""):
        metrics = reasoning_metrics(output, question="q 12", choices=["a"], extracted=None, n_output_tokens=3)
        assert json.loads(json.dumps(metrics, allow_nan=False)) == metrics


def test_huge_powers_and_deep_nesting_are_skipped_not_computed() -> None:
    assert step_accuracy("((((2^64)^64)^64)^64) = 1").n_verifiable == 0
    assert step_accuracy("2^3 = 8").n_verifiable == 1
    deep = "(" * 500 + "1" + ")" * 500 + " + 1 = 2"
    assert step_accuracy(deep).n_verifiable <= 1


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="0123456789 +-*/^=.,%()xX√abc\\n$≈", max_size=60))
def test_step_accuracy_never_raises_and_stays_a_share(text: str) -> None:
    check = step_accuracy(text)
    assert check.n_correct <= check.n_verifiable == len(check.claims)
    assert check.accuracy is None if check.n_verifiable == 0 else 0.0 <= check.accuracy <= 1.0
