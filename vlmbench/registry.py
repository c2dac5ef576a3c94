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
from typing import Any

import yaml
from pydantic import ValidationError

from vlmbench.errors import TaskNotFoundError, TaskSpecError, located
from vlmbench.taskspec import TaskSpec

_PACKAGE = Path(__file__).resolve().parent


def builtin_task_dir() -> Path:
    bundled = _PACKAGE / "_bundled" / "tasks"
    return bundled if bundled.is_dir() else _PACKAGE.parent / "tasks"


def task_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("VLMBENCH_TASKS_PATH", "").split(os.pathsep) if p]
    return [builtin_task_dir(), *extra]


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (the deepest node that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def load_task_file(path: Path) -> TaskSpec:
    """Parse and validate one task file; errors name the file and line."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise TaskSpecError(located(path, line, f"malformed YAML: {getattr(err, 'problem', err)}")) from err
    if not isinstance(data, dict):
        raise TaskSpecError(located(path, 1, "a task file must be a YAML mapping"))
    try:
        spec = TaskSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        message = f"{where}: {first['msg']}{more}"
        raise TaskSpecError(located(path, _line_of(node, first["loc"]), message)) from err
    if spec.name != path.stem:
        raise TaskSpecError(located(path, _line_of(node, ("name",)), f"name {spec.name!r} != file name"))
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
    """Names from a comma list of names and globs (`mathvista*,chartqa`), in order, without repeats."""
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
    return chosen
