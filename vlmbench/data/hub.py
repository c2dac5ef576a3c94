"""Loading a task from the Hugging Face hub through `datasets` (the `[hub]` extra).

Images are cast to `Image(decode=False)`, so rows carry encoded bytes and pixels are decoded only when
a model needs them. `path` may also name a local copy of the hub dataset (a folder of parquet files,
e.g. from `huggingface-cli download`), which is how air-gapped machines and the tests use this code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from vlmbench.data.hub_schema import check_features, describe
from vlmbench.data.online import hub_offline
from vlmbench.data.paths import resolves_inside
from vlmbench.errors import DataError, VlmbenchError
from vlmbench.schema import LETTERS, AnswerType, ImageRef, Sample
from vlmbench.taskspec import FieldMap, HubSource, ImageJoin, TaskSpec


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise VlmbenchError(
            "loading from the HF hub needs the `datasets` package: pip install 'vlmbench[hub]'"
        ) from None
    return datasets


def _lazy_images(dataset: Any, columns: list[str]) -> Any:
    datasets = _datasets()
    for column in columns:
        feature = dataset.features.get(column)
        if isinstance(feature, datasets.Image):
            dataset = dataset.cast_column(column, datasets.Image(decode=False))
        elif hasattr(feature, "feature") and isinstance(feature.feature, datasets.Image):
            dataset = dataset.cast_column(column, type(feature)(datasets.Image(decode=False)))
    return dataset


class ImageRoots(NamedTuple):
    """Where a hub image given by path only may live: the local copies named (`path`, a local
    `hub.path`), which relative paths are joined to, and the `datasets` / hub caches that downloads
    and extracted archives land in (absolute paths only)."""

    local: tuple[Path, ...] = ()
    caches: tuple[Path, ...] = ()


NO_ROOTS = ImageRoots()  # hub images by path only are all refused


def image_roots(*paths: str | None) -> ImageRoots:
    """The roots of one load: each of `paths` that is a local folder (others are hub ids), the caches."""
    datasets = _datasets()
    from huggingface_hub import constants

    local = tuple(Path(p) for p in paths if p and Path(p).is_dir())
    return ImageRoots(local, (Path(datasets.config.HF_DATASETS_CACHE), Path(constants.HF_HUB_CACHE)))


def _confined_path(name: str, roots: ImageRoots, where: str) -> ImageRef:
    """A row's image path, relative to a local copy or absolute, accepted only inside the roots: a row
    naming `/etc/passwd` or `../../x` fails its own sample when loaded, and nothing is read."""
    candidate = Path(name)
    if candidate.is_absolute():
        if resolves_inside(candidate, [*roots.local, *roots.caches]):
            return ImageRef(path=name)
    else:
        for root in roots.local:
            if resolves_inside(root / candidate, [root]):
                return ImageRef(path=str(root / candidate))
    folders = ", ".join(str(r) for r in [*roots.local, *roots.caches])
    return ImageRef(
        refused=f"{where}: image path {name!r} is outside the dataset folders ({folders}); refused"
    )


def _image_ref(value: Any, where: str, roots: ImageRoots) -> ImageRef:
    """Embedded bytes are used as they are (the path beside them is only a name); a path alone must
    stay inside `roots`."""
    if isinstance(value, dict) and value.get("bytes"):
        return ImageRef(path=value.get("path"), data=value["bytes"])
    if isinstance(value, dict) and isinstance(value.get("path"), str) and value["path"]:
        return _confined_path(value["path"], roots, where)
    if isinstance(value, str) and value:
        return _confined_path(value, roots, where)
    raise DataError(f"{where}: unreadable image value of type {type(value).__name__}")


def _answer(
    row: dict[str, Any], fields: FieldMap, choices: list[str] | None, where: str
) -> tuple[str, int | None]:
    raw = row.get(fields.answer)
    if raw is None:
        raise DataError(f"{where}: missing answer column {fields.answer!r}")
    if fields.answer_format == "boolean":
        return _boolean(raw, fields.answer, where), None
    if fields.answer_format == "text":
        return str(raw), None
    text = str(raw).strip()
    if choices is None:
        raise DataError(f"{where}: answer given as {fields.answer_format} but the row has no choices")
    if fields.answer_format in ("letter", "letter_or_index") and len(text) == 1 and text.upper() in LETTERS:
        index = LETTERS.index(text.upper())
    elif fields.answer_format in ("index", "letter_or_index") and text.lstrip("-").isdigit():
        index = int(text)
    else:
        raise DataError(
            f"{where}: column {fields.answer!r}: answer {raw!r} is not a valid {fields.answer_format}"
        )
    if not 0 <= index < len(choices):
        raise DataError(
            f"{where}: column {fields.answer!r}: answer {raw!r} points outside the {len(choices)} choices"
        )
    return choices[index], index


_BOOLEAN = {"true": "True", "false": "False"}


def _boolean(raw: Any, column: str, where: str) -> str:
    """A True/False label as the scorer's gold ("True" / "False"). 0/1 are refused: which of them means
    true is the uploader's choice, and guessing wrong would score every item backwards."""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, str) and raw.strip().lower() in _BOOLEAN:
        return _BOOLEAN[raw.strip().lower()]
    raise DataError(f"{where}: column {column!r} holds {raw!r}, not a True/False label")


_INTEGER = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d*\.\d+")


def _item_answer_type(
    row: dict[str, Any], fields: FieldMap, choices: list[str] | None, answer: str, where: str
) -> AnswerType:
    """A per-item task's answer type, normalised as the local format does: multiple choice when the row
    has choices, else the row's answer-type column, else the answer's form (integer, float, list, text)."""
    if choices is not None:
        return AnswerType.MULTIPLE_CHOICE
    if fields.answer_type:
        raw = row.get(fields.answer_type)
        try:
            return AnswerType(str(raw))
        except ValueError:
            known = sorted(t.value for t in AnswerType)
            raise DataError(f"{where}: answer type {raw!r} is not one of {known}") from None
    text = answer.strip()
    if _INTEGER.fullmatch(text):
        return AnswerType.INTEGER
    if _FLOAT.fullmatch(text):
        return AnswerType.FLOAT
    if text.startswith("[") and text.endswith("]"):
        return AnswerType.LIST
    return AnswerType.TEXT


def _maybe_json(value: Any) -> Any:
    """Some hub uploads store nested annotations as JSON strings (GQA); keep both forms readable."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _meta(row: dict[str, Any], fields: FieldMap, where: str) -> dict[str, Any]:
    """Meta from its columns; a value map is exhaustive, so a value it does not list (a new split name in
    a re-upload) is an error rather than an id or breakdown nobody expected."""
    meta = {key: _maybe_json(row.get(column)) for key, column in fields.meta.items()}
    for key, mapping in fields.value_maps.items():
        if key not in meta:
            continue
        if str(meta[key]) not in mapping:
            column = fields.meta[key]
            raise DataError(f"{where}: column {column!r} holds {meta[key]!r}, not one of {sorted(mapping)}")
        meta[key] = mapping[str(meta[key])]
    return meta


def _ident(row: dict[str, Any], index: int, group_index: int, meta: dict[str, Any], fields: FieldMap) -> str:
    """The id column, or the template over the row, its index, its place in its group and its meta."""
    if fields.id:
        return str(row[fields.id])
    return fields.id_template.format(**{**row, "index": index, "group_index": group_index, "meta": meta})


def row_to_sample(
    row: dict[str, Any],
    index: int,
    spec: TaskSpec,
    hub: HubSource,
    join: Callable[[Any], ImageRef] | None,
    roots: ImageRoots = NO_ROOTS,
    group_index: int | None = None,
) -> Sample:
    fields = hub.fields
    where_row = f"{describe(hub)} row {index}"
    meta = _meta(row, fields, where_row)
    ident = _ident(row, index, index if group_index is None else group_index, meta, fields)
    choices = [str(c) for c in row[fields.choices]] if fields.choices and row.get(fields.choices) else None
    answer, answer_index = _answer(row, fields, choices, where_row)
    images: list[ImageRef] = []
    for column in fields.images:
        value = row.get(column)
        for item in value if isinstance(value, list) else ([value] if value is not None else []):
            images.append(_image_ref(item, where_row, roots))
    if join is not None:
        images.append(join(row[hub.images_from.question_key]))  # type: ignore[union-attr]
    if fields.references and row.get(fields.references):
        meta["references"] = [str(r) for r in row[fields.references]]
    kind = spec.answer_type
    if kind == "per_item":
        kind = _item_answer_type(row, fields, choices, answer, where_row)
    if answer_index is not None:
        meta.setdefault("answer_index", answer_index)
    return Sample(
        ident, str(row[fields.question]), answer, AnswerType(kind), images, choices, meta, answer_index
    )


class HubSamples(list[Sample]):
    """The samples of one hub load, with where they came from (`source`): dataset, config, split and the
    commit actually read. The protocol records it, so a hub run names its data revision."""

    source: dict[str, Any]


def fetch(path: str, name: str | None, split: str, revision: str | None) -> Any:
    """The one call that reads a dataset (hub id or local copy); tests replace it with in-memory tables.
    A hub id on a machine that cannot reach the hub is read from the hub cache only, without retries."""
    if not Path(path).is_dir():
        hub_offline()  # found out once; offline, datasets reads its cache without network retries
    return _datasets().load_dataset(path, name, split=split, revision=revision)


def _offline_hint(spec: TaskSpec, path: str | None) -> str:
    """What to do when a hub load failed on a machine without the hub ("" when the hub is reachable)."""
    reason = None if path else hub_offline()
    if reason is None:
        return ""
    folder = spec.source.local.dir
    return (
        f"; the HF hub is not reachable ({reason}) and the dataset is not in the local hub cache: pass "
        f"--data-dir DIR, a folder holding {folder}/{spec.source.local.file} (e.g. ../shared/data)"
    )


_SHA = re.compile(r"[0-9a-f]{40}")


def resolved_revision(dataset: Any) -> str | None:
    """The commit a hub load read. `datasets` keys its cache folder by the commit it resolved
    (`<cache>/<owner>___<name>/<config>/<version>/<commit>/`), so it is read back from the cache files."""
    for entry in getattr(dataset, "cache_files", None) or []:
        for part in Path(str(entry.get("filename", ""))).parts:
            if _SHA.fullmatch(part):
                return part
    return None


def _source(hub: HubSource, path: str | None, dataset: Any) -> dict[str, Any]:
    local = bool(path) or Path(hub.path).is_dir()
    revision = hub.revision or (None if local else resolved_revision(dataset))
    return {
        "hub": hub.path,
        "name": hub.name,
        "split": hub.split,
        "revision": revision,
        "pinned": hub.revision is not None,
        **({"local_copy": True} if local else {}),
    }


def _image_join(
    join: ImageJoin, revision: str | None, path: str | None = None, roots: ImageRoots = NO_ROOTS
) -> Callable[[Any], ImageRef]:
    try:
        table = fetch(path or join.path, join.name, join.split, revision)
    except Exception as err:  # as in load_hub_samples: surface the essentials
        where = f"{path or join.path} ({join.name}, {join.split})"
        raise VlmbenchError(f"cannot load images from {where}: {err}") from err
    if join.key not in table.features or join.image not in table.features:
        raise DataError(
            f"{path or join.path} (config {join.name}, split {join.split}): needs columns {join.key!r} and "
            f"{join.image!r}; the dataset has {sorted(table.features)}"
        )
    table = _lazy_images(table, [join.image])
    positions = {str(key): i for i, key in enumerate(table[join.key])}

    def lookup(key: Any) -> ImageRef:
        if str(key) not in positions:
            raise DataError(f"{join.path}[{join.name}]: no image with {join.key}={key!r}")
        return _image_ref(table[positions[str(key)]][join.image], f"{join.path} image {key}", roots)

    return lookup


def load_hub_samples(spec: TaskSpec, path: str | None = None, limit: int | None = None) -> HubSamples:
    """The task's split from the hub (or from `path`, a local copy with the hub's layout). The columns are
    checked against the field mapping first; a row that cannot be read is an error naming dataset, split,
    row and column - never a silently wrong gold answer."""
    hub = spec.source.hub
    if hub is None:
        raise VlmbenchError(f"task {spec.name!r} has no hub source: {spec.source.hub_note or 'use --data'}")
    _datasets()
    try:
        dataset = fetch(path or hub.path, hub.name, hub.split, hub.revision)
    except Exception as err:  # hub errors are many and nested; surface the essentials
        hint = _offline_hint(spec, path)
        raise VlmbenchError(f"cannot load {path or hub.path} ({hub.name}, {hub.split}): {err}{hint}") from err
    check_features(dataset.features, hub, _datasets(), path)
    dataset = _lazy_images(dataset, hub.fields.images)
    # a local copy of the question dataset's repository holds the image config too (GQA)
    join_path = path if hub.images_from and hub.images_from.path == hub.path else None
    roots = image_roots(path, hub.path, hub.images_from.path if hub.images_from else None)
    join = _image_join(hub.images_from, hub.revision, join_path, roots) if hub.images_from else None
    samples = HubSamples()
    samples.source = _source(hub, path, dataset)
    seen: set[str] = set()
    groups: dict[str, int] = {}
    for index, row in enumerate(dataset):
        group = str(row.get(hub.fields.id_group)) if hub.fields.id_group else ""
        group_index = groups.get(group, 0)
        groups[group] = group_index + 1  # counted before require_image drops a row: places in the source
        if hub.require_image and not any(row.get(c) for c in hub.fields.images):
            continue
        sample = row_to_sample(row, index, spec, hub, join, roots, group_index)
        if sample.id in seen:
            raise DataError(f"{describe(hub, path)} row {index}: duplicate id {sample.id!r}")
        seen.add(sample.id)
        samples.append(sample)
        if limit is not None and len(samples) >= limit:
            break
    return samples
