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


def load_model_file(path: Path, model: type[M], error: type[VlmbenchError], kind: str) -> tuple[M, yaml.Node]:
    """`path` parsed and validated as `model`; the node tree comes back for later line lookups.
    Malformed YAML, a non-mapping or the first validation error raise `error` naming file and line."""
    text = read_utf8(path, error)
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise error(located(path, line, f"malformed YAML: {getattr(err, 'problem', err)}")) from None
    if not isinstance(data, dict):
        raise error(located(path, 1, f"a {kind} must be a YAML mapping"))
    try:
        return model.model_validate(data), node
    except ValidationError as err:
        line = line_of(node, err.errors()[0]["loc"])
        raise error(located(path, line, first_validation_error(err))) from None
