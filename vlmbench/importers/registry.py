"""Format name -> reader: one small module per harness, each a `(path, IdMap, ImportOptions) ->
ForeignFile` function."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vlmbench.errors import VlmbenchError
from vlmbench.importers import lm_eval, lmms_eval, mathvista, vlmevalkit
from vlmbench.importers.base import ForeignFile, IdMap, ImportOptions

Reader = Callable[[Path, IdMap, ImportOptions], ForeignFile]

FORMATS: dict[str, Reader] = {
    mathvista.NAME: mathvista.read,
    lmms_eval.NAME: lmms_eval.read,
    vlmevalkit.NAME: vlmevalkit.read,
    lm_eval.NAME: lm_eval.read,
}


def get_reader(name: str) -> Reader:
    try:
        return FORMATS[name]
    except KeyError:
        raise VlmbenchError(f"unknown format {name!r}; known: {', '.join(sorted(FORMATS))}") from None


def read_foreign(
    name: str, path: str | Path, sample_ids: list[str], options: ImportOptions | None = None
) -> ForeignFile:
    """Read `path` in format `name`, mapping its records to `sample_ids` (the task's, in dataset order)."""
    options = options or ImportOptions()
    return get_reader(name)(Path(path), IdMap(sample_ids, options, name), options)
