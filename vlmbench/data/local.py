"""The local dataset format: `items.jsonl` (one item a line) with image files beside it.

`{"id", "question", "choices": [..] | null, "answer", "answer_type", "image": "<file>" | null,
"images": [..] (several images), "meta": {...}}`. Errors name the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vlmbench.data.paths import confined_image
from vlmbench.errors import DataError, located, utf8_text
from vlmbench.schema import AnswerType, ImageRef, Sample

REQUIRED = ("id", "question", "answer")
_TYPES = {t.value for t in AnswerType}


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a bad line is an error naming file and line."""
    try:
        handle = path.open("rb")  # decoded line by line, so a bad byte is reported with its line
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            line = utf8_text(raw, path, number)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(
                    located(path, number, f"malformed JSON ({err.msg} at column {err.colno})")
                ) from None
            if not isinstance(obj, dict):
                raise DataError(located(path, number, "expected a JSON object"))
            yield number, obj


def item_images(item: dict[str, Any], root: Path, where: str) -> list[ImageRef]:
    """The item's image references. Not opened here: scoring never needs pixels, and in an eval a
    missing, corrupt, too large or out-of-folder image fails that one sample (`ImageRef.load` names
    the file or the item) instead of the whole run."""
    files = item.get("images") or ([item["image"]] if item.get("image") else [])
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        raise DataError(f"{where}: image / images must be file names relative to {root}")
    return [confined_image(root, name, f"{where} (item {item.get('id')!r})") for name in files]


def item_to_sample(item: dict[str, Any], root: Path, where: str, default_type: str | None = None) -> Sample:
    """One local item as a Sample; `where` is `file:line` for error messages."""
    for key in REQUIRED:
        if item.get(key) is None:
            raise DataError(f"{where}: missing field {key!r}")
    kind = item.get("answer_type") or default_type
    if kind not in _TYPES:
        raise DataError(f"{where}: answer_type {kind!r} is not one of {sorted(_TYPES)}")
    images = item_images(item, root, where)
    choices = item.get("choices")
    if choices is not None and (not isinstance(choices, list) or not choices):
        raise DataError(f"{where}: choices must be a non-empty list or null")
    sample = Sample(
        id=str(item["id"]),
        question=str(item["question"]),
        answer=str(item["answer"]),
        answer_type=AnswerType(kind),
        images=images,
        choices=[str(c) for c in choices] if choices is not None else None,
        meta=dict(item.get("meta") or {}),
    )
    if sample.answer_type is AnswerType.MULTIPLE_CHOICE:
        if sample.answer_index is None or sample.choices is None:
            raise DataError(f"{where}: answer {sample.answer!r} is not one of the choices")
        chosen = sample.choices[sample.answer_index]
        if chosen != sample.answer:  # meta.answer_index / answer_label points at another option
            raise DataError(
                f"{where}: answer {sample.answer!r} differs from choice {sample.answer_letter} ({chosen!r}) "
                "named by meta.answer_index / meta.answer_label"
            )
    return sample


def load_items_jsonl(path: Path, default_type: str | None = None) -> list[Sample]:
    """All items of an `items.jsonl`; duplicate ids are errors naming both lines."""
    seen: dict[str, int] = {}
    samples: list[Sample] = []
    for number, item in read_jsonl(path):
        sample = item_to_sample(item, path.parent, located(path, number, "").rstrip(": "), default_type)
        if sample.id in seen:
            raise DataError(
                located(path, number, f"duplicate id {sample.id!r} (first on line {seen[sample.id]})")
            )
        seen[sample.id] = number
        samples.append(sample)
    return samples
