"""The YAML reader behind task and board files (`vlmbench.yamlfile.load_model_file`): safe-loaded, so
a tag that would build a Python object is refused naming file and line and runs nothing, and bytes
that are not UTF-8 are an error naming file and line (the CLI exits 2), not a UnicodeDecodeError."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.cli import app
from vlmbench.errors import TaskSpecError
from vlmbench.registry import load_task_file

_TASKS = Path(__file__).resolve().parents[1] / "tasks"


def task_copy(folder: Path, name: str = "geometry3k") -> Path:
    """A copy of a shipped task file, renamed: the task's own text, for editing in a test."""
    text = (
        (_TASKS / "geometry3k.yaml").read_text(encoding="utf-8").replace("name: geometry3k", f"name: {name}")
    )
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_python_object_tag_is_refused_naming_file_and_line_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = task_copy(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "description:", f"notes: !!python/object/apply:pathlib.Path.touch [{marker}]\ndescription:", 1
    )
    path.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if "!!python" in t)
    with pytest.raises(TaskSpecError) as err:
        load_task_file(path)
    assert f"{path}:{line}:" in str(err.value) and "malformed YAML" in str(err.value)
    assert not marker.exists()


def test_bytes_that_are_not_utf8_name_the_file_line_and_column(tmp_path: Path) -> None:
    path = task_copy(tmp_path)
    raw = path.read_bytes()
    line = raw[: raw.index(b"title:")].count(b"\n") + 1
    path.write_bytes(raw.replace(b"title: ", b"title: G\xe9ometry ", 1))
    with pytest.raises(TaskSpecError) as err:
        load_task_file(path)
    assert str(err.value) == f"{path}:{line}: not valid UTF-8 (byte 0xe9 at column 9)"


def test_a_non_utf8_user_task_exits_2_from_the_cli(tmp_path: Path) -> None:
    path = task_copy(tmp_path, "latin_task")
    path.write_bytes(path.read_bytes().replace(b"title: ", b"title: \xff", 1))
    result = CliRunner().invoke(
        app, ["tasks", "show", "latin_task"], env={"VLMBENCH_TASKS_PATH": str(tmp_path)}
    )
    assert result.exit_code == 2, result.output
    assert "not valid UTF-8" in result.output and "latin_task.yaml" in result.output.replace("\n", "")
