"""UniGeo (calculation) scoring. The anchors note has no UniGeo section; the rule is the one
`UniGeoScorer` documents: Geoformer's calculation accuracy (the chosen option equals `label`), where
generated text maps to an option only when the whole stripped response is one letter.

There are no real UniGeo items in `shared/data`. The items below are written for these tests in the
fields of UniGeo's calculation pickles (`English_problem`, `choice_nums` (the option values), `label`
(index of the correct option), `id`); they are not real items.
"""

from __future__ import annotations

import pytest

from vlmbench.extract import format_number, get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import aggregate, get_scorer

SCORER = get_scorer("unigeo")
EXTRACTOR = get_extractor("choice")  # tasks/unigeo.yaml

PICKLE_RECORDS = [  # written for the tests, UniGeo calculation fields
    {
        "id": 101,
        "English_problem": "In triangle ABC, angle A = 50 and angle B = 60. Find angle C.",
        "choice_nums": [60.0, 70.0, 80.0, 90.0],
        "label": 1,
        "subtype": "angle",
    },
    {
        "id": 102,
        "English_problem": "The radius of circle O is 5. Find the diameter.",
        "choice_nums": [5.0, 10.0, 2.5, 15.0],
        "label": 1,
        "subtype": "length",
    },
    {
        "id": 103,
        "English_problem": "AB = 3 and BC = 4 with AB perpendicular to BC. Find AC.",
        "choice_nums": [5.0, 7.0, 1.0, 12.0],
        "label": 0,
        "subtype": "length",
    },
]


def from_pickle(record: dict) -> Sample:
    choices = [format_number(v) for v in record["choice_nums"]]
    return Sample(
        id=str(record["id"]),
        question=record["English_problem"],
        answer=choices[record["label"]],
        answer_type="multiple_choice",
        choices=choices,
        meta={"answer_index": record["label"], "subtype": record["subtype"]},
    )


SAMPLES = [from_pickle(r) for r in PICKLE_RECORDS]
ANGLE = SAMPLES[0]  # gold B = 70


def test_pickle_record_becomes_a_sample() -> None:
    assert (ANGLE.choices, ANGLE.answer, ANGLE.answer_letter) == (["60", "70", "80", "90"], "70", "B")


@pytest.mark.parametrize(
    ("pred", "score"),
    [
        ("B", 1),
        ("b", 1),
        ("(B)", 1),
        ("B.", 1),
        (" B\n", 1),
        ("B. 70", 0),
        ("70", 0),
        ("The answer is B", 0),
        ("A", 0),
        ("E", 0),
    ],
)
def test_official_accepts_only_a_bare_option_letter(pred: str, score: int) -> None:
    assert SCORER.official(pred, ANGLE)[0] == float(score)


@pytest.mark.parametrize(
    "response",
    [
        "B. 70",
        "70",
        "70°",
        "The answer is B",
        "angle C = 180 - 50 - 60 = 70",
        "\\boxed{70}",
        "The angles of a triangle sum to 180 degrees, so angle C is 180 - 110.\nAnswer: B",
    ],
)
def test_robust_rescues_realistic_outputs(response: str) -> None:
    scored = SCORER.score(response, ANGLE, EXTRACTOR)
    assert (scored.official, scored.robust) == (0.0, 1.0), scored


def test_robust_does_not_read_a_digit_inside_another_number() -> None:
    """Option "5" (id 103's AC) is not given by "2.5" or "15"; the math rule reads "x = 5.0"."""
    length = SAMPLES[2]
    assert SCORER.score("AC = 2.5", length, EXTRACTOR).robust == 0.0
    assert SCORER.score("AC = 15", length, EXTRACTOR).robust == 0.0
    assert SCORER.score("AC = 5.0", length, EXTRACTOR).robust == 1.0


def test_breakdown_by_subtype() -> None:
    scores = [SCORER.score(s.answer_letter, s, EXTRACTOR) for s in SAMPLES[:2]]
    scores.append(SCORER.score("D", SAMPLES[2], EXTRACTOR))
    metrics = aggregate(SCORER, SAMPLES, scores, ["meta.subtype"])
    assert metrics["breakdowns"]["subtype"] == {
        "angle": {"n": 1, "official": 1.0, "robust": 1.0},
        "length": {"n": 2, "official": 0.5, "robust": 0.5},
    }
