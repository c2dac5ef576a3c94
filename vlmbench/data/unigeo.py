"""UniGeo calculation problems from the official release (`calculation_test.pk`, chen-judge/UniGeo).

The release is a pickle of dicts: `English_problem`, `choice_nums` (4 numbers), `label` (0-3), `id`,
and `image` (a grayscale numpy array). No hub copy of the test split exists.

A pickle is a program: `pickle.load` calls whatever callables the file names (`os.system` included).
So the file is read by `SafeUnpickler`, which resolves only the globals such a release needs - the
containers and numbers are pickle opcodes, numpy arrays need `numpy.ndarray`, `numpy.dtype` and
numpy's own reconstructors (under `numpy.core` for files written by numpy 1, `numpy._core` by 2),
protocol 0-2 files spell bytes as `_codecs.encode` and sets as `set` - and refuses any other global
with a `DataError` naming the file and the global, before it can run.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, BinaryIO

from vlmbench.errors import DataError
from vlmbench.extract.numbers import format_number
from vlmbench.schema import AnswerType, ImageRef, Sample

_NUMPY = {
    (f"{core}.{module}", name)
    for core in ("numpy.core", "numpy._core")
    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))
}
ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        *_NUMPY,
        ("_codecs", "encode"),  # bytes (an array's buffer) in protocols 0-2
        *((module, name) for module in ("builtins", "__builtin__") for name in ("set", "frozenset")),
    }
)


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that admits only `ALLOWED_GLOBALS`: plain data and numpy arrays, never code."""

    def __init__(self, handle: BinaryIO, path: Path) -> None:
        super().__init__(handle)
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise DataError(
                f"{self.path}: refused to unpickle global {module}.{name} (a UniGeo file holds only "
                "plain data and numpy arrays; this one would run code)"
            )
        if module.startswith("numpy"):
            try:
                import numpy  # noqa: F401  (the arrays of the release need it)
            except ImportError:
                raise DataError(f"{self.path}: reading UniGeo's image arrays needs numpy") from None
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise DataError(f"{self.path}: refused a persistent id in the pickle (not a UniGeo release)")


def safe_load(path: Path) -> Any:
    """The object a pickle file holds, read by `SafeUnpickler`."""
    with path.open("rb") as handle:
        return SafeUnpickler(handle, path).load()


def _array_loader(array: Any, where: str) -> ImageRef:
    """A lazy image from a diagram array; its size is checked against the decoding cap first."""
    shape = getattr(array, "shape", None)
    if shape is None or len(shape) not in (2, 3):
        kind = type(array).__name__
        raise DataError(f"{where}: image must be a 2-D or 3-D array, got {kind} of shape {shape}")

    def load() -> Any:
        import numpy as np
        from PIL import Image

        from vlmbench.data.images import check_pixels

        check_pixels((int(shape[1]), int(shape[0])), where)
        return Image.fromarray(np.asarray(array).astype("uint8"))

    return ImageRef(loader=load)


def load_unigeo_pickle(path: Path) -> list[Sample]:
    try:
        records = safe_load(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except DataError:
        raise
    except Exception as err:
        raise DataError(f"{path}: not a readable UniGeo pickle ({err})") from err
    if not isinstance(records, list):
        raise DataError(f"{path}: expected a list of problems, got {type(records).__name__}")
    samples: list[Sample] = []
    seen: set[str] = set()
    for position, record in enumerate(records):
        where = f"{path} record {position}"
        if not isinstance(record, dict):
            raise DataError(f"{where}: expected a dict, got {type(record).__name__}")
        for key in ("English_problem", "choice_nums", "label"):
            if key not in record:
                raise DataError(f"{where}: missing field {key!r}")
        ident = str(record.get("id", position))
        if ident in seen:
            raise DataError(f"{where}: duplicate id {ident!r}")
        seen.add(ident)
        try:
            choices = [format_number(float(c)) for c in record["choice_nums"]]
            label = int(record["label"])
        except (TypeError, ValueError) as err:
            raise DataError(f"{where}: choice_nums must be numbers and label an integer ({err})") from None
        if not 0 <= label < len(choices):
            raise DataError(f"{where}: label {label} outside the {len(choices)} choices")
        images = [_array_loader(record["image"], where)] if record.get("image") is not None else []
        meta = {k: record[k] for k in ("subtype", "problem_type") if k in record}
        samples.append(
            Sample(
                ident,
                str(record["English_problem"]),
                choices[label],
                AnswerType.MULTIPLE_CHOICE,
                images,
                choices,
                {**meta, "answer_index": label},
                label,
            )
        )
    return samples
