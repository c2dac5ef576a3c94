"""`score_foreign` / `vlmbench score --from`: a harness's file scored both ways - its extraction under
`extracted` semantics, its raw responses under vlmbench's conventions - with the samples whose verdicts
differ. Files are MathVista results entries for shared pids; responses invented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import shared_data_dir
from typer.testing import CliRunner

from vlmbench.cli import app
from vlmbench.importers import FORMATS, ForeignFileError, score_foreign
from vlmbench.importers.compare import READINGS

SHARED = shared_data_dir()
TASK = "mathvista_testmini"


def results_file(path: Path) -> Path:
    """pid 4 (integer 4), pid 5 (choices 97/102/107/122, gold 97), pid 24 (yes/no, gold no)."""
    entries = {
        # the authors' GPT extraction read the sentence; without a judge the official path reads ""
        "4": {"pid": "4", "response": "There are 4 objects left.", "extraction": "4", "true_false": True},
        # an out-of-range letter: calculate_score takes the nearest option by Levenshtein ("97": right)
        "5": {"pid": "5", "response": "(E) 137", "extraction": "E", "true_false": True},
        # a bare letter: every reading agrees
        "24": {"pid": "24", "response": "B", "extraction": "B", "true_false": True},
    }
    path.write_text(json.dumps(entries, indent=2))
    return path


def test_every_format_has_a_reader() -> None:
    assert set(FORMATS) == {"mathvista", "lmms-eval", "vlmevalkit", "lm-eval"}


def test_each_sample_gets_every_reading_and_rows_differ_only_where_verdicts_do(tmp_path: Path) -> None:
    report = score_foreign(TASK, results_file(tmp_path / "o.json"), "mathvista", data=SHARED)
    rows = {r.id: r for r in report.rows}
    assert list(rows["4"].readings) == list(READINGS)
    four = rows["4"].readings
    assert (four["theirs"].verdict, four["extracted"].verdict, four["official"].verdict) == (1.0, 1.0, 0.0)
    assert four["robust"] == four["robust"].__class__("4", 1.0)
    five = rows["5"].readings
    assert (five["extracted"].read, five["official"].read, five["robust"].verdict) == ("97", "97", 0.0)
    assert [r.id for r in report.differing()] == ["4", "5"]
    assert not rows["24"].differs
    assert report.n_missing == len(report.rows) - 3 and not rows["1"].differs  # missing: never "differs"


def test_scores_and_agreement_with_the_stored_verdicts(tmp_path: Path) -> None:
    report = score_foreign(TASK, results_file(tmp_path / "o.json"), "mathvista", data=SHARED)
    n = len(report.rows)
    scores = report.scores()
    assert scores["theirs"] == pytest.approx(3 / n) and scores["extracted"] == pytest.approx(3 / n)
    assert scores["official"] == pytest.approx(2 / n) and scores["robust"] == pytest.approx(2 / n)
    assert report.agreement() == {
        "theirs": None,
        "extracted": (3, 3),
        "official": (2, 3),
        "robust": (2, 3),
        "judge": None,  # no --judge: no judged verdict
    }
    assert scores["judge"] is None


def test_json_names_each_readings_semantics(tmp_path: Path) -> None:
    payload = score_foreign(TASK, results_file(tmp_path / "o.json"), "mathvista", data=SHARED).to_json()
    semantics = {name: r["semantics"] for name, r in payload["readings"].items()}
    assert semantics == {
        "theirs": "mathvista",
        "extracted": "extracted",
        "official": "response",
        "robust": "response",
        "judge": "none",
    }
    assert payload["n_matched"] == 3 and payload["n_differ"] == 2
    assert set(payload["metrics"]) == {"response", "extracted"}
    json.dumps(payload)  # serialisable as is


def test_a_file_without_extractions_has_no_extracted_reading(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"4": {"pid": "4", "response": "4"}}))
    report = score_foreign(TASK, path, "mathvista", data=SHARED)
    assert report.metrics["extracted"] is None and report.scores()["extracted"] is None
    row = next(r for r in report.rows if r.id == "4")
    assert row.readings["extracted"].verdict is None and row.readings["official"].verdict == 1.0


def test_cli_prints_the_scores_and_the_differing_samples(tmp_path: Path) -> None:
    path = results_file(tmp_path / "o.json")
    args = ["score", str(path), "--from", "mathvista", "--task", TASK, "--data", str(SHARED)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "samples whose verdicts differ: 2 of 3" in result.output
    assert "agrees with theirs" in result.output and "2/3" in result.output
    as_json = CliRunner().invoke(app, [*args, "--json"])
    assert json.loads(as_json.output)["n_differ"] == 2


def test_cli_bad_input_exits_2_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"999": {"pid": "999", "response": "3"}}))
    args = ["score", str(path), "--from", "mathvista", "--task", TASK, "--data", str(SHARED)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "id '999' is not a sample of the task" in result.output
    skipped = CliRunner().invoke(app, [*args, "--skip-unknown", "--json"])
    assert skipped.exit_code == 0 and json.loads(skipped.output)["unknown_ids"] == ["999"]
    unknown = CliRunner().invoke(app, ["score", str(path), "--from", "helm", "--task", TASK])  # no --data:
    # the format is checked before any data is loaded
    assert unknown.exit_code == 2 and "unknown format 'helm'" in unknown.output
    no_task = CliRunner().invoke(app, ["score", str(path), "--from", "mathvista"])
    assert no_task.exit_code == 2 and "--task" in no_task.output


def test_the_library_raises_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text("{")
    with pytest.raises(ForeignFileError, match=r"o\.json:1: malformed JSON"):
        score_foreign(TASK, path, "mathvista", data=SHARED)


def test_with_a_judge_the_raw_responses_get_the_reference_pipelines_reading(tmp_path) -> None:
    """A scripted judge that extracts "4" from whatever it is shown. None of the three responses is read
    by the reference's rules (pid 24's "B" is not one of its choices Yes/No), so all three are judged,
    and "4" goes through the official normalisation: integer 4 for pid 4, the nearest option for the
    others (97 and No: the gold ones, as in the authors' verdicts)."""
    from servers import start_fake_openai, stop

    from vlmbench.judge import Judge, JudgeCache, JudgeTarget

    process, url = start_fake_openai(tmp_path, "--answer", "4")
    try:
        judge = Judge(JudgeTarget("scripted", url), cache=JudgeCache(tmp_path / "j.sqlite", enabled=True))
        report = score_foreign(TASK, results_file(tmp_path / "o.json"), "mathvista", data=SHARED, judge=judge)
    finally:
        stop(process)
    rows = {r.id: r.readings["judge"] for r in report.rows if not r.missing}
    assert {i: (r.read, r.verdict) for i, r in rows.items()} == {
        "4": ("4", 1.0),
        "5": ("4", 1.0),
        "24": ("4", 1.0),
    }
    assert report.agreement()["judge"] == (3, 3)
    assert report.judge["label"] == "official+judge:scripted" and report.judge["n_judged"] == 3
    assert report.to_json()["readings"]["judge"]["semantics"] == "official+judge:scripted"
