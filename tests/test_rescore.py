"""Rescoring a predictions file: missing predictions are wrong and counted, never dropped; truncation
and unknown ids are honoured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import shared_data_dir

from vlmbench.errors import DataError, PredictionsError
from vlmbench.predictions import read_predictions
from vlmbench.rescore import rescore_run, score_predictions

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


# --- rescoring a run folder from its records alone ---------------------------------------------------


def _baseline_run(tmp_path: Path) -> Path:
    from vlmbench.runner import EvalConfig, evaluate

    config = EvalConfig(
        model="random",
        tasks="synth_geometry,chartqa",
        data_dir=shared_data_dir(),
        limit=12,
        output_dir=tmp_path,
    )
    root, _ = evaluate(config)
    return root


def test_a_run_rescored_from_its_samples_files_reproduces_its_record(tmp_path: Path) -> None:
    root = _baseline_run(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    results = rescore_run(root)
    assert [r.task for r in results] == ["synth_geometry", "chartqa"]
    for result in results:
        assert result.changed_ids == [] and result.version_note is None
        for key in ("n", "n_failed", "metrics", "quality", "tokens_in", "tokens_out", "truncation_rate"):
            assert result.recomputed[key] == result.stored[key], key
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before  # read only


def test_rescoring_a_run_uses_the_current_scorer_and_names_what_changed(tmp_path: Path) -> None:
    root = _baseline_run(tmp_path)
    path = root / "samples" / "chartqa.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    target = next(r for r in rows if r["official"] == 0.0)
    target["output"] = f"The answer is {target['gold']}"  # as if the model had answered it right
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (result,) = rescore_run(root, task="chartqa")
    assert result.changed_ids == [target["id"]]
    n = result.recomputed["n"]
    assert result.recomputed["metrics"]["robust"] == pytest.approx(result.stored["metrics"]["robust"] + 1 / n)


def test_rescoring_needs_a_run_folder_and_a_task_it_has(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a run directory"):
        rescore_run(tmp_path)
    root = _baseline_run(tmp_path / "runs")
    with pytest.raises(DataError, match="has no task 'gqa_testdev_balanced'"):
        rescore_run(root, task="gqa_testdev_balanced")


def test_cli_score_run_dir_prints_the_recomputed_table_and_json(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vlmbench.cli import app

    root = _baseline_run(tmp_path)
    table = CliRunner().invoke(app, ["score", str(root)])
    assert table.exit_code == 0, table.output
    assert "synth_geometry" in table.output and "chartqa" in table.output
    as_json = CliRunner().invoke(app, ["score", str(root), "--json"])
    payload = json.loads(as_json.output)
    assert [t["task"] for t in payload["tasks"]] == ["synth_geometry", "chartqa"]
    missing = CliRunner().invoke(app, ["score"])
    assert missing.exit_code == 2 and "--task and --predictions" in missing.output


# --- answers another harness already extracted (`--extracted`) ---------------------------------------

# The MathVista authors' own verdicts on their published outputs (lupantech/MathVista results/<model>/
# output_<model>.json): per line the model, file, commit, pid, the published `extraction` and the
# published `true_false`. No responses are kept.
PUBLISHED = Path(__file__).parent / "fixtures" / "mathvista_published_verdicts.jsonl"
FIXTURE_FIELDS = ["model", "source_file", "commit", "pid", "extraction", "true_false"]


def _published() -> list[dict]:
    return [json.loads(line) for line in PUBLISHED.read_text().splitlines() if line.strip()]


def test_the_published_verdicts_fixture_covers_four_models_and_only_the_allowed_fields() -> None:
    rows = _published()
    assert all(list(r) == FIXTURE_FIELDS for r in rows)
    assert len({r["model"] for r in rows}) >= 4
    assert {r["true_false"] for r in rows} == {True, False}


def test_extracted_semantics_reproduce_the_mathvista_authors_verdicts_sample_for_sample(tmp_path) -> None:
    disagreements = []
    models = sorted({r["model"] for r in _published()})
    for model in models:
        rows = [r for r in _published() if r["model"] == model]
        preds = _write(
            tmp_path / f"{model}.jsonl", [{"id": r["pid"], "prediction": r["extraction"]} for r in rows]
        )
        report = score_predictions("mathvista_testmini", preds, data=SHARED, extracted=True)
        assert report.semantics == "extracted" and report.n_missing == len(report.scores) - len(rows)
        by_id = {s.id: s for s in report.scores}
        for row in rows:
            verdict = by_id[row["pid"]].official == 1.0
            if verdict != row["true_false"]:
                disagreements.append((model, row["pid"], row["extraction"], row["true_false"]))
    assert disagreements == []


def test_extracted_semantics_never_re_extract(tmp_path) -> None:
    # pid 4 (integer answer 4): a sentence is a response, not an extraction - nothing reads the 4 out of it
    preds = _write(tmp_path / "p.jsonl", [{"id": "4", "prediction": "There are 4 objects left."}])
    extracted = score_predictions("mathvista_testmini", preds, data=SHARED, extracted=True)
    response = score_predictions("mathvista_testmini", preds, data=SHARED)
    first = {s.id: s for s in extracted.scores}["4"]
    assert (first.official, first.robust, first.status) == (0.0, 0.0, "no_answer")
    assert {s.id: s for s in response.scores}["4"].robust == 1.0  # the response path's extractor reads it


def test_cli_score_extracted_says_which_semantics_it_used(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from vlmbench.cli import app

    monkeypatch.chdir(tmp_path)  # per-sample scores go to ./scores/, never beside the input
    rows = [r for r in _published() if r["model"] == "bard"]
    preds = _write(tmp_path / "bard.jsonl", [{"id": r["pid"], "prediction": r["extraction"]} for r in rows])
    args = ["score", "--task", "mathvista_testmini", "--data", str(SHARED), "--predictions", str(preds)]
    result = CliRunner().invoke(app, [*args, "--extracted", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["semantics"] == "extracted"
    assert {s["semantics"] for s in payload["samples"]} == {"extracted"}
    assert payload["metrics"]["official"] == pytest.approx(sum(r["true_false"] for r in rows) / payload["n"])
    lines = (tmp_path / "scores" / "bard.scores.jsonl").read_text().splitlines()
    written = [json.loads(line) for line in lines]
    assert {row["semantics"] for row in written} == {"extracted"}
    default = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    assert default["semantics"] == "response"
