"""The CLI a researcher coming from lm-eval / lmms-eval already knows: their flag spellings and task
names work, typos fail fast with close names, help and errors print verbatim, nothing is written
into tracked folders."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from realdata import shared_data_dir
from typer.testing import CliRunner

from vlmbench import registry
from vlmbench.cli import _backend_args, app
from vlmbench.defaults import cache_dir, display_name
from vlmbench.errors import VlmbenchError
from vlmbench.eval_options import check_model, gen_kwargs_options

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()
runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_included", [])  # --include_path folders stay within one test


def _run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _eval(tmp_path: Path, *args: str):
    return _run("eval", "--backend", "baseline", "--model", "random", "--output-dir", str(tmp_path), *args)


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "run.json").is_file())


# help text ------------------------------------------------------------------------------------------


def test_eval_help_shows_every_default_and_the_install_hint_verbatim():
    result = _run("eval", "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # help wraps lines
    for default in (
        "[default: the tiny model]",
        "[default: hf]",
        "[default: synth_*]",
        "[default: 8]",
        "[default: runs]",
        "[default: 1.0]",
        "[default: the task's]",
    ):
        assert default in text, default
    assert "pip install 'vlmbench[hf]'" in text
    assert "<bool>" not in result.output


def test_lm_eval_spellings_are_listed_in_help():
    text = _run("eval", "--help").output
    for flag in ("--model_args", "--batch_size", "--output_path", "--log_samples", "--gen_kwargs"):
        assert flag in text, flag
    assert "--include_path" in text and "--device" in text


@pytest.mark.parametrize("command", [("score",), ("compare",), ("tasks", "show"), ("leaderboard", "publish")])
def test_other_help_pages_keep_their_brackets(command):
    result = _run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert " ." not in result.output.replace("...", "")  # a swallowed "[...]" leaves " ." behind


def test_an_error_quoting_user_input_prints_it_verbatim(tmp_path):
    result = _eval(tmp_path, "--tasks", "weird[x]")
    assert result.exit_code == 2
    assert "'weird[x]'" in result.output


def test_an_install_hint_in_an_error_keeps_its_extra(tmp_path):
    if shutil.which("vllm") or _importable("vllm"):
        pytest.skip("vllm is installed here")
    args = ("--model", "org/name", "--tasks", "synth_chart", "--limit", "1", "--output-dir", str(tmp_path))
    result = _run("eval", "--backend", "vllm", *args)
    assert result.exit_code == 2
    assert "pip install 'vlmbench[vllm]'" in " ".join(result.output.split())


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# flag aliases -----------------------------------------------------------------------------------------


def test_lm_eval_flags_run_the_same_run_as_vlmbench_flags(tmp_path):
    ours = _eval(tmp_path, "--tasks", "synth_chart", "--limit=3", "--batch-size=2", "--max-new-tokens=8")
    assert ours.exit_code == 0, ours.output
    theirs = _run(
        "eval", "--backend", "baseline", "--model", "random", "--output_path", str(tmp_path),
        "--tasks", "synth_chart", "--limit", "3", "--batch_size", "2", "--gen_kwargs", "max_gen_toks=8",
    )  # fmt: skip
    assert theirs.exit_code == 0, theirs.output
    assert len(_run_dirs(tmp_path)) == 1  # same options, same run: the second resumed the first
    assert "all 3 reused" in theirs.output


def test_log_samples_is_accepted_and_said_once(tmp_path):
    result = _eval(tmp_path, "--tasks", "synth_chart", "--limit", "2", "--log_samples")
    assert result.exit_code == 0, result.output
    assert result.output.count("--log_samples is always on") == 1
    (run,) = _run_dirs(tmp_path)
    assert (run / "samples" / "synth_chart.jsonl").is_file()


def test_gen_kwargs_map_onto_generation_options():
    assert gen_kwargs_options({"max_new_tokens": 16, "temperature": 0.7, "top_p": 0.9}) == {
        "max_new_tokens": 16, "temperature": 0.7, "top_p": 0.9,
    }  # fmt: skip
    assert gen_kwargs_options({"max_gen_toks": 5}) == {"max_new_tokens": 5}
    assert gen_kwargs_options({"do_sample": False}) == {"temperature": 0.0}
    assert gen_kwargs_options({"do_sample": True}) == {"temperature": 1.0}
    assert gen_kwargs_options({"do_sample": True, "temperature": 0.5}) == {"temperature": 0.5}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"until": "\n"}, "until not supported"),
        ({"num_beams": 4}, "num_beams not supported"),
        ({"do_sample": False, "temperature": 0.7}, "contradicts itself"),
        ({"max_new_tokens": 8, "max_gen_toks": 9}, "contradicts another key"),
        ({"temperature": "hot"}, "must be a number"),
    ],
)
def test_gen_kwargs_refuse_what_they_cannot_honour(kwargs, message):
    with pytest.raises(VlmbenchError, match=message):
        gen_kwargs_options(kwargs)


def test_gen_kwargs_contradicting_an_explicit_flag_exit_2(tmp_path):
    result = _eval(tmp_path, "--tasks", "synth_chart", "--temperature=0", "--gen_kwargs", "temperature=0.5")
    assert result.exit_code == 2
    assert "contradicts --temperature" in result.output
    unknown = _eval(tmp_path, "--tasks", "synth_chart", "--gen_kwargs", "until=x")
    assert unknown.exit_code == 2 and "until not supported" in unknown.output


def test_device_is_the_hf_backends_device_argument():
    options: dict = {"backend": "hf", "model": "m"}
    _backend_args(options, "dtype=float32", "cuda:1")
    assert options["model_args"] == {"dtype": "float32", "device": "cuda:1"}
    with pytest.raises(VlmbenchError, match="contradicts"):
        _backend_args({"backend": "hf"}, "device=cpu", "cuda")
    with pytest.raises(VlmbenchError, match="applies to the hf backend"):
        _backend_args({"backend": "baseline"}, None, "cuda")


def test_tasks_list_prints_the_task_table_and_runs_nothing(tmp_path):
    result = _eval(tmp_path, "--tasks", "list")
    assert result.exit_code == 0, result.output
    assert "mathvista_testmini" in result.output and "aliases" in result.output
    assert _run_dirs(tmp_path) == []


def test_include_path_registers_user_task_files(tmp_path):
    folder = tmp_path / "my_tasks"
    folder.mkdir()
    text = (REPO / "tasks" / "synth_chart.yaml").read_text().replace("name: synth_chart", "name: my_chart")
    (folder / "my_chart.yaml").write_text(text)
    runs = tmp_path / "runs"
    result = _run(
        "eval", "--backend", "baseline", "--model", "random", "--output-dir", str(runs),
        "--include_path", str(folder), "--tasks", "my_chart", "--limit", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (run,) = _run_dirs(runs)
    assert list(json.loads((run / "run.json").read_text())["tasks"]) == ["my_chart"]
    missing = _eval(tmp_path, "--include_path", str(tmp_path / "nowhere"), "--tasks", "synth_chart")
    assert missing.exit_code == 2 and "no such folder" in missing.output


# task aliases ------------------------------------------------------------------------------------------


def test_an_alias_names_the_same_run_as_the_task(tmp_path):
    common = ("--data-dir", str(SHARED), "--limit", "2")
    first = _eval(tmp_path, "--tasks", "gqa", *common)
    assert first.exit_code == 0, first.output
    second = _eval(tmp_path, "--tasks", "gqa_testdev_balanced", *common)
    assert second.exit_code == 0, second.output
    (run,) = _run_dirs(tmp_path)
    record = json.loads((run / "run.json").read_text())
    assert list(record["tasks"]) == ["gqa_testdev_balanced"]


def test_tasks_table_and_show_list_aliases():
    table = _run("tasks")
    assert table.exit_code == 0
    line = next(row for row in table.output.splitlines() if "mathvista_testmini" in row)
    assert "mathvista" in line.replace("mathvista_testmini", "")
    shown = _run("tasks", "show", "scienceqa")
    assert shown.exit_code == 0, shown.output
    assert "scienceqa_img v" in shown.output


def test_score_accepts_an_alias(tmp_path):
    data = SHARED / "gqa"
    first = json.loads((data / "items.jsonl").read_text().splitlines()[0])
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": first["id"], "prediction": first["answer"]}) + "\n")
    result = _run("score", "--task", "gqa", "--data", str(data), "--predictions", str(preds), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["task"] == "gqa_testdev_balanced"
    assert (tmp_path / "scores" / "p.scores.jsonl").is_file() and not (tmp_path / "p.scores.jsonl").exists()


# did you mean ------------------------------------------------------------------------------------------


def test_a_mistyped_task_or_baseline_suggests_the_real_name(tmp_path):
    task = _eval(tmp_path, "--tasks", "chartq")
    assert task.exit_code == 2 and "did you mean 'chartqa'" in task.output
    baseline = _run("eval", "--backend", "baseline", "--model", "majorty", "--output-dir", str(tmp_path))
    assert baseline.exit_code == 2 and "did you mean 'majority'" in baseline.output
    implied = _run("eval", "--model", "majorty", "--output-dir", str(tmp_path))  # no --backend: hf
    assert implied.exit_code == 2 and "did you mean the baseline --model majority" in implied.output
    backend = _run("eval", "--backend", "hff", "--model", "x", "--output-dir", str(tmp_path))
    assert backend.exit_code == 2 and "did you mean 'hf'" in backend.output


def test_a_checkpoint_folder_that_does_not_exist_fails_before_any_hub_call(tmp_path):
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(VlmbenchError, match=r"no such folder; did you mean '.*ckpt'"):
        check_model("hf", str(tmp_path / "ckpt-typo"))
    with pytest.raises(VlmbenchError, match="no such folder"):
        check_model("hf", "./ckpt-typo")
    check_model("hf", str(tmp_path / "ckpt"))  # a folder
    check_model("hf", "llava-hf/llava-1.5-7b-hf")  # a plausible hub id: the hub decides
    result = _run("eval", "--model", "./ckpt-typo", "--tasks", "synth_chart", "--output-dir", str(tmp_path))
    assert result.exit_code == 2 and "no such folder" in result.output


# names shown, files written -----------------------------------------------------------------------------


def test_the_embedded_model_is_shown_by_a_short_name():
    assert display_name(str(cache_dir() / "tiny-llava-v2")) == "tiny-llava (embedded default)"
    assert display_name("llava-hf/llava-1.5-7b-hf") == "llava-hf/llava-1.5-7b-hf"
    assert display_name("./my/tiny-llava-v2") == "./my/tiny-llava-v2"  # a user's folder: as given


def test_name_is_shown_and_does_not_change_the_run(tmp_path):
    base = ("--tasks", "synth_chart", "--limit", "2")
    assert _eval(tmp_path, *base).exit_code == 0
    named = _eval(tmp_path, *base, "--name", "my baseline [v1]")
    assert named.exit_code == 0, named.output
    assert "my baseline [v1] (baseline)" in named.output
    assert len(_run_dirs(tmp_path)) == 1


@pytest.mark.parametrize(
    "path",
    ["runs/x/run.json", "train-runs/a", "ckpt/model.safetensors", "site/index.html", ".cache/x",
     "vlmbench/__pycache__/a.pyc", ".pytest_cache/v", ".ruff_cache/x", "scores/p.scores.jsonl",
     "examples/p.scores.jsonl"],
)  # fmt: skip
def test_gitignore_covers_what_vlmbench_writes(path):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
    assert result.returncode == 0, f"{path} is not ignored"


def test_gitignore_does_not_hide_sources():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("tasks/chartqa.yaml", "examples/x.jsonl", "docs/coming-from-lm-eval.md"):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
        assert result.returncode == 1, f"{path} is ignored"


def test_quiet_third_party_turns_off_hub_and_transformers_output(monkeypatch):
    import os
    import warnings

    from vlmbench.eval_options import quiet_third_party

    for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY"):
        monkeypatch.delenv(name, raising=False)
    with warnings.catch_warnings():
        quiet_third_party()
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
        assert os.environ["TRANSFORMERS_VERBOSITY"] == "error"
        if _importable("transformers"):
            from transformers.utils import logging

            assert logging.get_verbosity() == logging.ERROR
            assert not logging.is_progress_bar_enabled()
