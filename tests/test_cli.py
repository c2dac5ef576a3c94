"""The `vlmbench` command: tasks table, task details, and `score` with its JSON contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from realdata import shared_data_dir
from typer.testing import CliRunner

from vlmbench.cli import app

SHARED = shared_data_dir()
runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Commands that write beside the current directory (score's `scores/`) write into the test's."""
    monkeypatch.chdir(tmp_path)


def _run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _gold_predictions(path: Path, benchmark: str, letters: bool = True) -> Path:
    out = path / f"{benchmark}.jsonl"
    with out.open("w") as handle:
        for line in (SHARED / benchmark / "items.jsonl").read_text().splitlines():
            item = json.loads(line)
            pred = item["answer"]
            if letters and item["choices"]:
                pred = "ABCDE"[item["choices"].index(pred)]
            handle.write(json.dumps({"id": item["id"], "prediction": pred}) + "\n")
    return out


def test_tasks_lists_the_nine_tasks_with_version_size_source_and_metric():
    result = _run("tasks")
    assert result.exit_code == 0, result.output
    for name in ("mathvista_testmini", "geometry3k", "unigeo", "scienceqa_img", "ai2d", "chartqa", "vcr"):
        assert name in result.output
    assert "nlvr2" in result.output and "gqa_testdev_balanced" in result.output
    assert "/ChartQA:test" in result.output and "relaxed_accuracy" in result.output


def test_tasks_show_prints_prompts_conventions_and_citation():
    result = _run("tasks", "show", "chartqa")
    assert result.exit_code == 0, result.output
    assert "pix2struct" in result.output
    assert "prompt: cot" in result.output
    assert "masry-etal-2022-chartqa" in result.output


def test_unknown_task_exits_2_with_did_you_mean():
    result = _run("tasks", "show", "sciencqa_img")
    assert result.exit_code == 2
    assert "did you mean 'scienceqa_img'" in result.output


@pytest.mark.parametrize(
    ("task", "benchmark"),
    [
        ("chartqa", "chartqa"),
        ("mathvista_testmini", "mathvista"),
        ("scienceqa_img", "scienceqa"),
        ("geometry3k", "geometry3k"),
        ("gqa_testdev_balanced", "gqa"),
    ],
)
def test_gold_answers_score_100_percent_through_the_cli(tmp_path, task, benchmark):
    preds = _gold_predictions(tmp_path, benchmark)
    result = _run("score", "--task", task, "--data", str(SHARED), "--predictions", str(preds), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["metrics"]["official"] == 1.0
    assert report["metrics"]["robust"] == 1.0
    assert report["metrics"]["unparsed_rate"] == 0.0
    assert report["n_missing"] == 0


def test_score_json_follows_the_documented_contract(tmp_path):
    preds = tmp_path / "p.jsonl"
    preds.write_text(
        json.dumps({"id": "test_human/0", "prediction": "14"})
        + "\n"
        + json.dumps({"id": "test_human/1", "prediction": "The answer is 0.57."})
        + "\n"
        + json.dumps({"id": "not-a-chartqa-id", "prediction": "3"})
        + "\n"
    )
    result = _run("score", "-t", "chartqa", "-d", str(SHARED / "chartqa"), "-p", str(preds), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"task", "version", "n", "n_missing", "metrics", "samples"} <= set(report)
    assert report["task"] == "chartqa" and report["n"] == 40 and report["n_missing"] == 38
    assert report["unknown_ids"] == ["not-a-chartqa-id"]
    metrics = report["metrics"]
    assert {"official", "robust", "unparsed_rate", "breakdowns"} <= set(metrics)
    assert metrics["official"] == pytest.approx(1 / 40)  # "The answer is 0.57." fails pix2struct
    assert metrics["robust"] == pytest.approx(2 / 40)
    assert set(metrics["breakdowns"]["split"]) == {"human", "augmented"}
    first = report["samples"][0]
    assert {"id", "official", "robust", "extracted", "status"} <= set(first)
    assert all(0.0 <= s["official"] <= 1.0 and 0.0 <= s["robust"] <= 1.0 for s in report["samples"])
    assert not (tmp_path / "p.scores.jsonl").exists()  # never beside the input (it may be tracked)
    written = (tmp_path / "scores" / "p.scores.jsonl").read_text().splitlines()
    assert len(written) == 40 and json.loads(written[0])["id"] == "test_human/0"


def test_score_table_output_shows_headline_and_breakdowns(tmp_path):
    preds = _gold_predictions(tmp_path, "scienceqa")
    result = _run(
        "score", "-t", "scienceqa_img", "-d", str(SHARED), "-p", str(preds), "-o", str(tmp_path / "s.jsonl")
    )
    assert result.exit_code == 0, result.output
    assert "official [95% CI]" in result.output
    assert re.search(r"100\.0 \[\d+\.\d, 100\.0\]", result.output)  # all right: the interval is below 100
    assert (tmp_path / "s.jsonl").is_file()


def test_vcr_scores_report_q2a_qa2r_and_q2ar(tmp_path):
    preds = tmp_path / "vcr.jsonl"
    preds.write_text(
        json.dumps({"id": "val-1:q2a", "prediction": "C"})
        + "\n"
        + json.dumps({"id": "val-1:qa2r", "prediction": "A"})
        + "\n"
    )
    result = _run("score", "-t", "vcr", "-d", str(SHARED), "-p", str(preds), "--json")
    report = json.loads(result.stdout)
    assert report["metrics"]["q2a"] == 1.0 and report["metrics"]["qa2r"] == 0.0
    assert report["metrics"]["q2ar"] == 0.0 and report["metrics"]["official"] == 0.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "test_human/0", "prediction": "14"}\n{"id": oops}\n', r"p\.jsonl:2: malformed JSON"),
        ('{"id": "test_human/0"}\n', r"p\.jsonl:1: missing field 'prediction'"),
        (
            '{"id": "a", "prediction": "1"}\n{"id": "a", "prediction": "2"}\n',
            r"p\.jsonl:2: duplicate id 'a' \(first on line 1\)",
        ),
    ],
)
def test_bad_predictions_exit_2_naming_file_and_line(tmp_path, content, message):
    preds = tmp_path / "p.jsonl"
    preds.write_text(content)
    result = _run("score", "-t", "chartqa", "-d", str(SHARED), "-p", str(preds))
    assert result.exit_code == 2
    assert re.search(message, result.output.replace("\n", "")), result.output


def test_scoring_needs_no_image_files(tmp_path):
    """Scoring reads answers only: a data folder without its images still scores."""
    item = json.loads((SHARED / "gqa" / "items.jsonl").read_text().splitlines()[0])
    (tmp_path / "items.jsonl").write_text(json.dumps(item) + "\n")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": item["id"], "prediction": item["answer"]}) + "\n")
    result = _run("score", "-t", "gqa_testdev_balanced", "-d", str(tmp_path), "-p", str(preds), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"]["official"] == 1.0


def test_version_flag():
    result = _run("--version")
    assert result.exit_code == 0 and result.output.startswith("vlmbench ")


def test_synth_export_then_score_the_exported_items(tmp_path):
    out = tmp_path / "chart"
    result = _run(
        "synth", "export", "--task", "synth_chart", "--n", "6", "--difficulty", "2", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "wrote 6 items" in result.output
    items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    assert all(item["meta"]["difficulty"] == 2 and (out / item["image"]).is_file() for item in items)
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": i["id"], "prediction": i["answer"]}) + "\n" for i in items))
    from_export = _run("score", "-t", "synth_chart", "-d", str(out), "-p", str(preds), "--json")
    generated = _run(
        "score", "-t", "synth_chart", "--n", "6", "--difficulty", "2", "-p", str(preds), "--json"
    )
    for result in (from_export, generated):
        report = json.loads(result.stdout)
        assert report["n"] == 6 and report["n_missing"] == 0 and report["metrics"]["official"] == 1.0


def test_synth_export_rejects_bad_requests(tmp_path):
    bad_difficulty = _run(
        "synth", "export", "-t", "synth_chart", "--difficulty", "5", "-o", str(tmp_path / "a")
    )
    assert bad_difficulty.exit_code == 2 and "unknown difficulty 5" in bad_difficulty.output
    bad_n = _run("synth", "export", "-t", "synth_chart", "--n", "0", "-o", str(tmp_path / "b"))
    assert bad_n.exit_code == 2 and "n must be a positive integer" in bad_n.output


def test_eval_runs_records_and_resumes_in_the_same_folder(tmp_path):
    args = [
        "eval",
        "--tasks",
        "synth_geometry",
        "--n",
        "20",
        "--output-dir",
        str(tmp_path),
        "--model",
        "first-choice",
    ]
    first = _run(*args)
    assert first.exit_code == 0, first.output
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1 and (runs[0] / "run.json").is_file()
    record = json.loads((runs[0] / "run.json").read_text())
    assert record["status"] == "done" and record["tasks"]["synth_geometry"]["n"] == 20
    assert "synth_geometry" in first.output and "run record:" in first.output
    again = _run(*args)
    assert again.exit_code == 0 and list(tmp_path.iterdir()) == runs
    lines = (runs[0] / "samples" / "synth_geometry.jsonl").read_text().splitlines()
    assert len(lines) == 20


def test_eval_num_processes_below_one_is_refused_before_anything_runs(tmp_path):
    result = _run("eval", "--model", "random", "--num-processes", "0", "--output-dir", str(tmp_path / "runs"))
    assert result.exit_code == 2 and "--num-processes must be at least 1, got 0" in result.output
    assert not (tmp_path / "runs").exists()


def test_eval_num_processes_1_runs_in_this_process(tmp_path):
    result = _run(
        "eval", "--model", "random", "--tasks", "synth_scene", "--n", "3", "--num-processes", "1",
        "--output-dir", str(tmp_path / "runs"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(next((tmp_path / "runs").glob("*/run.json")).read_text())
    assert record["config"]["num_processes"] == 1


def test_eval_reads_a_run_config_and_the_cli_overrides_it(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("tasks: synth_scene\nmodel: majority\nsynth: {n: 7}\nbatch-size: 3\n")
    result = _run(
        "eval", "--config", str(config), "--model", "random", "--output-dir", str(tmp_path / "runs")
    )
    assert result.exit_code == 0, result.output
    record = json.loads(next((tmp_path / "runs").glob("*/run.json")).read_text())
    assert record["model"]["name"] == "random" and record["config"]["batch_size"] == 3
    assert record["tasks"]["synth_scene"]["n"] == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model-args", "dtype"], "expected key=value"),
        (["--backend", "nope"], "unknown backend 'nope'"),
        (["--tasks", "chartqa_tset"], "did you mean 'chartqa'"),
        (["--batch-size", "0"], "batch size must be positive"),
        (["--image-ablation", "noise"], "unknown image ablation 'noise'"),
    ],
)
def test_eval_bad_options_exit_2_with_a_clear_message(tmp_path, args, message):
    result = _run("eval", "--output-dir", str(tmp_path), "--n", "3", *args)
    assert result.exit_code == 2
    assert message in result.output.replace("\n", "")


def test_eval_image_ablation_records_a_blank_image_run_beside_the_normal_one(tmp_path):
    args = [
        "eval",
        "--model",
        "majority",
        "--tasks",
        "synth_scene",
        "--n",
        "6",
        "--output-dir",
        str(tmp_path),
    ]
    assert _run(*args).exit_code == 0
    result = _run(*args, "--image-ablation", "blank")
    assert result.exit_code == 0, result.output
    assert "images ablated (blank)" in result.output.replace("\n", " ")
    records = [json.loads(p.read_text()) for p in tmp_path.glob("*/run.json")]
    assert sorted(r["tasks"]["synth_scene"]["protocol"].get("image_ablation", "") for r in records) == [
        "",
        "blank",
    ]


def test_eval_n_samples_reports_pass_at_k_in_the_summary(tmp_path):
    args = [
        "eval",
        "--model",
        "random",
        "--tasks",
        "synth_geometry",
        "--n",
        "12",
        "--output-dir",
        str(tmp_path),
    ]
    result = _run(*args, "--n-samples", "4", "--temperature", "1.0")
    assert result.exit_code == 0, result.output
    assert "pass@4" in result.output and "pass@2" in result.output
    greedy = _run(*args, "--n-samples", "4")
    assert greedy.exit_code == 2 and "needs sampling" in greedy.output


# --- what a run's outcome looks like: intervals, statuses, exit codes ---------------------------------


def _eval_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["eval", "--model", "first-choice", "--tasks", "synth_geometry", "--n", "20",
            "--output-dir", str(tmp_path), *extra]  # fmt: skip


def test_eval_shows_each_score_with_its_interval_and_names_the_method(tmp_path):
    result = _run(*_eval_args(tmp_path))
    assert result.exit_code == 0, result.output
    record = json.loads(next(tmp_path.glob("*/run.json")).read_text())
    metrics = record["tasks"]["synth_geometry"]["metrics"]
    low, high = metrics["official_ci95"]
    shown = f"{100 * metrics['official']:.1f} [{100 * low:.1f}, {100 * high:.1f}]"
    assert shown in result.output and "official [95% CI]" in result.output
    assert "95% Wilson interval" in result.output and "±" not in result.output


def test_a_finished_rerun_says_everything_was_reused(tmp_path):
    assert _run(*_eval_args(tmp_path)).exit_code == 0
    again = _run(*_eval_args(tmp_path))
    assert again.exit_code == 0
    text = " ".join(again.output.split())
    assert "resuming run first-choice-baseline-" in text and ": 20/20 samples done" in text
    assert "0 new samples, all 20 reused" in text and "samples/s" not in text


def test_an_empty_task_selection_exits_2(tmp_path):
    result = _run("eval", "--model", "random", "--tasks", "", "--output-dir", str(tmp_path))
    assert result.exit_code == 2 and "no task selected" in result.output
    assert not list(tmp_path.iterdir())


def test_an_option_no_task_reads_exits_2_and_one_some_ignore_is_warned(tmp_path):
    fixed = _run("eval", "--model", "random", "--tasks", "chartqa", "--data-dir", str(SHARED), "--n", "5",
                 "--output-dir", str(tmp_path))  # fmt: skip
    assert fixed.exit_code == 2 and "--n applies to procedural tasks only" in fixed.output
    mixed = _run("eval", "--model", "random", "--tasks", "synth_scene,chartqa", "--data-dir", str(SHARED),
                 "--n", "5", "--output-dir", str(tmp_path))  # fmt: skip
    assert mixed.exit_code == 0, mixed.output
    assert "warning: --n applies to procedural tasks only: ignored by chartqa" in mixed.output


def test_a_server_that_never_answers_exits_with_the_failed_code(tmp_path):
    from servers import closed_port_url

    server = f"base_url={closed_port_url()},max_retries=0"
    result = _run("eval", "--backend", "openai", "--model", "fake", "--tasks", "synth_geometry", "--n", "5",
                  "--model-args", server, "--output-dir", str(tmp_path))  # fmt: skip
    assert result.exit_code == 4, result.output
    text = " ".join(result.output.split())
    assert "run failed: backend never answered: connection error" in text
    record = json.loads(next(tmp_path.glob("*/run.json")).read_text())
    assert record["status"] == "failed"

    added = _run("leaderboard", "add", str(tmp_path), "--store", str(tmp_path / "index.sqlite"))
    assert added.exit_code == 1, added.output
    said = " ".join(added.output.split())
    assert f"refused: run {record['run_id']}" in said and "failed: backend never answered" in said


def test_a_partial_run_exits_3_and_says_how_to_retry(tmp_path):
    from servers import start_fake_openai, stop

    process, url = start_fake_openai(tmp_path, "--fail-percent", "30")
    try:
        server = f"base_url={url},max_retries=0"
        args = ["eval", "--backend", "openai", "--model", "fake", "--tasks", "synth_geometry", "--n", "20",
                "--model-args", server, "--output-dir", str(tmp_path / "runs")]  # fmt: skip
        result = _run(*args)
    finally:
        stop(process)
    assert result.exit_code == 3, result.output
    text = " ".join(result.output.split())
    assert re.search(r"synth_geometry: \d+ of 20 samples failed \(HTTP 500: \d+\); counted as wrong", text)
    assert "rerun the same command to retry the failed samples" in text
    index = ["--store", str(tmp_path / "index.sqlite")]
    refused = _run("leaderboard", "add", str(tmp_path / "runs"), *index)
    assert refused.exit_code == 1 and "is partial" in " ".join(refused.output.split())
    allowed = _run("leaderboard", "add", str(tmp_path / "runs"), "--allow-partial", *index)
    assert allowed.exit_code == 0, allowed.output


def test_ctrl_c_exits_130_and_prints_the_command_that_resumes(tmp_path, monkeypatch):
    import test_runner

    monkeypatch.setitem(test_runner.models.BACKENDS, "echo", ("test_runner:EchoBackend", ""))
    monkeypatch.setattr(test_runner.EchoBackend, "calls", [])
    monkeypatch.setattr(test_runner.EchoBackend, "interrupt_after", 3)
    args = ["eval", "--backend", "echo", "--model", "echo-model", "--tasks", "synth_geometry", "--n", "8",
            "--batch-size", "1", "--output-dir", str(tmp_path)]  # fmt: skip
    monkeypatch.setattr("sys.argv", ["/usr/bin/vlmbench", *args])
    result = _run(*args)
    assert result.exit_code == 130, result.output
    text = " ".join(result.output.split())
    assert "interrupted in task synth_geometry at 3/8 samples" in text
    assert "resume with: vlmbench eval --backend echo --model echo-model" in text
    record = json.loads(next(tmp_path.glob("*/run.json")).read_text())
    assert record["status"] == "interrupted"


def test_a_run_config_that_is_not_utf8_exits_2_naming_file_and_line(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_bytes(b"tasks: synth_scene\nmodel: caf\xe9\n")
    result = _run("eval", "--config", str(config), "--output-dir", str(tmp_path / "runs"))
    assert result.exit_code == 2
    assert "run.yaml:2: not valid UTF-8 (byte 0xe9 at column 11)" in " ".join(result.output.split())
