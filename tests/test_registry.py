"""The task registry: nine benchmarks, declarative files, clear errors, name resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmbench.errors import TaskNotFoundError, TaskSpecError
from vlmbench.registry import all_tasks, get_task, load_task_file, resolve_tasks, task_names

NINE = {
    "mathvista_testmini",
    "geometry3k",
    "unigeo",
    "scienceqa_img",
    "ai2d",
    "chartqa",
    "vcr",
    "nlvr2",
    "gqa_testdev_balanced",
}
TASK_DIR = Path(__file__).resolve().parents[1] / "tasks"


def test_registry_lists_the_nine_benchmarks():
    assert set(task_names()) >= NINE


@pytest.mark.parametrize("name", sorted(NINE))
def test_every_task_file_declares_the_full_protocol(name):
    spec = get_task(name)
    assert spec.version and spec.title and spec.description and spec.citation.strip() and spec.license
    assert {"direct", "cot"} <= set(spec.prompts.templates)
    assert spec.generation.max_new_tokens > 0
    assert spec.metrics.main
    assert spec.source.local.dir
    assert spec.source.hub is not None or spec.source.hub_note  # no hub copy must be explained


def test_task_files_hold_no_executable_code():
    for path in TASK_DIR.glob("*.yaml"):
        text = path.read_text()
        assert "!function" not in text and "!!python" not in text, path


def test_vcr_is_visual_commonsense_reasoning_not_caption_restoration():
    spec = get_task("vcr")
    assert "Visual Commonsense Reasoning" in spec.title
    assert "Not Visual Caption Restoration" in spec.description
    assert {"q2a", "qa2r", "q2ar"} <= set(spec.metrics.named)


def test_unknown_task_suggests_close_names():
    with pytest.raises(TaskNotFoundError, match="did you mean 'chartqa'"):
        get_task("chartqa_tset")
    with pytest.raises(TaskNotFoundError, match="did you mean 'mathvista_testmini'"):
        get_task("mathvista_testmin")


def test_resolve_accepts_comma_lists_and_globs_without_repeats():
    assert resolve_tasks("chartqa, mathvista*,chartqa") == ["chartqa", "mathvista_testmini"]
    with pytest.raises(TaskNotFoundError):
        resolve_tasks("nothing_like_this*")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = _write(tmp_path, "broken", "name: broken\nversion: '1'\nprompts: [unclosed\n")
    with pytest.raises(TaskSpecError, match=r"broken\.yaml:\d+: malformed YAML"):
        load_task_file(path)


def test_unknown_key_is_rejected_with_its_line(tmp_path):
    text = (TASK_DIR / "chartqa.yaml").read_text().replace(
        "name: chartqa", "name: typo"
    ) + "\nscorre: chartqa\n"
    path = _write(tmp_path, "typo", text)
    lines = path.read_text().splitlines()
    line = next(i for i, s in enumerate(lines, 1) if s.startswith("scorre"))
    with pytest.raises(TaskSpecError, match=rf"typo\.yaml:{line}: scorre: Extra inputs"):
        load_task_file(path)


def test_missing_field_and_unknown_scorer_are_reported(tmp_path):
    base = (
        (TASK_DIR / "gqa_testdev_balanced.yaml").read_text().replace("name: gqa_testdev_balanced", "name: t")
    )
    with pytest.raises(TaskSpecError, match="scorer"):
        load_task_file(_write(tmp_path, "t", base.replace("scorer: gqa", "scorer: nope")))
    with pytest.raises(TaskSpecError, match=r"t\.yaml:\d+: citation: Field required"):
        load_task_file(_write(tmp_path, "t", base.replace("citation: |", "citations: |")))


def test_file_name_must_match_task_name(tmp_path):
    text = (TASK_DIR / "ai2d.yaml").read_text()
    with pytest.raises(TaskSpecError, match="!= file name"):
        load_task_file(_write(tmp_path, "other", text))


def test_user_task_folders_extend_the_registry(tmp_path, monkeypatch):
    text = (TASK_DIR / "ai2d.yaml").read_text().replace("name: ai2d", "name: my_ai2d")
    _write(tmp_path, "my_ai2d", text)
    monkeypatch.setenv("VLMBENCH_TASKS_PATH", str(tmp_path))
    assert "my_ai2d" in task_names()
    assert get_task("my_ai2d").scorer == "ai2d"


def test_all_tasks_load():
    assert {t.name for t in all_tasks()} >= NINE


# aliases ---------------------------------------------------------------------------------------------

LMMS_EVAL_NAMES = {
    "mathvista": "mathvista_testmini",
    "scienceqa": "scienceqa_img",
    "gqa": "gqa_testdev_balanced",
}


@pytest.mark.parametrize(("alias", "name"), sorted(LMMS_EVAL_NAMES.items()))
def test_lmms_eval_names_resolve_to_the_canonical_task(alias, name):
    from vlmbench.registry import canonical_name

    assert canonical_name(alias) == name
    assert get_task(alias).name == name  # the spec, its version and protocol are the canonical task's
    assert resolve_tasks(f"{alias},{name}") == [name]


def test_aliases_are_rewritten_before_a_run_is_named_and_nothing_else_is():
    from vlmbench.registry import canonical_selection

    assert canonical_selection("mathvista, chartqa") == "mathvista_testmini, chartqa"
    assert canonical_selection("synth_*, chartqa") == "synth_*, chartqa"  # byte for byte


def test_suggestions_include_aliases():
    with pytest.raises(TaskNotFoundError, match="did you mean 'mathvista'"):
        get_task("mathvist")


def _with_alias(text: str, name: str, aliases: str) -> str:
    return text.replace("name: ai2d", f"name: {name}").replace(
        'version: "1.0"', f'version: "1.0"\naliases: {aliases}', 1
    )


@pytest.mark.parametrize(
    ("aliases", "message"),
    [("[chartqa]", "is the name of the task"), ("[gqa]", "already an alias of 'gqa_testdev_balanced'")],
)
def test_an_alias_that_clashes_with_a_name_or_an_alias_is_an_error(tmp_path, monkeypatch, aliases, message):
    _write(tmp_path, "my_ai2d", _with_alias((TASK_DIR / "ai2d.yaml").read_text(), "my_ai2d", aliases))
    monkeypatch.setenv("VLMBENCH_TASKS_PATH", str(tmp_path))
    with pytest.raises(TaskSpecError, match=message):
        get_task("not-a-task")


@pytest.mark.parametrize(
    ("aliases", "message"), [("[my_ai2d]", "own name"), ("['a*']", "lower-case"), ("[b, b]", "repeat")]
)
def test_malformed_aliases_are_rejected(tmp_path, aliases, message):
    text = _with_alias((TASK_DIR / "ai2d.yaml").read_text(), "my_ai2d", aliases)
    with pytest.raises(TaskSpecError, match=message):
        load_task_file(_write(tmp_path, "my_ai2d", text))


def test_include_task_dir_adds_tasks_but_never_replaces_one(tmp_path, monkeypatch):
    from vlmbench import registry

    monkeypatch.setattr(registry, "_included", [])
    text = (TASK_DIR / "ai2d.yaml").read_text()
    _write(tmp_path, "ai2d", text.replace("title: AI2D (test)", "title: shadow"))
    _write(tmp_path, "my_ai2d", text.replace("name: ai2d", "name: my_ai2d"))
    registry.include_task_dir(tmp_path)
    assert get_task("my_ai2d").scorer == "ai2d"
    assert get_task("ai2d").title != "shadow"
    with pytest.raises(TaskNotFoundError, match="no such folder"):
        registry.include_task_dir(tmp_path / "nowhere")
