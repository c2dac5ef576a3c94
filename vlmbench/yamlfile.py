"""Declarative YAML files (tasks, boards) read into strict pydantic models, with errors that name the
file and the line of the offending key - one reader, so every kind of file fails the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from vlmbench.errors import VlmbenchError, first_validation_error, located, read_utf8

M = TypeVar("M", bound=BaseModel)


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
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


# libyaml's parser where PyYAML was built with it (the wheels are): the same documents, the same safe
# constructor, a tenth of the time; every task file is read on each run to resolve names and aliases.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Lines:
    """Line lookups in one YAML text. The node tree is composed at the first lookup, that is only when
    an error needs a line, so a valid file is parsed once."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._node: yaml.Node | None = None

    def of(self, loc: tuple[Any, ...]) -> int | None:
        """1-based line of the key at a pydantic error location (see `line_of`)."""
        if self._node is None:
            self._node = yaml.compose(self._text, Loader=_LOADER)
        return line_of(self._node, loc)


def load_model_file(path: Path, model: type[M], error: type[VlmbenchError], kind: str) -> tuple[M, Lines]:
    """`path` parsed and validated as `model`, with its `Lines` for later line lookups. Malformed
    YAML, a non-mapping or the first validation error raise `error` naming file and line."""
    text = read_utf8(path, error)
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise error(located(path, line, f"malformed YAML: {getattr(err, 'problem', err)}")) from None
    if not isinstance(data, dict):
        raise error(located(path, 1, f"a {kind} must be a YAML mapping"))
    lines = Lines(text)
    try:
        return model.model_validate(data), lines
    except ValidationError as err:
        raise error(located(path, lines.of(err.errors()[0]["loc"]), first_validation_error(err))) from None
