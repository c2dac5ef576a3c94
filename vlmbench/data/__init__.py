"""Data loading: the same `Sample`s from a local folder (`items.jsonl` + images) or the HF hub."""

from __future__ import annotations

from pathlib import Path

from vlmbench.data import vcr
from vlmbench.data.hub import load_hub_samples
from vlmbench.data.local import load_items_jsonl
from vlmbench.data.paths import resolves_inside
from vlmbench.data.unigeo import load_unigeo_pickle
from vlmbench.errors import DataError
from vlmbench.schema import Sample
from vlmbench.taskspec import TaskSpec

ITEMS = "items.jsonl"


def _task_file(spec: TaskSpec) -> str:
    """The file a task came from, for errors about what the task file names."""
    from vlmbench.registry import task_index

    return str(task_index().get(spec.name, f"task {spec.name!r}"))


def _confined_folder(spec: TaskSpec, data: Path, folder: Path, key: str) -> None:
    """A folder the task file names must resolve (symlinks followed) inside the data root."""
    if folder.exists() and not resolves_inside(folder, [data]):
        raise DataError(
            f"{_task_file(spec)}: source.local.{key} {folder} resolves to {folder.resolve()}, "
            f"outside the data root {data.resolve()}; refused"
        )


def local_path(spec: TaskSpec, data: Path) -> Path:
    """The task's data file under `data`: an `items.jsonl` (the local format) or the benchmark's own
    release file (`val.jsonl` for VCR, `calculation_test.pk` for UniGeo), in `data/<dir>/` or `data/`.
    Neither the folder nor the file may lead outside `data` (a `..`, a symlink)."""
    local = spec.source.local
    names = [ITEMS] if local.file == ITEMS else [ITEMS, local.file]
    _confined_folder(spec, data, data / local.dir, "dir")
    for folder in (data / local.dir, data):
        for name in names:
            if (folder / name).is_file():
                if not resolves_inside(folder / name, [folder]):
                    raise DataError(f"{folder / name}: resolves outside {folder} (a symlink?); refused")
                return folder / name
    if data.is_file():
        return data
    wanted = " or ".join(names)
    raise DataError(f"{data}: no {wanted} for task {spec.name!r} (looked in {data / local.dir} and {data})")


def _has_local(spec: TaskSpec, data: Path) -> bool:
    try:
        local_path(spec, data)
    except DataError:
        return False
    return True


def load_local_samples(spec: TaskSpec, data: Path) -> list[Sample]:
    local = spec.source.local
    path = local_path(spec, Path(data))
    if path.name != ITEMS and local.format == "vcr_jsonl":
        images = path.parent / local.images_dir if local.images_dir else None
        images = images if images and images.is_dir() else None
        if images is not None:
            _confined_folder(spec, path.parent, images, "images_dir")
        return vcr.load_official(path, images, style=local.object_refs, draw_boxes=local.draw_boxes)
    if path.name != ITEMS and local.format == "unigeo_pickle":
        return load_unigeo_pickle(path)
    default = spec.answer_type if spec.answer_type != "per_item" else None
    return load_items_jsonl(path, default_type=getattr(default, "value", default))


def load_samples(
    spec: TaskSpec,
    data: str | Path | None = None,
    limit: int | None = None,
    synth: dict[str, int] | None = None,
) -> list[Sample]:
    """A task's samples: from `data` (a local folder) when it holds the task; else generated
    (procedural tasks, `synth` overriding the task's difficulty / n / seed); else from the HF hub."""
    if data is not None and spec.source.synth is not None and not _has_local(spec, Path(data)):
        data = None  # a data root without this procedural task's export: generate it
    if data is not None:
        samples = load_local_samples(spec, Path(data))
        samples = samples[:limit] if limit is not None else samples
    elif spec.source.synth is not None:
        from vlmbench.synth import generate

        options = {**spec.source.synth.model_dump(), **(synth or {})}
        n = min(options["n"], limit) if limit is not None else options["n"]
        samples = generate(options["generator"], n, options["difficulty"], options["seed"])
    else:
        samples = load_hub_samples(spec, limit=limit)
    if spec.item_expansion == "vcr":
        samples = [part for sample in samples for part in vcr.expand(sample)]
    return samples


__all__ = ["load_hub_samples", "load_items_jsonl", "load_local_samples", "load_samples", "load_unigeo_pickle"]
