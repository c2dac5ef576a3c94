"""Board definitions: the shipped boards load, and bad boards fail with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmbench.leaderboard.board import BoardError, board_names, builtin_board_dir, load_board
from vlmbench.registry import get_task, task_names

NINE = [
    "mathvista_testmini", "geometry3k", "unigeo", "scienceqa_img", "ai2d", "chartqa", "vcr", "nlvr2",
    "gqa_testdev_balanced",
]  # fmt: skip
GOOD = """\
name: {name}
title: A board
tasks:
  - task: synth_chart
    version: "1.0"
    metric: relaxed_accuracy
  - task: synth_scene
    version: "1.0"
    metric: accuracy
"""


def _board(tmp_path: Path, text: str, name: str = "mine") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.format(name=name), encoding="utf-8")
    return path


def test_shipped_boards() -> None:
    assert {"default", "synth"} <= set(board_names())
    default = load_board("default")
    assert [t.task for t in default.tasks] == NINE
    assert sorted(NINE + [t.task for t in load_board("synth").tasks]) == task_names()
    for entry in default.tasks + load_board("synth").tasks:
        spec = get_task(entry.task)
        assert (entry.version, entry.metric) == (spec.version, spec.metrics.main)
    assert {"random", "majority"} <= set(default.baselines)


def test_boards_ship_in_the_wheel() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"leaderboards" = "vlmbench/_bundled/leaderboards"' in pyproject
    assert builtin_board_dir().name == "leaderboards"


def test_custom_board_by_path(tmp_path: Path) -> None:
    board = load_board(_board(tmp_path, GOOD))
    assert board.aggregate == "mean" and board.tasks[1].header == "synth_scene"
    assert board.columns[0] == "rank"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("task: synth_scene", "task: synth_scen", 7,
         r"tasks\.1: unknown task 'synth_scen'; did you mean 'synth_scene'"),
        ('version: "1.0"\n    metric: accuracy', 'version: "0.9"\n    metric: accuracy', 8,
         r"board pins synth_scene v0\.9, the task file is v1\.0"),
        ("metric: accuracy", "metric: official", 9, r"metric 'official' is not synth_scene's main metric"),
        ("title: A board", "title: A board\ncolour: red", None, r"Extra inputs are not permitted"),
        ("title: A board", "title: [unclosed", 3, r"malformed YAML"),
        ("    metric: accuracy", "    metric: accuracy\n    protocol: NOTHEX", 10, r"tasks\.1\.protocol"),
    ],
)  # fmt: skip
def test_bad_boards_name_file_and_line(
    tmp_path: Path, old: str, new: str, line: int | None, message: str
) -> None:
    path = _board(tmp_path, GOOD.replace(old, new))
    with pytest.raises(BoardError, match=message) as caught:
        load_board(path)
    if line is not None:
        assert str(caught.value).startswith(f"{path}:{line}: ")
    else:
        assert str(caught.value).startswith(str(path))


def test_board_structure_errors(tmp_path: Path) -> None:
    with pytest.raises(BoardError, match="name 'other' != file name"):
        load_board(_board(tmp_path, GOOD.replace("name: {name}", "name: other")))
    twice = GOOD.replace("task: synth_scene", "task: synth_chart").replace(
        "metric: accuracy", "metric: relaxed_accuracy"
    )
    with pytest.raises(BoardError, match="tasks repeat"):
        load_board(_board(tmp_path, twice))
    with pytest.raises(BoardError, match="columns must include 'model'"):
        load_board(_board(tmp_path, GOOD + "columns: [rank, tasks]\n"))
    with pytest.raises(BoardError, match="a board file must be a YAML mapping"):
        load_board(_board(tmp_path, "- just\n- a list\n"))
    with pytest.raises(BoardError, match=r"unknown board 'defualt'; did you mean 'default'"):
        load_board("defualt")
    with pytest.raises(BoardError, match="no such board file"):
        load_board(tmp_path / "absent.yaml")
