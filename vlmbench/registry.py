"""The task registry: finds `tasks/*.yaml`, validates them, and resolves names, globs and lists.

Task files are shipped inside the wheel (`vlmbench/_bundled/tasks`) and read from the repository's
`tasks/` in a source checkout; `VLMBENCH_TASKS_PATH` (os.pathsep-separated) and `include_task_dir`
(`vlmbench eval --include_path`) add user folders. A task file's `aliases:` are other names for it
(lmms-eval's, short ones): every lookup resolves them to the canonical name first, so an alias never
reaches a run's identity, its records or its protocol hash.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from functools import cache
from pathlib import Path

from vlmbench.errors import TaskNotFoundError, TaskSpecError, located
from vlmbench.taskspec import TaskSpec
from vlmbench.yamlfile import load_model_file

_PACKAGE = Path(__file__).resolve().parent


def builtin_task_dir() -> Path:
    bundled = _PACKAGE / "_bundled" / "tasks"
    return bundled if bundled.is_dir() else _PACKAGE.parent / "tasks"


_included: list[Path] = []  # folders added from Python or `--include_path`, after the environment's


def include_task_dir(folder: Path | str) -> Path:
    """Register the task files in `folder` beside the built-in ones (lm-eval's `--include_path`);
    a built-in task keeps its name, so a user file can add tasks but never replace one."""
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise TaskNotFoundError(f"--include_path {folder}: no such folder")
    if not any(path.glob("*.yaml")):
        raise TaskNotFoundError(f"--include_path {folder}: no task files (*.yaml) in it")
    if path not in _included:
        _included.append(path)
    return path


def task_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("VLMBENCH_TASKS_PATH", "").split(os.pathsep) if p]
    return [builtin_task_dir(), *extra, *_included]


def load_task_file(path: Path) -> TaskSpec:
    """Parse and validate one task file; errors name the file and line."""
    spec, lines = load_model_file(path, TaskSpec, TaskSpecError, "task file")
    if spec.name != path.stem:
        raise TaskSpecError(located(path, lines.of(("name",)), f"name {spec.name!r} != file name"))
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


@cache
def _alias_index(dirs: tuple[Path, ...]) -> dict[str, str]:
    index = _index(dirs)
    owner: dict[str, str] = {}
    for name, path in index.items():
        for alias in load_task_file(path).aliases:
            if alias in index:
                raise TaskSpecError(f"{path}: alias {alias!r} is the name of the task in {index[alias]}")
            if alias in owner:
                raise TaskSpecError(f"{path}: alias {alias!r} is already an alias of {owner[alias]!r}")
            owner[alias] = name
    return owner


def task_aliases() -> dict[str, str]:
    """alias -> canonical task name, over every registered folder; a clash is a TaskSpecError."""
    return _alias_index(tuple(task_dirs()))


def aliases_of(name: str) -> list[str]:
    return sorted(alias for alias, owner in task_aliases().items() if owner == name)


def suggest(name: str, candidates: list[str], n: int = 3) -> list[str]:
    """The closest few of `candidates` to a mistyped `name` (rapidfuzz; difflib where it is missing)."""
    try:
        from rapidfuzz import fuzz, process, utils
    except ImportError:  # pragma: no cover - rapidfuzz is a core dependency
        return difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)
    found = process.extract(name, candidates, scorer=fuzz.WRatio, processor=utils.default_process, limit=n)
    return [match for match, score, _ in found if score >= 70]


def did_you_mean(name: str, candidates: list[str]) -> str:
    close = suggest(name, candidates)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def canonical_name(name: str) -> str:
    """`name` itself if it is a task, the task it is an alias of, or a TaskNotFoundError that suggests
    close names (aliases included)."""
    index = task_index()
    if name in index:
        return name
    aliases = task_aliases()
    if name in aliases:
        return aliases[name]
    hint = did_you_mean(name, [*index, *aliases])
    raise TaskNotFoundError(f"unknown task {name!r}{hint} (see `vlmbench tasks`)")


def get_task(name: str) -> TaskSpec:
    """The validated task called `name` (or aliased so), or a TaskNotFoundError with 'did you mean'."""
    return load_task_file(task_index()[canonical_name(name)])


def all_tasks() -> list[TaskSpec]:
    return [get_task(name) for name in task_names()]


def canonical_selection(selection: str) -> str:
    """`selection` with each alias replaced by its task's name (globs and names kept as typed), so
    `--tasks mathvista` and `--tasks mathvista_testmini` name the same run."""
    aliases = task_aliases()
    if not any(part.strip() in aliases for part in selection.split(",")):
        return selection  # unchanged, byte for byte: the run's identity is the string
    return ",".join(aliases.get(part.strip(), part) for part in selection.split(","))


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
            matched = [canonical_name(part)]  # raises with suggestions
        chosen.extend(m for m in matched if m not in chosen)
    if not chosen:  # `--tasks ''` or `--tasks ,`: an empty run would look like a finished one
        raise TaskNotFoundError(f"no task selected by {selection!r} (see `vlmbench tasks`)")
    return chosen
