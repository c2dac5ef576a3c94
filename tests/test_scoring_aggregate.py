"""From per-sample scores to task metrics (vlmbench.scoring.aggregate; anchors-evaluation.md §5).

The metrics object carries both conventions, the unparsed rate users ask for (§3 items 3 and 9), and
breakdowns; list-valued fields such as MathVista's `skills` count a sample once per value, as
MathVista's `calculate_score.py` does. A sample without a prediction is wrong under every convention.
"""

from __future__ import annotations

import pytest

from vlmbench.errors import VlmbenchError
from vlmbench.extract import get_extractor
from vlmbench.schema import Sample
from vlmbench.scoring import SCORERS, aggregate, breakdown, get_scorer

CHOICE = get_extractor("choice")
SCORER = get_scorer("scienceqa")


def mc(i: int, **meta) -> Sample:
    return Sample(
        id=str(i),
        question="q",
        answer="dog",
        answer_type="multiple_choice",
        choices=["cat", "dog", "fish"],
        meta=meta,
    )


def test_get_scorer_knows_the_nine_benchmarks() -> None:
    names = {"mathvista", "chartqa", "scienceqa", "ai2d", "geometry3k", "unigeo", "gqa", "nlvr2", "vcr"}
    assert set(SCORERS) == names
    for name in names:
        scorer = get_scorer(name)
        assert scorer.id == name
        assert scorer.describe()["official"]
    with pytest.raises(VlmbenchError, match="unknown scorer"):
        get_scorer("vcr_wiki_en")  # Visual Caption Restoration is not VCR (anchors §0)


def test_headline_unparsed_and_ambiguous_rates() -> None:
    samples = [mc(i) for i in range(5)]
    responses = ["B", "The answer is B.", "A or B", "no idea", "C"]
    scores = [SCORER.score(r, s, CHOICE) for r, s in zip(responses, samples, strict=True)]
    metrics = aggregate(SCORER, samples, scores)
    assert metrics["official"] == pytest.approx(1 / 5)  # only "B"
    assert metrics["robust"] == pytest.approx(2 / 5)  # "B" and "The answer is B."
    assert metrics["unparsed_rate"] == pytest.approx(2 / 5)  # ambiguous + no answer
    assert metrics["ambiguous_rate"] == pytest.approx(1 / 5)


def test_missing_predictions_are_scored_wrong_and_flagged() -> None:
    samples = [mc(i) for i in range(4)]
    scores = [SCORER.score("B", samples[0], CHOICE), SCORER.score("B", samples[1], CHOICE)]
    scores += [SCORER.missing(s) for s in samples[2:]]
    assert [s.missing for s in scores] == [False, False, True, True]
    assert scores[2].to_dict()["method"] == "missing_prediction"
    metrics = aggregate(SCORER, samples, scores)
    assert (metrics["official"], metrics["robust"], metrics["unparsed_rate"]) == (0.5, 0.5, 0.5)


def test_list_valued_breakdown_field_counts_each_value() -> None:
    samples = [
        mc(0, metadata={"skills": ["arithmetic reasoning", "statistical reasoning"]}),
        mc(1, metadata={"skills": ["arithmetic reasoning"]}),
        mc(2, metadata={"skills": []}),
        mc(3),
    ]
    scores = [SCORER.score(r, s, CHOICE) for r, s in zip(["B", "A", "B", "B"], samples, strict=True)]
    metrics = aggregate(SCORER, samples, scores, ["meta.metadata.skills"])
    assert metrics["breakdowns"]["metadata.skills"] == {
        "arithmetic reasoning": {"n": 2, "official": 0.5, "robust": 0.5},
        "statistical reasoning": {"n": 1, "official": 1.0, "robust": 1.0},
    }


def test_breakdown_by_a_sample_attribute_uses_plain_values() -> None:
    samples = [mc(0), Sample(id="n", question="q", answer="3", answer_type="integer")]
    scores = [SCORER.missing(s) for s in samples]
    assert set(breakdown(samples, scores, "answer_type")) == {"multiple_choice", "integer"}


def test_breakdown_skips_samples_without_the_field_and_drops_empty_breakdowns() -> None:
    samples = [mc(0, subject="natural science"), mc(1, subject=""), mc(2)]
    scores = [SCORER.score("B", s, CHOICE) for s in samples]
    metrics = aggregate(SCORER, samples, scores, ["meta.subject", "meta.grade"])
    assert metrics["breakdowns"] == {"subject": {"natural science": {"n": 1, "official": 1.0, "robust": 1.0}}}


def test_official_and_robust_breakdowns_stay_apart() -> None:
    samples = [mc(0, grade="grade1"), mc(1, grade="grade1")]
    scores = [SCORER.score(r, s, CHOICE) for r, s in zip(["B", "(B)"], samples, strict=True)]
    grade = aggregate(SCORER, samples, scores, ["meta.grade"])["breakdowns"]["grade"]["grade1"]
    assert (grade["official"], grade["robust"]) == (0.5, 1.0)


def test_empty_task_aggregates_to_zero() -> None:
    metrics = aggregate(SCORER, [], [])
    assert (metrics["official"], metrics["robust"], metrics["unparsed_rate"]) == (0.0, 0.0, 0.0)


def test_sample_score_records_what_each_convention_read() -> None:
    scored = SCORER.score("The answer is B.", mc(0), CHOICE)
    assert scored.to_dict() == {
        "id": "0",
        "official": 0.0,
        "robust": 1.0,
        "extracted": "B",
        "status": "ok",
        "method": "answer_line:letter",
        "official_extracted": "The answer is B.",
        "missing": False,
        "extra": {},
    }


def _loop_breakdown(samples: list[Sample], scores: list, field: str) -> dict:
    """The per-sample loop `breakdown` replaced, kept as the reference its column path must match."""
    sums: dict[str, list[float]] = {}
    for sample, score in zip(samples, scores, strict=True):
        node = sample.meta if field.startswith("meta.") else getattr(sample, field, None)
        for part in field.removeprefix("meta.").split(".") if field.startswith("meta.") else ():
            node = node.get(part) if isinstance(node, dict) else None
        if node is None or node == "":
            continue
        for item in node if isinstance(node, (list, tuple)) else (node,):
            label = item if type(item) is str else str(getattr(item, "value", item))
            acc = sums.setdefault(label, [0, 0.0, 0.0])
            acc[0] += 1
            acc[1] += score.official
            acc[2] += score.robust
    return {k: {"n": n, "official": o / n, "robust": r / n} for k, (n, o, r) in sorted(sums.items())}


def test_column_breakdown_matches_the_per_sample_loop_on_mixed_fields() -> None:
    metas = [
        {"a": "x", "b": {"c": "p"}, "skills": ["s1", "s2"]},
        {"a": "y", "b": {"c": ""}, "skills": ("s2",)},
        {"a": "", "b": "not a dict", "skills": []},
        {"a": None, "b": {"c": 3}, "skills": None},
        {"a": "x", "b": {}, "skills": ["s1", 7]},
        {"a": 2, "skills": "one"},
    ]
    samples = [mc(i, **m) for i, m in enumerate(metas)]
    samples.append(Sample(id="n", question="q", answer="3", answer_type="integer", meta="odd"))  # type: ignore[arg-type]
    responses = ["B", "(B)", "A", "nothing", "The answer is B", "B.", "3"]
    scores = [SCORER.score(r, s, CHOICE) for r, s in zip(responses, samples, strict=True)]
    fields = ["meta.a", "meta.b.c", "meta.skills", "meta.missing", "meta.b", "answer_type", "meta."]
    for field in fields:
        assert breakdown(samples, scores, field) == _loop_breakdown(samples, scores, field), field
    metrics = aggregate(SCORER, samples, scores, fields)
    expected = {f.removeprefix("meta."): _loop_breakdown(samples, scores, f) for f in fields}
    assert metrics["breakdowns"] == {k: v for k, v in expected.items() if v}


def test_breakdown_refuses_samples_and_scores_of_different_lengths() -> None:
    samples = [mc(0, grade="g"), mc(1, grade="g")]
    with pytest.raises(ValueError):
        breakdown(samples, [SCORER.missing(samples[0])], "meta.grade")
