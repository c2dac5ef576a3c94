"""Geometry3K scoring (anchors-evaluation.md §2.4).

`official` is lmms-eval 0.7.3 `tasks/geometry3k/utils.py::_extract_answer_letter`: the first of four
regexes that hits, taking its *last* match (1. `answer: X`, 2. `X.` / `X)` / `X]`, 3. a bare letter,
4. any standalone a-d word), then the option text as a substring. No random-guess credit for unparsed
answers (InterGPS `symbolic_solver/sub_acc.py` gives some; VLM harnesses do not).
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer
from vlmbench.scoring.multiple_choice import geometry3k_letter

SCORER = get_scorer("geometry3k")
EXTRACTOR = get_extractor("choice")  # tasks/geometry3k.yaml


def gold_c() -> Sample:
    """The anchors' vector item: gold C, options 3 / 4 / 5 / 6."""
    return Sample(
        id="g", question="Find x.", answer="5", answer_type="multiple_choice", choices=["3", "4", "5", "6"]
    )


# anchors §2.4 "Test vectors (gold C, choices 3/4/5/6)"
VECTORS = [
    ("C", 1),
    ("(C)", 1),
    ("Answer: C", 1),
    ("The answer is C.", 1),
    ("I think it is c", 1),
    ("x is 5", 1),  # option text as a substring
    ("a right triangle so x = 5", 0),  # the article "a" is read as option A
]


@pytest.mark.parametrize(("pred", "score"), VECTORS)
def test_official_reproduces_the_lmms_eval_vectors(pred: str, score: int) -> None:
    assert SCORER.official(pred, gold_c())[0] == float(score)


@pytest.mark.parametrize(
    ("pred", "letter"),
    [
        ("a right triangle so x = 5", "A"),
        ("Answer: (b) after checking c.", "B"),  # pattern 1 wins over the later standalone c
        ("A) no. B) no. D) yes", "D"),  # last match of pattern 2
        ("x is 15", "C"),  # substring: "5" is inside "15" (anchors §2.4 false positive)
        ("no idea", None),
    ],
)
def test_official_letter_rules_and_their_false_positives(pred: str, letter: str | None) -> None:
    assert geometry3k_letter(pred, gold_c()) == letter


@pytest.mark.parametrize(
    "response",
    [
        "a right triangle so x = 5",
        "x = 5",
        "\\boxed{C}",
        "The answer is C.",
        "Option C",
        "By the Pythagorean theorem the hypotenuse is 5.\nAnswer: C",
    ],
)
def test_robust_reads_realistic_outputs(response: str) -> None:
    assert SCORER.score(response, gold_c(), EXTRACTOR).robust == 1.0


def test_official_and_robust_disagree_on_the_article_a() -> None:
    scored = SCORER.score("a right triangle so x = 5", gold_c(), EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0)
    assert scored.official_extracted == "A"


def test_robust_does_not_take_5_from_15() -> None:
    scored = SCORER.score("x is 15", gold_c(), EXTRACTOR)
    assert (scored.official, scored.robust) == (1.0, 0.0)


def test_unparsed_answers_get_no_random_guess_credit() -> None:
    scored = SCORER.score("I cannot solve this.", gold_c(), EXTRACTOR)
    assert (scored.official, scored.robust, scored.status) == (0.0, 0.0, "no_answer")


# --------------------------------------------------------------------------------------------------
# Real items (shared/data/geometry3k: InterGPS annotation-tool examples 11-15)


def test_real_items_gold_letters_score_100_percent(shared_items) -> None:
    samples = shared_items("geometry3k")
    assert [s.answer_letter for s in samples] == [s.meta["answer_letter"] for s in samples]
    scores = [SCORER.score(s.answer_letter, s, EXTRACTOR) for s in samples]
    assert [(sc.official, sc.robust) for sc in scores] == [(1.0, 1.0)] * len(samples)


def test_real_item_15_surd_option_text(shared_items) -> None:
    """Options 5 / 5√2 / 5√3 / 10 (gold C = `5 \\sqrt { 3 }`): official's substring fallback finds "5"
    first (option A); robust matches the whole expression, however it is spaced."""
    item = next(s for s in shared_items("geometry3k") if s.id == "15")
    assert SCORER.official(item.answer, item) == (0.0, "A")
    for response in [item.answer, "x = 5\\sqrt{3}", "The answer is 5 \\sqrt{3}.", "\\boxed{5\\sqrt{3}}"]:
        scored = SCORER.score(response, item, EXTRACTOR)
        assert (scored.robust, scored.extracted) == (1.0, "C"), response


def test_real_items_breakdowns_by_goal_and_diagram_type(shared_items) -> None:
    samples = shared_items("geometry3k")
    scores = [SCORER.score(s.answer_letter, s, EXTRACTOR) for s in samples]
    metrics = aggregate(SCORER, samples, scores, ["meta.problem_type_goal", "meta.problem_type_graph"])
    goals = metrics["breakdowns"]["problem_type_goal"]
    assert sum(v["n"] for v in goals.values()) >= len(samples)
    assert all(v["official"] == 1.0 for v in goals.values())
    assert "Circle" in metrics["breakdowns"]["problem_type_graph"]
