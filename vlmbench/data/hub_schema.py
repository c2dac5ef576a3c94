"""A hub dataset's columns checked against the task's field mapping before any row is read.

A renamed column, an image stored as a path string where the card says `image`, or an answer column of an
unexpected type would otherwise become wrong gold answers or empty images and be scored. The check runs
on the dataset's `features`, so it costs nothing per row; each error names the dataset, split and column.
"""

from __future__ import annotations

from string import Formatter
from typing import Any

from vlmbench.errors import DataError
from vlmbench.taskspec import FieldMap, HubSource


def describe(hub: HubSource, path: str | None = None) -> str:
    """`dataset (config, split S)`: the words every hub error starts with."""
    config = f"config {hub.name}, " if hub.name else ""
    return f"{path or hub.path} ({config}split {hub.split})"


def template_columns(template: str) -> set[str]:
    """Row columns an id template reads (`index`, `group_index` and `meta[...]` are not columns)."""
    names = {field.split("[")[0].split(".")[0] for _, field, _, _ in Formatter().parse(template) if field}
    return names - {"index", "group_index", "meta"}


def mapped_columns(fields: FieldMap) -> dict[str, str]:
    """column -> the mapping entry that names it, for error messages."""
    named: dict[str, str] = {fields.question: "question", fields.answer: "answer"}
    optional = {
        "id": fields.id,
        "choices": fields.choices,
        "answer_type": fields.answer_type,
        "references": fields.references,
        "id_group": fields.id_group,
    }
    named.update({column: key for key, column in optional.items() if column})
    named.update({column: "images" for column in fields.images})
    named.update({column: f"meta.{key}" for key, column in fields.meta.items()})
    if not fields.id:
        named.update({column: "id_template" for column in template_columns(fields.id_template)})
    return named


def _is_image(feature: Any, datasets: Any) -> bool:
    """An image column: `Image`, a {bytes, path} struct (an `Image(decode=False)` copy), or a path string."""
    if isinstance(feature, datasets.Image):
        return True
    if isinstance(feature, dict):
        return set(feature) >= {"bytes", "path"}
    return isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string")


def _inner(feature: Any, datasets: Any) -> Any | None:
    """The element feature of a list column, else None."""
    for kind in ("List", "LargeList", "Sequence"):
        cls = getattr(datasets, kind, None)
        if cls is not None and isinstance(feature, cls):
            return feature.feature
    return feature[0] if isinstance(feature, list) and feature else None


def _dtype(feature: Any, datasets: Any) -> str:
    if isinstance(feature, datasets.Value):
        return feature.dtype
    if isinstance(feature, datasets.ClassLabel):
        return "class_label"
    return type(feature).__name__


_TEXT = ("string", "large_string")
_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _answer_types(answer_format: str) -> tuple[str, ...]:
    """The column dtypes an answer format can be read from."""
    if answer_format in ("index", "letter_or_index"):
        return (*_TEXT, *_INTS)
    if answer_format == "boolean":
        return (*_TEXT, "bool")
    return _TEXT if answer_format == "letter" else (*_TEXT, *_INTS, "float32", "float64", "bool")


def check_features(features: Any, hub: HubSource, datasets: Any, path: str | None = None) -> None:
    """Raise DataError when a mapped column is missing or of a type the mapping cannot read."""
    fields = hub.fields
    source = describe(hub, path)
    available = sorted(features)
    for column, role in mapped_columns(fields).items():
        if column not in features:
            raise DataError(
                f"{source}: column {column!r} (fields.{role}) is missing; the dataset has {available}"
            )
    for column in fields.images:
        feature = features[column]
        element = _inner(feature, datasets)
        if not _is_image(feature, datasets) and not (element is not None and _is_image(element, datasets)):
            raise DataError(
                f"{source}: column {column!r} (fields.images) is {feature!r}, not an image column"
            )
    if fields.choices:
        element = _inner(features[fields.choices], datasets)
        if element is None or _dtype(element, datasets) not in _TEXT:
            raise DataError(
                f"{source}: column {fields.choices!r} (fields.choices) is {features[fields.choices]!r}, "
                "not a list of strings"
            )
    answer = _dtype(features[fields.answer], datasets)
    if answer == "class_label":
        raise DataError(
            f"{source}: column {fields.answer!r} (fields.answer) is a ClassLabel; its integer codes would be "
            "read as answers - map the label names explicitly"
        )
    if answer not in _answer_types(fields.answer_format):
        raise DataError(
            f"{source}: column {fields.answer!r} (fields.answer) has type {answer}, which answer_format "
            f"{fields.answer_format!r} cannot read"
        )
    for column in (fields.id, fields.question):
        if column and _dtype(features[column], datasets) not in (*_TEXT, *_INTS):
            raise DataError(f"{source}: column {column!r} has type {features[column]!r}, expected a string")
