"""`--judge` on the command line: `vlmbench score` (predictions, run folders) and `vlmbench eval`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import shared_data_dir
from servers import start_fake_openai, stop
from typer.testing import CliRunner

from vlmbench.cli import app

TASK = "mathvista_testmini"
SHARED = shared_data_dir()


@pytest.fixture
def judge_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VLMBENCH_CACHE", str(tmp_path / "cache"))
    process, url = start_fake_openai(tmp_path, "--answer", "1000", "--models", "fake-vlm")
    yield url
    stop(process)


def test_score_predictions_with_a_judge_adds_its_column(judge_url: str, tmp_path: Path) -> None:
    predictions = tmp_path / "preds.jsonl"
    lines = [{"id": "2", "prediction": "The cup holds a litre."}, {"id": "4", "prediction": "4"}]
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["score", "--task", TASK, "--data", str(SHARED), "--predictions", str(predictions)]
    args += ["--output", str(tmp_path / "scores.jsonl"), "--judge", f"openai:scripted@{judge_url}"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    by_id = {s["id"]: s for s in payload["samples"]}
    assert (by_id["2"]["judge"]["extracted"], by_id["2"]["judge"]["score"]) == ("1000", 1.0)  # judge read it
    assert by_id["2"]["official"] == 0.0  # the rule-based column read "" from the sentence
    assert by_id["4"]["judge"]["via"] == "rule"  # int("4"): the reference never asks its judge
    assert payload["judge"]["label"] == "official+judge:scripted"
    assert payload["judge"]["n_failed"] == 38  # the 38 items without a prediction: no response
    table = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert "official+judge:scripted" in table.output


def test_score_refuses_a_judge_for_tasks_without_a_reference_extractor(
    judge_url: str, tmp_path: Path
) -> None:
    predictions = tmp_path / "p.jsonl"
    predictions.write_text('{"id": "x", "prediction": "1"}\n')
    args = ["score", "--task", "chartqa", "--data", str(SHARED), "--predictions", str(predictions)]
    result = CliRunner().invoke(app, [*args, "--judge", f"openai:j@{judge_url}"])
    assert result.exit_code == 2 and "mathvista_testmini" in result.output
    malformed = CliRunner().invoke(app, [*args, "--judge", "gpt-4o"])
    assert malformed.exit_code == 2 and "openai:MODEL@BASE_URL" in malformed.output


def test_a_run_is_judged_on_rescoring_without_writing_to_it(judge_url: str, tmp_path: Path) -> None:
    base = ["eval", "--backend", "openai", "--model", "fake-vlm", "--model-args", f"base_url={judge_url}"]
    base += ["--tasks", TASK, "--data-dir", str(SHARED), "--output-dir", str(tmp_path / "runs")]
    evaluated = CliRunner().invoke(app, base, env={"COLUMNS": "200"})
    assert evaluated.exit_code == 0, evaluated.output
    (run_dir,) = (tmp_path / "runs").iterdir()
    before = {p.name: p.read_bytes() for p in [run_dir / "run.json", run_dir / "samples" / f"{TASK}.jsonl"]}
    result = CliRunner().invoke(
        app, ["score", str(run_dir), "--judge", f"openai:scripted@{judge_url}", "--json"]
    )
    assert result.exit_code == 0, result.output
    (task,) = json.loads(result.output)["tasks"]
    judged = task["recomputed"]["judge"]
    # the model answered "1000" everywhere: int()/float() items are read by rule, the rest by the judge
    assert judged["label"] == "official+judge:scripted" and judged["n_failed"] == 0
    assert judged["n_rule"] > 0 and judged["n_judged"] > 0 and judged["n_rule"] + judged["n_judged"] == 40
    assert {
        p.name: p.read_bytes() for p in [run_dir / "run.json", run_dir / "samples" / f"{TASK}.jsonl"]
    } == before
    judged_eval = CliRunner().invoke(
        app, [*base, "--judge", f"openai:scripted@{judge_url}"], env={"COLUMNS": "250"}
    )
    assert judged_eval.exit_code == 0, judged_eval.output
    assert "official+judge:scripted" in judged_eval.output
    assert "judging 40 recorded samples" in judged_eval.output.replace("\n", " ")
