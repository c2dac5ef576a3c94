"""Answer extraction, as a specification.

Rules come from `vlmbench.extract` (module docstrings of `regions`, `choice`, `numbers`, `text`) and from
the anchors note `shared/notes/anchors-evaluation.md`:
- §2.3 / §2.4: how harnesses read option letters, and their false positives (the article "a" read as
  option A, `(B)` or "The answer is B." scored wrong);
- §2.2: numbers as models write them (`1,000`, `$15`, `50%`) that a strict comparison misses;
- §3 item 9 and §5: reasoning in `<think>` is removed before extraction, and a response cut off inside
  its reasoning, or truncated without an explicit answer marker, is never read as an answer
  (lm-eval#3382);
- §5: every extraction records its status and the rule that fired, so `unparsed_rate` can be reported.
"""

from __future__ import annotations

import pytest

from vlmbench.errors import VlmbenchError
from vlmbench.extract import (
    EXTRACTORS,
    Extraction,
    Status,
    extract_choice,
    extract_list,
    extract_number,
    extract_short_text,
    extract_yes_no,
    get_extractor,
    math_equal,
    split_reasoning,
)
from vlmbench.schema import AnswerType, Sample

ANIMALS = ["cat", "dog", "fish", "bird"]  # B = "dog"
NUMERIC = ["3", "4", "5", "6"]  # the Geometry3K test-vector options of anchors §2.4 (C = "5")


def assert_ok(extraction: Extraction, answer: str) -> None:
    assert extraction.status is Status.OK, extraction
    assert extraction.answer == answer, extraction
    assert extraction.method, extraction


def assert_no_answer(extraction: Extraction) -> None:
    assert extraction.status is Status.NO_ANSWER, extraction
    assert extraction.answer is None, extraction
    assert extraction.method, extraction


# --------------------------------------------------------------------------------------------------
# Multiple choice: letters


@pytest.mark.parametrize(
    "response",
    [
        "B",
        "b",
        "(B)",
        "B.",
        "B)",
        "[B]",
        "B: dog",
        "B. dog",
        "**B**",
        "Option B",
        "option (b)",
        "I choose B.",
        "The answer is B",
        "The answer is B.",
        "The answer is (B).",
        "The correct option is B",
        "Answer: B",
        "**Answer:** B",
        "Final answer: b",
        "\\boxed{B}",
        "$\\boxed{(B)}$",
        "\\boxed{\\text{B}}",
        "<answer>B</answer>",
    ],
)
def test_choice_reads_the_letter_in_every_common_form(response: str) -> None:
    extraction = extract_choice(response, ANIMALS)
    assert_ok(extraction, "B")
    assert extraction.details["index"] == 1


def test_choice_method_names_the_region_and_the_form() -> None:
    assert extract_choice("B", ANIMALS).method == "whole:letter"
    assert extract_choice("The answer is B", ANIMALS).method == "answer_line:letter"
    assert extract_choice("\\boxed{B}", ANIMALS).method == "boxed:letter"
    assert extract_choice("<answer>B</answer>", ANIMALS).method == "answer_tag:letter"
    assert extract_choice("Option B", ANIMALS).method == "whole:option_letter"


def test_choice_last_answer_line_wins_over_an_earlier_one() -> None:
    response = "Answer: A\nWait, let me check the diagram again. The dog is larger.\nAnswer: B"
    assert_ok(extract_choice(response, ANIMALS), "B")


def test_choice_boxed_answer_wins_over_an_answer_line() -> None:
    response = "The answer is A at first sight, but on reflection: \\boxed{C}"
    assert_ok(extract_choice(response, ANIMALS), "C")


def test_choice_verbose_chain_of_thought_ending_in_an_answer_line() -> None:
    response = (
        "First, look at the diagram. The angle at A is 90 degrees, so triangle ABC is a right triangle.\n"
        "Using the Pythagorean theorem with legs 3 and 4, the hypotenuse is 5.\n"
        "Answer: C"
    )
    assert_ok(extract_choice(response, NUMERIC), "C")


def test_choice_letter_outside_the_option_range_is_not_an_answer() -> None:
    assert_no_answer(extract_choice("E", ANIMALS))


@pytest.mark.parametrize(
    "response",
    ["A cat is on the mat, chasing a bird.", "a dog", "A large animal", "I think so"],
)
def test_choice_article_a_and_pronoun_i_are_not_option_letters(response: str) -> None:
    """anchors §2.4: lmms-eval's geometry3k regex reads the article "a" as option A."""
    extraction = extract_choice(response, ["x", "y", "z", "w", "v", "u", "t", "s", "r"])
    assert_no_answer(extraction)


def test_choice_article_a_does_not_hide_the_option_text() -> None:
    """anchors §2.4 vector `a right triangle so x = 5` (gold C): official 0, the option text is 5."""
    assert_ok(extract_choice("a right triangle so x = 5", NUMERIC), "C")


@pytest.mark.parametrize("response", ["A is correct.", "A is the answer"])
def test_choice_capital_a_followed_by_is_is_the_letter(response: str) -> None:
    assert_ok(extract_choice(response, ANIMALS), "A")


@pytest.mark.parametrize(
    ("response", "candidates"),
    [
        ("A or B", ["A", "B"]),
        ("The answer is A or B", ["A", "B"]),
        ("Answer: B and C", ["B", "C"]),
        ("Both A and D", ["A", "D"]),
    ],
)
def test_choice_two_letters_in_the_answer_region_are_ambiguous(response: str, candidates: list[str]) -> None:
    extraction = extract_choice(response, ANIMALS)
    assert extraction.status is Status.AMBIGUOUS
    assert extraction.answer is None
    assert extraction.details["candidates"] == candidates


def test_choice_two_option_texts_are_ambiguous() -> None:
    extraction = extract_choice("It could be a cat or a dog", ANIMALS)
    assert extraction.status is Status.AMBIGUOUS
    assert extraction.details["candidates"] == ["A", "B"]


# --------------------------------------------------------------------------------------------------
# Multiple choice: option text


@pytest.mark.parametrize(
    ("response", "method"),
    [
        ("dog", "whole:choice_verbatim"),
        ("Dog.", "whole:choice_text"),
        ('"the dog"', "whole:choice_text"),
        ("It is a dog", "whole:choice_substring"),
        ("The answer is the dog.", "answer_line:choice_text"),
    ],
)
def test_choice_matches_the_option_text(response: str, method: str) -> None:
    extraction = extract_choice(response, ANIMALS)
    assert_ok(extraction, "B")
    assert extraction.method == method


def test_choice_substring_prefers_the_longer_option() -> None:
    """ "dark blue" contains the option "blue": the longer option is the one given."""
    assert_ok(extract_choice("The car is dark blue.", ["blue", "dark blue", "red"]), "B")


def test_choice_fuzzy_match_with_rapidfuzz() -> None:
    choices = ["Tilapia", "Common water flea", "Great diving beetle", "Tadpole"]  # MathVista pid 15
    extraction = extract_choice("Common water fleas", choices)
    assert_ok(extraction, "B")
    assert extraction.method == "whole:choice_fuzzy"


def test_choice_fuzzy_match_needs_a_clear_winner() -> None:
    """A typo between two near-identical options (MathVista pid 50) picks neither: fuzz.ratio 98 vs 94 is
    above FUZZY_MIN but closer than FUZZY_MARGIN."""
    choices = [
        "The population of steelheads would decrease.",
        "The population of stickleback fry would increase.",
        "The population of predatory insects would increase.",
        "The population of predatory insects would decrease.",
    ]
    assert_no_answer(extract_choice("The population of predatory insects would decreas", choices))
    assert_no_answer(extract_choice("zebra", ANIMALS))


@pytest.mark.parametrize(
    ("response", "choices", "answer"),
    [
        ("5\\sqrt{3}", ["\\sqrt{75}", "3", "4", "5"], "A"),
        ("x = 5\\sqrt{3}", ["5", "5 \\sqrt { 2 }", "5 \\sqrt { 3 }", "10"], "C"),  # Geometry3K id 15
        ("The answer is 5 \\sqrt{3}.", ["5", "5 \\sqrt { 2 }", "5 \\sqrt { 3 }", "10"], "C"),
        ("\\boxed{\\frac{1}{2}}", ["0.25", "0.5", "0.75"], "B"),
        ("x = 0.5", ["1/4", "1/2", "3/4"], "B"),
        ("x = 3 + 4 = 7", ["3", "4", "7", "12"], "C"),  # several options named: the last "=" decides
        ("angle C = 180 - 50 - 60 = 70", ["60", "70", "80", "90"], "B"),
    ],
)
def test_choice_math_equivalent_option(response: str, choices: list[str], answer: str) -> None:
    assert_ok(extract_choice(response, choices), answer)


@pytest.mark.parametrize("response", ["Answer: 5.5", "Answer: -5", "Answer: 3/5", "Answer: 5^2", "x = 1,500"])
def test_choice_numeric_option_is_a_whole_number_not_a_digit_inside_one(response: str) -> None:
    """Option "5" is not given by 5.5, -5, 3/5, 5^2 or 1,500 (no option equals those values)."""
    assert extract_choice(response, NUMERIC).answer != "C"


def test_choice_numeric_option_does_not_match_inside_a_latex_expression() -> None:
    """`5\\sqrt{3}` is neither option 5 nor option 3."""
    assert extract_choice("x = 5\\sqrt{3}", NUMERIC).status is Status.NO_ANSWER


def test_choice_option_text_given_verbatim_beats_a_letter_inside_it() -> None:
    """ScienceQA-style options "Solution A" / "Solution B": the text names the option, not the letter."""
    assert_ok(extract_choice("Solution B", ["Solution A", "neither", "Solution B"]), "C")


def test_choice_long_option_text_given_verbatim_is_read() -> None:
    choices = [
        "It has long, cold winters. It also has a small amount of rain or snow.",  # ScienceQA pid 16106
        "It has warm, wet summers. It also has cold winters with heavy snowfall every single year.",
    ]
    assert_ok(extract_choice(choices[0], choices), "A")
    assert_ok(extract_choice(choices[1] + "\n", choices), "B")


def test_choice_without_any_answer_is_no_answer() -> None:
    assert_no_answer(extract_choice("I cannot see the image clearly enough to tell.", ANIMALS))
    assert_no_answer(extract_choice("", ANIMALS))


# --------------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        ("14", "14"),
        ("1,234", "1234"),
        ("1,000,000", "1000000"),
        ("The answer is 1,234.", "1234"),
        ("$15", "15"),
        ("€1.50", "1.5"),
        ("12 cm", "12"),
        ("The answer is 12 cm", "12"),
        ("-3", "-3"),
        ("−3", "-3"),  # U+2212 minus sign
        ("–3", "-3"),  # en dash
        ("-.5", "-0.5"),
        ("1.2e-3", "0.0012"),
        ("1.5e-7", "1.5e-07"),
        ("1.2 × 10^3", "1200"),
        ("3/4", "0.75"),
        ("\\frac{3}{4}", "0.75"),
        ("-\\frac{3}{4}", "-0.75"),
        ("\\boxed{3}", "3"),
        ("\\boxed{\\frac{1}{2}}", "0.5"),
        ("x = 3 + 4 = 7", "7"),
        ("Answer: 12 (out of 20)", "12"),
        ("The value is 3.", "3"),
        ("14.0", "14"),
        ("two", "2"),
    ],
)
def test_number_forms(response: str, answer: str) -> None:
    assert_ok(extract_number(response), answer)


@pytest.mark.parametrize(
    ("response", "answer", "percent"),
    [("25%", "25", True), ("25 %", "25", True), ("5 percent", "5", True), ("0.25", "0.25", False)],
)
def test_number_percent_is_reported_in_details(response: str, answer: str, percent: bool) -> None:
    extraction = extract_number(response)
    assert_ok(extraction, answer)
    assert extraction.details["percent"] is percent


def test_number_free_text_takes_the_conclusion_and_answer_line_the_first_number() -> None:
    cot = "There are 3 red and 4 blue balls.\nAltogether that makes 7 balls."
    assert_ok(extract_number(cot), "7")
    assert_ok(extract_number("Reasoning first.\nThe answer is 7 (3 red + 4 blue)."), "7")


def test_number_huge_exponent_does_not_raise() -> None:
    assert_ok(extract_number("1e999"), "inf")


def test_number_without_digits_is_no_answer() -> None:
    extraction = extract_number("I cannot read the chart.")
    assert_no_answer(extraction)
    assert extraction.method == "no_number"


# --------------------------------------------------------------------------------------------------
# Yes / no, short text, lists


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        ("Yes", "yes"),
        ("yes.", "yes"),
        ("**No**", "no"),
        ("True", "yes"),
        ("false", "no"),
        ("Not true", "no"),
        ("No, there is no cart.", "no"),
        ("Yes, it is not empty.", "yes"),
        ("No, that is correct.", "no"),
        ("The answer is yes", "yes"),
        ("Answer: no", "no"),
        ("The pond is in the middle of the image and several carts stand near it.\nSo yes.", "yes"),
    ],
)
def test_yes_no(response: str, answer: str) -> None:
    assert_ok(extract_yes_no(response), answer)


@pytest.mark.parametrize("response", ["yes or no", "Maybe yes, maybe no", "true and false"])
def test_yes_no_saying_both_is_ambiguous(response: str) -> None:
    extraction = extract_yes_no(response)
    assert extraction.status is Status.AMBIGUOUS
    assert extraction.details["candidates"] == ["no", "yes"]


def test_yes_no_without_a_polar_word_is_no_answer() -> None:
    assert_no_answer(extract_yes_no("It is hard to say."))


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        ("camera", "camera"),
        ("Camera.", "Camera"),
        ("**Left**", "Left"),
        ('"table"', "table"),
        ("It is the table.", "the table"),
        ("Answer: t-shirt", "t-shirt"),
        ("Yes, there is a cart.", "Yes"),
        ("The answer is Jimmy Fallon.", "Jimmy Fallon"),
    ],
)
def test_short_text(response: str, answer: str) -> None:
    assert_ok(extract_short_text(response), answer)


def test_short_text_long_paragraph_without_a_short_line_is_no_answer() -> None:
    paragraph = " ".join(["The image shows a busy street with many people and a lot of cars."] * 3)
    assert_no_answer(extract_short_text(paragraph))


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        ("[2007, 2008]", "[2007, 2008]"),
        ("[1,2,3]", "[1, 2, 3]"),
        ("The answer is [1, 2.5, 3]", "[1, 2.5, 3]"),
        ("[-1, 1,000]", "[-1, 1000]"),
        ("[0, 2, 0, 2, 1, 7, 1, 2, 0, 3, 0, 6]", "[0, 2, 0, 2, 1, 7, 1, 2, 0, 3, 0, 6]"),  # MathVista 225
    ],
)
def test_list(response: str, answer: str) -> None:
    assert_ok(extract_list(response), answer)


@pytest.mark.parametrize("response", ["2007, 2008", "[]", "[a, b]"])
def test_list_needs_brackets_with_numbers(response: str) -> None:
    assert_no_answer(extract_list(response))


# --------------------------------------------------------------------------------------------------
# Reasoning tags


def test_split_reasoning_separates_think_from_the_answer() -> None:
    split = split_reasoning("<think>3 + 4 = 7</think>The answer is 7.")
    assert split.reasoning == "3 + 4 = 7"
    assert split.answer_part == "The answer is 7."
    assert not split.cut_off_in_reasoning


def test_split_reasoning_accepts_a_closing_tag_without_an_opening_one() -> None:
    """Chat templates that open `<think>` in the prompt leave only the closing tag in the output."""
    split = split_reasoning("3 + 4 = 7</think>7")
    assert (split.reasoning, split.answer_part, split.cut_off_in_reasoning) == ("3 + 4 = 7", "7", False)


def test_split_reasoning_flags_an_unclosed_think_as_cut_off() -> None:
    split = split_reasoning("<think>3 + 4 is")
    assert split.cut_off_in_reasoning
    assert split.answer_part == ""


def test_split_reasoning_without_tags_is_all_answer() -> None:
    assert split_reasoning("B").answer_part == "B"


def test_reasoning_is_stripped_before_extraction() -> None:
    assert_ok(extract_choice("<think>The answer is A. No wait.</think>B", ANIMALS), "B")
    assert_ok(extract_number("<think>maybe 12</think>\\boxed{15}"), "15")
    assert_ok(extract_yes_no("<THINK>no?</THINK> Yes"), "yes")


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_response_cut_off_inside_think_is_no_answer(name: str) -> None:
    """lm-eval#3382: reasoning truncated before `</think>` must not be parsed as the answer."""
    sample = Sample(id="s", question="q", answer="dog", answer_type="multiple_choice", choices=ANIMALS)
    response = "<think>The answer is B, so \\boxed{B} ... [1, 2] yes 12"
    assert_no_answer(get_extractor(name)(response, sample))


# --------------------------------------------------------------------------------------------------
# Truncated generations: only explicit answer markers count


TRUNCATED_COT = "Let me add the bars one by one. The first is 12, the second 15, so far 12 and 15"


@pytest.mark.parametrize(
    "extract",
    [
        lambda r, t: extract_number(r, truncated=t),
        lambda r, t: extract_choice(r, NUMERIC, truncated=t),
        lambda r, t: extract_yes_no(r, truncated=t),
        lambda r, t: extract_short_text(r, truncated=t),
        lambda r, t: extract_list(r, truncated=t),
    ],
    ids=["number", "choice", "yes_no", "short_text", "list"],
)
def test_truncated_response_without_marker_is_no_answer(extract) -> None:
    extraction = extract(TRUNCATED_COT + " yes [1, 2]", True)
    assert_no_answer(extraction)
    assert extraction.method == "truncated_without_answer_marker"


def test_truncated_chain_is_read_when_not_truncated() -> None:
    """The same text without the truncation flag is a (short) free-text answer: its last number."""
    assert_ok(extract_number("so far 12 and 15"), "15")
    assert_no_answer(extract_number("so far 12 and 15", truncated=True))


@pytest.mark.parametrize(
    ("response", "method"),
    [
        ("Long reasoning ... so \\boxed{15} and then I keep checking", "boxed:number"),
        ("Long reasoning ... <answer>15</answer> and then I keep", "answer_tag:number"),
        ("Long reasoning ... The answer is 15. Let me double check the", "answer_line:number"),
    ],
)
def test_truncated_response_with_an_explicit_marker_is_read(response: str, method: str) -> None:
    extraction = extract_number(response, truncated=True)
    assert_ok(extraction, "15")
    assert extraction.method == method


# --------------------------------------------------------------------------------------------------
# Registry and the status / method contract


def test_every_extraction_has_a_status_and_a_method() -> None:
    sample = Sample(id="s", question="q", answer="dog", answer_type="multiple_choice", choices=ANIMALS)
    for name, extractor in EXTRACTORS.items():
        for response in ["B", "", "nothing here", "A or B", "<think>unfinished", "12"]:
            extraction = extractor(response, sample)
            assert isinstance(extraction.status, Status), (name, response)
            assert isinstance(extraction.method, str) and extraction.method, (name, response)
            assert (extraction.answer is not None) == (extraction.status is Status.OK), (name, response)


def test_get_extractor_knows_the_documented_names() -> None:
    for name in ("choice", "number", "yes_no", "short_text", "list", "by_answer_type"):
        assert get_extractor(name).name == name
    with pytest.raises(VlmbenchError, match="unknown extractor"):
        get_extractor("llm_judge")


@pytest.mark.parametrize(
    ("answer_type", "response", "answer"),
    [
        (AnswerType.MULTIPLE_CHOICE, "The answer is (B).", "B"),
        (AnswerType.INTEGER, "1,234 people", "1234"),
        (AnswerType.FLOAT, "about 0.5", "0.5"),
        (AnswerType.LIST, "[2007, 2008]", "[2007, 2008]"),
        (AnswerType.BOOLEAN, "True.", "yes"),
        (AnswerType.TEXT, "Camera.", "Camera"),
    ],
)
def test_by_answer_type_dispatches_on_the_sample(answer_type: AnswerType, response: str, answer: str) -> None:
    choices = ANIMALS if answer_type is AnswerType.MULTIPLE_CHOICE else None
    sample = Sample(id="s", question="q", answer="dog", answer_type=answer_type, choices=choices)
    assert_ok(get_extractor("by_answer_type")(response, sample), answer)


# --------------------------------------------------------------------------------------------------
# Math equivalence


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("0.5", "1/2", True),
        ("\\frac{1}{2}", "0.5", True),
        ("5\\sqrt{3}", "\\sqrt{75}", True),
        ("2\\sqrt{3}", "\\sqrt{12}", True),
        ("5\\sqrt{3}", "5 \\sqrt { 3 }", True),
        ("1,000", "1000", True),
        ("3", "4", False),
        ("5\\sqrt{3}", "5", False),
        ("x", "y", False),
        ("\\frac{", "1", False),  # unparsable: not equal, no exception
    ],
)
def test_math_equal(a: str, b: str, equal: bool) -> None:
    assert math_equal(a, b) is equal


def test_prose_never_reaches_the_symbolic_comparison(monkeypatch):
    """math-verify parses with sympy (milliseconds, up to seconds): it is for short expressions only."""
    import vlmbench.extract.choice as choice_module

    def boom(a: str, b: str) -> bool:
        raise AssertionError(f"math_equal called on {a!r}")

    monkeypatch.setattr(choice_module, "math_equal", boom)
    text = "I compared region 5 with the legend and the bars, which settles it at roughly 7 units"
    assert extract_choice(text, ["3", "4", "6", "8"]).status is Status.NO_ANSWER
    assert choice_module._looks_like_math("5\\sqrt{3}") and not choice_module._looks_like_math(text)


def test_only_short_responses_are_memoised():
    """Direct answers repeat and are cached; long chains are unique and must not pile up in memory."""
    from vlmbench.extract import CACHE_MAX_CHARS

    extractor = get_extractor("number")
    sample = Sample("s", "How many?", "3", AnswerType.INTEGER)
    before = extractor._cached.cache_info().currsize
    long_chain = "Counting the objects one by one. " * (CACHE_MAX_CHARS // 10) + "Answer: 3"
    assert extractor(long_chain, sample).answer == "3"
    assert extractor._cached.cache_info().currsize == before
    assert extractor("Answer: 3 (memo check 7f3a)", sample).answer == "3"
    assert extractor._cached.cache_info().currsize == before + 1


TRICKY_CUES = [
    "",
    "no cue here",
    "Answer: B",
    "ans ans answer answered",
    "The correct answer is the best answer: C",
    "correctcorrect bestbest ansans",
    "İstanbul answer: 5",  # lower() changes the length before the cue
    "ANSWER - 4\nFinal Answer = 7\nans:",
    "transbestcorrectans",
]


@pytest.mark.parametrize("text", TRICKY_CUES)
def test_cue_search_finds_every_cue_position_the_lookahead_regex_did(text: str) -> None:
    import re
    import sys

    regions_module = sys.modules["vlmbench.extract.regions"]
    lookahead = re.compile("(?=ans|correct|best)")
    lowered = text.lower()
    expected = [m.start() for m in lookahead.finditer(lowered)][::-1]
    assert regions_module._cue_starts(lowered) == expected


@pytest.mark.parametrize("n", [0, 1, 11, 12, 13, 40])
@pytest.mark.parametrize("sep", [" ", "  \t", "\n", " \u2003 "])
def test_short_check_agrees_with_the_word_count(n: int, sep: str) -> None:
    import sys

    regions_module = sys.modules["vlmbench.extract.regions"]
    for text in (sep.join(["w"] * n), sep + sep.join(["w"] * n) + sep):
        assert regions_module._short(text) == (regions_module.word_count(text) <= regions_module.SHORT_WORDS)
