"""Rescoring a predictions file: missing predictions are wrong and counted, never dropped; truncation
and unknown ids are honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import shared_data_dir

from vlmbench.errors import PredictionsError
from vlmbench.predictions import read_predictions
from vlmbench.rescore import score_predictions

SHARED = shared_data_dir()


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_missing_predictions_are_scored_wrong_and_counted(tmp_path):
    preds = _write(tmp_path / "p.jsonl", [{"id": "00126851", "prediction": "yes"}])
    report = score_predictions("gqa_testdev_balanced", preds, data=SHARED)
    assert len(report.scores) == 3 and report.n_missing == 2
    assert report.metrics["official"] == pytest.approx(1 / 3)
    missing = [s for s in report.scores if s.missing]
    assert all(s.official == 0.0 and s.robust == 0.0 and s.method == "missing_prediction" for s in missing)
    assert report.metrics["unparsed_rate"] == pytest.approx(2 / 3)


def test_truncated_generation_without_answer_marker_is_not_read_as_an_answer(tmp_path):
    chain = "The first bar is 14 and the second"  # cut off by the token limit mid-chain
    preds = _write(
        tmp_path / "p.jsonl",
        [
            {"id": "test_human/0", "prediction": chain, "finish_reason": "length"},
            {"id": "test_human/4", "prediction": chain.replace("14", "23")},
        ],
    )
    report = score_predictions("chartqa", preds, data=SHARED)
    by_id = {s.id: s for s in report.scores}
    assert by_id["test_human/0"].status == "no_answer" and by_id["test_human/0"].robust == 0.0
    assert by_id["test_human/4"].status == "ok"  # not flagged truncated: the last number is read


def test_unknown_prediction_ids_are_reported_not_scored(tmp_path):
    preds = _write(tmp_path / "p.jsonl", [{"id": "zzz", "prediction": "B"}])
    report = score_predictions("geometry3k", preds, data=SHARED)
    assert report.unknown_ids == ["zzz"]
    assert report.n_missing == 5 and report.to_json()["n_unknown"] == 1


def test_limit_scores_only_the_first_items(tmp_path):
    preds = _write(tmp_path / "p.jsonl", [])
    report = score_predictions("scienceqa_img", preds, data=SHARED, limit=7)
    assert len(report.scores) == 7 and report.n_missing == 7


def test_null_prediction_counts_as_empty_text(tmp_path):
    preds = _write(tmp_path / "p.jsonl", [{"id": "a", "prediction": None}])
    assert read_predictions(preds)["a"].text == ""


def test_non_string_prediction_is_an_error(tmp_path):
    preds = _write(tmp_path / "p.jsonl", [{"id": "a", "prediction": 3}])
    with pytest.raises(PredictionsError, match=r"p\.jsonl:1: field 'prediction' must be a string"):
        read_predictions(preds)


def test_missing_predictions_file_is_an_error(tmp_path):
    with pytest.raises(PredictionsError, match="file not found"):
        read_predictions(tmp_path / "nope.jsonl")
