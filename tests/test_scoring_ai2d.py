"""AI2D scoring. The anchors note has no AI2D section; the rule is the one `AI2DScorer` documents:
lmms-eval `ai2d` (exact_match with ignore_case + ignore_punctuation against the gold letter, after the
"flexible-extract" filter that takes the letter of a leading `X.`).

There are no real AI2D items in `shared/data`. The items below are written for these tests in the schema
of the hub dataset lmms-eval loads (`lmms-lab/ai2d`, dataset card columns: `question`, `options` (list of
strings), `answer` (index of the correct option as a string, "0"-"3"), `image`); they are not real items.
"""

from __future__ import annotations

import pytest

from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer

SCORER = get_scorer("ai2d")
EXTRACTOR = get_extractor("choice")  # tasks/ai2d.yaml

HUB_ROWS = [  # written for the tests, lmms-lab/ai2d columns (image omitted: scoring never reads it)
    {
        "question": "Which stage comes right after the egg?",
        "options": ["larva", "adult", "pupa", "nymph"],
        "answer": "0",
    },
    {
        "question": "What does the caterpillar eat in this food web?",
        "options": ["hawk", "leaves", "snake", "frog"],
        "answer": "1",
    },
    {"question": "Which label shows the crust?", "options": ["A", "B", "C", "D"], "answer": "3"},
]


def from_hub(row: dict, index: int) -> Sample:
    gold = int(row["answer"])  # a string index on the hub
    return Sample(
        id=f"ai2d-{index}",
        question=row["question"],
        answer=row["options"][gold],
        answer_type="multiple_choice",
        choices=list(row["options"]),
        meta={"answer_index": gold},
    )


SAMPLES = [from_hub(row, i) for i, row in enumerate(HUB_ROWS)]
LARVA = SAMPLES[0]  # gold "A"


def test_hub_answer_index_string_becomes_the_gold_option() -> None:
    assert [(s.answer, s.answer_letter) for s in SAMPLES] == [("larva", "A"), ("leaves", "B"), ("D", "D")]


@pytest.mark.parametrize(
    ("pred", "score"),
    [
        ("A", 1),
        ("a", 1),  # ignore_case
        ("A.", 1),
        ("(A)", 1),  # ignore_punctuation deletes the parentheses
        ("**A**", 1),  # ... and markdown asterisks
        ("A. larva", 1),  # flexible-extract: leading "X."
        ("A larva", 0),
        ("larva", 0),
        ("The answer is A.", 0),
        ("B", 0),
    ],
)
def test_official_letter_rule(pred: str, score: int) -> None:
    assert SCORER.official(pred, LARVA)[0] == float(score)


@pytest.mark.parametrize("response", ["The answer is A.", "larva", "A larva", "Answer: (A) larva"])
def test_robust_rescues_realistic_outputs(response: str) -> None:
    scored = SCORER.score(response, LARVA, EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0), scored


def test_options_that_are_letters_compare_by_position() -> None:
    """Diagram-label options ("A".."D"): the answer "D" is option D, under both conventions."""
    labels = SAMPLES[2]
    assert SCORER.score("D", labels, EXTRACTOR).official == 1.0
    assert SCORER.score("D", labels, EXTRACTOR).robust == 1.0
    assert SCORER.score("A", labels, EXTRACTOR).robust == 0.0


def test_gold_letters_score_100_percent_and_missing_ones_count_as_wrong() -> None:
    scores = [SCORER.score(s.answer_letter, s, EXTRACTOR) for s in SAMPLES[:2]] + [SCORER.missing(SAMPLES[2])]
    metrics = aggregate(SCORER, SAMPLES, scores)
    assert metrics["official"] == metrics["robust"] == pytest.approx(2 / 3)
    assert metrics["unparsed_rate"] == pytest.approx(1 / 3)
    assert scores[2].missing and scores[2].method == "missing_prediction"
