"""UniGeo calculation problems from the official release (`calculation_test.pk`, chen-judge/UniGeo).

The release is a pickle of dicts: `English_problem`, `choice_nums` (4 numbers), `label` (0-3), `id`,
and `image` (a grayscale array). No hub copy of the test split exists. Unpickling runs code from the
file: load only the official release or files you made yourself.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from vlmbench.errors import DataError
from vlmbench.extract.numbers import format_number
from vlmbench.schema import AnswerType, ImageRef, Sample


def _array_loader(array: Any) -> ImageRef:
    def load() -> Any:
        import numpy as np
        from PIL import Image

        return Image.fromarray(np.asarray(array).astype("uint8"))

    return ImageRef(loader=load)


def load_unigeo_pickle(path: Path) -> list[Sample]:
    try:
        with path.open("rb") as handle:
            records = pickle.load(handle)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except Exception as err:
        raise DataError(f"{path}: not a readable UniGeo pickle ({err})") from err
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
        images = [_array_loader(record["image"])] if record.get("image") is not None else []
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
