"""Board definitions: `leaderboards/<board>.yaml`, strictly validated against the task registry.

A board pins each task's version and main metric, so a task file that moves on (a new version, another
metric) makes the board fail loudly instead of silently publishing numbers of another protocol.
Boards ship inside the wheel (`vlmbench/_bundled/leaderboards`) and are read from the repository's
`leaderboards/` in a source checkout; `VLMBENCH_BOARDS_PATH` (os.pathsep-separated) adds folders.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vlmbench.errors import TaskNotFoundError, TaskSpecError, VlmbenchError, located
from vlmbench.registry import get_task
from vlmbench.yamlfile import Lines, load_model_file

_PACKAGE = Path(__file__).resolve().parent.parent
Column = Literal["rank", "model", "size", "backend", "algorithm", "tasks", "aggregate"]
DEFAULT_COLUMNS: list[Column] = ["rank", "model", "size", "backend", "algorithm", "tasks", "aggregate"]


class BoardError(VlmbenchError):
    """A board file that is malformed or names tasks, versions or metrics the registry does not have."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BoardTask(_Strict):
    task: str
    version: str = Field(description="the pinned task version; runs of other versions are left out")
    metric: str = Field(description="the task's main metric (must match the task file)")
    label: str | None = Field(None, description="short column header [the task name]")
    protocol: str | None = Field(
        None, pattern=r"^[0-9a-f]{6,64}$", description="pin the main column to this protocol hash (prefix)"
    )

    @property
    def header(self) -> str:
        return self.label or self.task


class Board(_Strict):
    name: str
    title: str
    description: str = ""
    aggregate: Literal["mean", "mean_rank"] = "mean"
    baselines: list[str] = Field(
        default_factory=lambda: ["random", "majority"],
        description="baseline-backend models shown on every board (when the store has them)",
    )
    columns: list[Column] = Field(default_factory=lambda: list(DEFAULT_COLUMNS))
    tasks: list[BoardTask] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _check_columns(cls, columns: list[Column]) -> list[Column]:
        if "model" not in columns:
            raise ValueError("columns must include 'model'")
        if len(set(columns)) != len(columns):
            raise ValueError("columns repeat")
        return columns

    @field_validator("tasks")
    @classmethod
    def _check_tasks(cls, tasks: list[BoardTask]) -> list[BoardTask]:
        names = [t.task for t in tasks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"tasks repeat: {repeated}")
        return tasks


def builtin_board_dir() -> Path:
    bundled = _PACKAGE / "_bundled" / "leaderboards"
    return bundled if bundled.is_dir() else _PACKAGE.parent / "leaderboards"


def board_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("VLMBENCH_BOARDS_PATH", "").split(os.pathsep) if p]
    return [builtin_board_dir(), *extra]


def board_names() -> list[str]:
    return sorted({p.stem for folder in board_dirs() for p in folder.glob("*.yaml")})


def board_path(name: str) -> Path:
    """A board by name (`default`) or by path (`my/board.yaml`)."""
    given = Path(name)
    if given.suffix in (".yaml", ".yml") or len(given.parts) > 1:
        if not given.is_file():
            raise BoardError(f"{given}: no such board file")
        return given
    for folder in board_dirs():
        if (folder / f"{name}.yaml").is_file():
            return folder / f"{name}.yaml"
    close = difflib.get_close_matches(name, board_names(), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise BoardError(f"unknown board {name!r}{hint} (boards: {', '.join(board_names()) or 'none'})")


def load_board(name: str | Path) -> Board:
    """Parse, validate and check a board against the task registry; errors name the file and line."""
    path = board_path(str(name))
    board, lines = load_model_file(path, Board, BoardError, "board file")
    if board.name != path.stem:
        raise BoardError(located(path, lines.of(("name",)), f"name {board.name!r} != file name"))
    for index, entry in enumerate(board.tasks):
        _check_task(path, lines, index, entry)
    return board


def _check_task(path: Path, lines: Lines, index: int, entry: BoardTask) -> None:
    def fail(key: str, message: str) -> BoardError:
        return BoardError(located(path, lines.of(("tasks", index, key)), message))

    try:
        spec = get_task(entry.task)
    except TaskNotFoundError as err:
        raise fail("task", f"tasks.{index}: {err}") from None
    except TaskSpecError as err:
        raise fail("task", f"tasks.{index}: task {entry.task!r} does not load ({err})") from None
    if spec.version != entry.version:
        raise fail(
            "version",
            f"tasks.{index}: board pins {entry.task} v{entry.version}, the task file is v{spec.version}",
        )
    if spec.metrics.main != entry.metric:
        raise fail(
            "metric",
            f"tasks.{index}: metric {entry.metric!r} is not {entry.task}'s main metric {spec.metrics.main!r}",
        )
