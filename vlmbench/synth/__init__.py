"""Procedural visual reasoning tasks: unlimited, verifiable by construction, difficulty-controlled.

`generate(name, n, difficulty, seed)` returns Samples like any loader; `export(...)` writes them in the
local dataset format (`items.jsonl` + `images/`), so they can be inspected, shared and trained on.
"""

from __future__ import annotations

import json
from pathlib import Path

from vlmbench.schema import AnswerType, ImageRef, Sample
from vlmbench.synth.base import (
    DIFFICULTIES,
    Generator,
    SynthError,
    SynthItem,
    check_request,
    item_rng,
    png_bytes,
)

_GENERATORS: dict[str, str] = {
    "chart": "vlmbench.synth.chart:ChartGenerator",
    "geometry": "vlmbench.synth.geometry:GeometryGenerator",
    "scene": "vlmbench.synth.scene:SceneGenerator",
    "shapes": "vlmbench.synth.shapes:ShapesGenerator",
    "table_math": "vlmbench.synth.table_math:TableMathGenerator",
}


def generator_names() -> list[str]:
    return sorted(_GENERATORS)


def get_generator(name: str) -> Generator:
    if name not in _GENERATORS:
        raise SynthError(f"unknown generator {name!r}; known: {', '.join(generator_names())}")
    module_name, _, class_name = _GENERATORS[name].partition(":")
    import importlib

    return getattr(importlib.import_module(module_name), class_name)()


def to_sample(item: SynthItem, ident: str, provenance: dict[str, object]) -> Sample:
    # Through JSON once, so the in-memory item equals its export (tuples become lists) and a
    # structure that cannot be exported fails here, at generation.
    meta = json.loads(json.dumps({**item.meta, **provenance, "structure": item.structure}))
    return Sample(
        id=ident,
        question=item.question,
        answer=item.answer,
        answer_type=AnswerType(item.answer_type),
        images=[ImageRef(data=png_bytes(item.image))],
        choices=item.choices,
        meta=meta,
    )


def generate(name: str, n: int, difficulty: int = 1, seed: int = 0, start: int = 0) -> list[Sample]:
    """Items `start .. start+n-1` of generator `name` at `difficulty` for `seed`."""
    check_request(difficulty, n, seed)
    generator = get_generator(name)
    samples = []
    for index in range(start, start + n):
        rng = item_rng(generator.name, generator.version, seed, difficulty, index)
        item = generator.make(rng, difficulty)
        provenance = {
            "generator": generator.name,
            "generator_version": generator.version,
            "difficulty": difficulty,
            "seed": seed,
            "index": index,
        }
        samples.append(to_sample(item, f"{generator.name}-d{difficulty}-s{seed}-{index:06d}", provenance))
    return samples


def export(samples: list[Sample], out: Path, overwrite: bool = False) -> Path:
    """Write samples in the local dataset format; returns the items.jsonl path."""
    out = Path(out)
    if (out / "items.jsonl").exists() and not overwrite:
        raise SynthError(f"{out / 'items.jsonl'} exists; choose another folder or overwrite it explicitly")
    try:
        (out / "images").mkdir(parents=True, exist_ok=True)
        items = out / "items.jsonl"
        with items.open("w", encoding="utf-8") as handle:
            for sample in samples:
                names = []
                for k, image in enumerate(sample.images):
                    name = f"images/{sample.id}{'' if k == 0 else f'_{k}'}.png"
                    (out / name).write_bytes(image.data or b"")
                    names.append(name)
                row = {
                    "id": sample.id,
                    "question": sample.question,
                    "choices": sample.choices,
                    "answer": sample.answer,
                    "answer_type": sample.answer_type.value,
                    "image": names[0] if len(names) == 1 else None,
                    **({"images": names} if len(names) > 1 else {}),
                    "meta": sample.meta,
                }
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    except OSError as err:
        raise SynthError(f"cannot write the export to {out}: {err.strerror or err}") from err
    return items


def export_task(
    task: str,
    out: Path,
    n: int | None = None,
    difficulty: int | None = None,
    seed: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Generate a procedural task's items (task defaults unless given) and export them to `out`."""
    from vlmbench.registry import get_task

    spec = get_task(task)
    if spec.source.synth is None:
        raise SynthError(f"task {task!r} is not procedural; procedural tasks: {', '.join(synth_tasks())}")
    synth = spec.source.synth
    samples = generate(
        synth.generator,
        synth.n if n is None else n,
        synth.difficulty if difficulty is None else difficulty,
        synth.seed if seed is None else seed,
    )
    return export(samples, out, overwrite=overwrite)


def synth_tasks() -> list[str]:
    from vlmbench.registry import all_tasks

    return [t.name for t in all_tasks() if t.source.synth is not None]


__all__ = [
    "DIFFICULTIES",
    "Generator",
    "SynthError",
    "SynthItem",
    "export",
    "export_task",
    "generate",
    "generator_names",
    "get_generator",
]
