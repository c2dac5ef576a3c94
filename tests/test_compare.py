"""Paired comparison of two runs (`vlmbench.compare.compare_runs`, `vlmbench compare`)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from vlmbench.cli import app
from vlmbench.compare import compare_runs
from vlmbench.errors import VlmbenchError
from vlmbench.runner import EvalConfig, evaluate

TASKS = "synth_chart,synth_geometry"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs of the random baseline that differ only in their seed (both offline and fast)."""
    out = tmp_path_factory.mktemp("runs")
    roots = {}
    for seed in (0, 1):
        root, _ = evaluate(
            EvalConfig(model="random", backend="baseline", tasks=TASKS, seed=seed, output_dir=out)
        )
        roots[f"seed{seed}"] = root
    return roots


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def degraded_copy(root: Path, dest: Path, task: str, share: float = 0.3, seed: int = 0) -> set[str]:
    """A copy of a run whose answers are flipped (right <-> wrong) on `share` of the task's items."""
    shutil.copytree(root, dest)
    path = dest / "samples" / f"{task}.jsonl"
    rows = read_rows(path)
    flipped = set(random.Random(seed).sample([r["id"] for r in rows], round(share * len(rows))))
    for r in rows:
        if r["id"] in flipped:
            r["official"] = r["robust"] = 1.0 - r["official"]
            r["extracted"] = "flipped"
    write_rows(path, rows)
    return flipped


def test_two_seeds_of_the_same_model_are_not_significantly_different(runs: dict[str, Path]) -> None:
    result = compare_runs(runs["seed0"], runs["seed1"])
    assert [t.task for t in result.tasks] == ["synth_chart", "synth_geometry"]
    for task in result.tasks:
        assert task.n == 200 and task.test == "mcnemar_exact" and task.same_protocol is False  # seed differs
        assert task.protocol_fields == ["generation"] and task.ablated is None
        assert not task.significant, (task.task, task.p_value)
        assert task.ci95[0] <= 0.0 <= task.ci95[1]


def test_a_run_against_a_copy_with_30_percent_answers_flipped_is_significant(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    flipped = degraded_copy(runs["seed0"], tmp_path / "degraded", "synth_geometry")
    result = compare_runs(runs["seed0"], tmp_path / "degraded", task="synth_geometry")
    (task,) = result.tasks
    assert task.significant and task.p_value < 1e-3
    assert set(task.a_right_b_wrong) | set(task.a_wrong_b_right) == flipped  # exactly the flipped items
    assert task.same_protocol is True
    assert task.diff == pytest.approx(task.score_a - task.score_b)
    assert task.ci95[0] <= task.diff <= task.ci95[1] and not task.ci95[0] <= 0.0 <= task.ci95[1]


def test_p_values_agree_with_scipy_on_the_same_tables(runs: dict[str, Path], tmp_path: Path) -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    degraded_copy(runs["seed0"], tmp_path / "degraded", "synth_chart", share=0.1)
    for b_run in (runs["seed1"], tmp_path / "degraded"):
        for task in compare_runs(runs["seed0"], b_run).tasks:
            b, c = len(task.a_right_b_wrong), len(task.a_wrong_b_right)
            expected = 1.0 if b + c == 0 else scipy_stats.binomtest(b, b + c, 0.5).pvalue
            assert task.p_value == pytest.approx(expected, rel=1e-9)


def test_a_run_against_itself_is_identical(runs: dict[str, Path]) -> None:
    for task in compare_runs(runs["seed0"], runs["seed0"]).tasks:
        assert (task.diff, task.p_value, task.a_right_b_wrong, task.a_wrong_b_right) == (0.0, 1.0, [], [])
        assert task.paired["output_tokens"].diff == 0.0


def test_only_shared_sample_ids_are_paired(runs: dict[str, Path], tmp_path: Path) -> None:
    shutil.copytree(runs["seed1"], tmp_path / "partial")
    path = tmp_path / "partial" / "samples" / "synth_chart.jsonl"
    write_rows(path, read_rows(path)[:150])  # a run that stopped early
    (task,) = compare_runs(runs["seed0"], tmp_path / "partial", task="synth_chart").tasks
    assert (task.n, task.n_only_a, task.n_only_b) == (150, 50, 0)


def test_other_per_sample_metrics_get_a_paired_bootstrap(runs: dict[str, Path], tmp_path: Path) -> None:
    shutil.copytree(runs["seed0"], tmp_path / "longer")
    path = tmp_path / "longer" / "samples" / "synth_chart.jsonl"
    rows = read_rows(path)
    for r in rows:
        r["output"] = "We add the bars: 3 + 4 = 7. Wait, 3 + 5 = 8.\nAnswer: " + r["output"]
        r["n_output_tokens"] = 20
    write_rows(path, rows)
    (task,) = compare_runs(runs["seed0"], tmp_path / "longer", task="synth_chart").tasks
    tokens = task.paired["output_tokens"]
    assert (tokens.mean_a, tokens.mean_b, tokens.diff) == (1.0, 20.0, -19.0)
    assert tokens.p_value < 0.01
    assert task.paired["backtracks"].mean_b == 1.0
    assert "step_accuracy" not in task.paired  # paired only where both chains have a checkable claim
    assert "seconds" not in task.paired  # an untimed baseline
    assert task.p_value == 1.0  # the answers themselves did not change


def test_to_json_is_plain_json(runs: dict[str, Path]) -> None:
    data = json.loads(json.dumps(compare_runs(runs["seed0"], runs["seed1"]).to_json(), allow_nan=False))
    task = data["tasks"][0]
    assert {
        "task",
        "n",
        "diff",
        "ci95",
        "p_value",
        "test",
        "a_right_b_wrong",
        "a_wrong_b_right",
        "paired",
    } <= set(task)
    assert set(task["paired"]["output_tokens"]) == {"n", "mean_a", "mean_b", "diff", "ci95", "p_value"}


def test_a_missing_or_malformed_run_is_a_clear_error_naming_the_file(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(VlmbenchError, match="not a run directory"):
        compare_runs(tmp_path / "nowhere", runs["seed0"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(VlmbenchError, match=r"empty/run\.json: no run record"):
        compare_runs(runs["seed0"], tmp_path / "empty")
    shutil.copytree(runs["seed0"], tmp_path / "broken")
    (tmp_path / "broken" / "run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(VlmbenchError, match=r"broken/run\.json:1: malformed run record"):
        compare_runs(runs["seed0"], tmp_path / "broken")


def test_a_malformed_samples_line_names_the_file_and_line(runs: dict[str, Path], tmp_path: Path) -> None:
    shutil.copytree(runs["seed0"], tmp_path / "bad")
    path = tmp_path / "bad" / "samples" / "synth_chart.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "{oops\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(VlmbenchError, match=r"synth_chart\.jsonl:3: malformed sample row"):
        compare_runs(runs["seed0"], tmp_path / "bad", task="synth_chart")
    before = path.read_bytes()
    with pytest.raises(VlmbenchError):
        compare_runs(runs["seed0"], tmp_path / "bad")
    assert path.read_bytes() == before  # compare only reads


def test_a_task_absent_from_one_run_or_without_shared_ids_is_a_clear_error(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(VlmbenchError, match=r"run\.json: task 'synth_scene' is not in this run"):
        compare_runs(runs["seed0"], runs["seed1"], task="synth_scene")
    shutil.copytree(runs["seed1"], tmp_path / "renamed")
    path = tmp_path / "renamed" / "samples" / "synth_chart.jsonl"
    write_rows(path, [{**r, "id": "other-" + r["id"]} for r in read_rows(path)])
    with pytest.raises(VlmbenchError, match="no sample ids in common for task 'synth_chart'"):
        compare_runs(runs["seed0"], tmp_path / "renamed", task="synth_chart")
    with pytest.raises(VlmbenchError, match="unknown metric"):
        compare_runs(runs["seed0"], runs["seed1"], metric="bleu")


def test_cli_compare_prints_a_table_and_json(runs: dict[str, Path], tmp_path: Path) -> None:
    cli = CliRunner()
    table = cli.invoke(app, ["compare", str(runs["seed0"]), str(runs["seed1"])], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "synth_chart" in table.output and "mcnemar_exact" in table.output
    as_json = cli.invoke(
        app, ["compare", str(runs["seed0"]), str(runs["seed1"]), "--task", "synth_chart", "--json"]
    )
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert [t["task"] for t in data["tasks"]] == ["synth_chart"]
    missing = cli.invoke(app, ["compare", str(runs["seed0"]), str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "not a run directory" in missing.output


def test_a_blank_image_run_is_recognised_as_the_visual_gain_of_the_normal_one(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    blank, _ = evaluate(
        EvalConfig(
            model="random", backend="baseline", tasks=TASKS, output_dir=tmp_path, image_ablation="blank"
        )
    )
    for task in compare_runs(runs["seed0"], blank).tasks:
        assert task.protocol_fields == ["image_ablation"] and task.ablated == "B"
        # the random baseline never looks at pixels: its visual gain is exactly zero
        assert task.diff == 0.0 and not task.a_right_b_wrong and not task.a_wrong_b_right
    assert all(t.ablated == "A" for t in compare_runs(blank, runs["seed0"]).tasks)
    assert all(t.ablated is None for t in compare_runs(runs["seed1"], blank).tasks)  # seed differs too
    cli = CliRunner()
    said = cli.invoke(app, ["compare", str(runs["seed0"]), str(blank)], env={"COLUMNS": "200"})
    assert said.exit_code == 0, said.output
    assert "B is A's items with images ablated, so A - B is A's visual gain" in said.output
    assert "different protocols" not in said.output
    seeds = cli.invoke(app, ["compare", str(runs["seed0"]), str(runs["seed1"])], env={"COLUMNS": "200"})
    assert "the runs used different protocols (generation)" in seeds.output


def test_partial_credit_scores_use_a_paired_bootstrap(runs: dict[str, Path], tmp_path: Path) -> None:
    shutil.copytree(runs["seed0"], tmp_path / "partial_credit")
    path = tmp_path / "partial_credit" / "samples" / "synth_chart.jsonl"
    write_rows(path, [{**r, "official": 0.5} for r in read_rows(path)])  # every item half right
    (task,) = compare_runs(runs["seed0"], tmp_path / "partial_credit", task="synth_chart").tasks
    assert task.test == "paired_bootstrap"
    assert task.score_b == 0.5 and task.significant
    assert task.ci95[0] <= task.diff <= task.ci95[1] < 0.0
    robust = compare_runs(runs["seed0"], tmp_path / "partial_credit", task="synth_chart", metric="robust")
    assert robust.tasks[0].test == "mcnemar_exact" and robust.tasks[0].p_value == 1.0  # robust untouched


def test_questions_sharing_an_image_are_also_compared_by_image(tmp_path: Path) -> None:
    """ChartQA's 40 shared items sit on 24 charts: the difference is bootstrapped by chart as well, and
    procedural items (an image each) get no cluster line."""
    from realdata import shared_data_dir

    common = dict(tasks="chartqa", data_dir=shared_data_dir(), output_dir=tmp_path)
    root_a, _ = evaluate(EvalConfig(model="random", seed=0, **common))
    root_b, _ = evaluate(EvalConfig(model="majority", **common))
    (result,) = compare_runs(root_a, root_b).tasks
    assert result.n == 40 and result.n_clusters == 24
    assert result.clustered is not None and result.clustered.n == 40
    assert result.clustered.diff == pytest.approx(result.diff)
    assert result.to_json()["clustered"]["ci95"] == list(result.clustered.ci95)
    text = CliRunner().invoke(app, ["compare", str(root_a), str(root_b)], env={"COLUMNS": "200"}).output
    assert "40 items on 24 images" in text


def test_items_with_an_image_each_are_not_clustered(runs: dict[str, Path]) -> None:
    for task in compare_runs(runs["seed0"], runs["seed1"]).tasks:
        assert task.clustered is None and task.n_clusters == task.n


def test_the_legend_explains_every_mark_the_table_prints(runs: dict[str, Path]) -> None:
    out = CliRunner().invoke(app, ["compare", str(runs["seed0"]), str(runs["seed1"])], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    legend = out.output.split("\n")
    for mark in ("*:", "A>B / B>A:", "-:", "p:", "A, B:"):
        assert any(line.startswith(mark) for line in legend), mark
    flagged = any(" (!) " in line for line in legend if line.startswith("│"))
    assert any(line.startswith("(!):") for line in legend) == flagged  # explained exactly when shown


def test_compare_task_accepts_an_alias(runs: dict[str, Path]) -> None:
    with pytest.raises(VlmbenchError, match="'mathvista_testmini' is not in this run"):
        compare_runs(runs["seed0"], runs["seed1"], task="mathvista")
