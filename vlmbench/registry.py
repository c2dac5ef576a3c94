"""The task registry: finds `tasks/*.yaml`, validates them, and resolves names, globs and lists.

Task files are shipped inside the wheel (`vlmbench/_bundled/tasks`) and read from the repository's
`tasks/` in a source checkout; `VLMBENCH_TASKS_PATH` (os.pathsep-separated) adds user folders.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from functools import cache
from pathlib import Path

from vlmbench.errors import TaskNotFoundError, TaskSpecError, located
from vlmbench.taskspec import TaskSpec
from vlmbench.yamlfile import line_of, load_model_file

_PACKAGE = Path(__file__).resolve().parent


def builtin_task_dir() -> Path:
    bundled = _PACKAGE / "_bundled" / "tasks"
    return bundled if bundled.is_dir() else _PACKAGE.parent / "tasks"


def task_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("VLMBENCH_TASKS_PATH", "").split(os.pathsep) if p]
    return [builtin_task_dir(), *extra]


def load_task_file(path: Path) -> TaskSpec:
    """Parse and validate one task file; errors name the file and line."""
    spec, node = load_model_file(path, TaskSpec, TaskSpecError, "task file")
    if spec.name != path.stem:
        raise TaskSpecError(located(path, line_of(node, ("name",)), f"name {spec.name!r} != file name"))
    return spec


@cache
def _index(dirs: tuple[Path, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def task_index() -> dict[str, Path]:
    return _index(tuple(task_dirs()))


def task_names() -> list[str]:
    return sorted(task_index())


def get_task(name: str) -> TaskSpec:
    """The validated task called `name`, or a TaskNotFoundError with 'did you mean' suggestions."""
    index = task_index()
    if name not in index:
        close = difflib.get_close_matches(name, list(index), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise TaskNotFoundError(f"unknown task {name!r}{hint} (see `vlmbench tasks`)")
    return load_task_file(index[name])


def all_tasks() -> list[TaskSpec]:
    return [get_task(name) for name in task_names()]


def resolve_tasks(selection: str) -> list[str]:
    """Names from a comma list of names and globs (`mathvista*,chartqa`), in order, without repeats;
    a selection of no task is an error."""
    names = task_names()
    chosen: list[str] = []
    for part in (p.strip() for p in selection.split(",")):
        if not part:
            continue
        if any(ch in part for ch in "*?["):
            matched = fnmatch.filter(names, part)
            if not matched:
                raise TaskNotFoundError(f"no task matches {part!r} (see `vlmbench tasks`)")
        else:
            get_task(part)  # raises with suggestions
            matched = [part]
        chosen.extend(m for m in matched if m not in chosen)
    if not chosen:  # `--tasks ''` or `--tasks ,`: an empty run would look like a finished one
        raise TaskNotFoundError(f"no task selected by {selection!r} (see `vlmbench tasks`)")
    return chosen
