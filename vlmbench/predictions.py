"""Predictions files: JSONL with `{"id", "prediction"}` per line (the output of every eval, and what other
harnesses can export). Optional per line: `truncated` (bool) or `finish_reason` ("length" means the
generation hit its token limit, so only explicit answer markers count)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vlmbench.data.local import read_jsonl
from vlmbench.errors import DataError, PredictionsError, located


@dataclass(frozen=True)
class Prediction:
    id: str
    text: str
    truncated: bool
    line: int


def read_predictions(path: Path) -> dict[str, Prediction]:
    """Predictions by id. A malformed line, a missing field or a repeated id is an error naming the line."""
    found: dict[str, Prediction] = {}
    try:
        for number, obj in read_jsonl(path):
            for key in ("id", "prediction"):
                if key not in obj:
                    raise PredictionsError(located(path, number, f"missing field {key!r}"))
            text = obj["prediction"]
            if text is None:
                text = ""
            if not isinstance(text, str):
                raise PredictionsError(located(path, number, "field 'prediction' must be a string"))
            ident = str(obj["id"])
            if ident in found:
                first = found[ident].line
                raise PredictionsError(
                    located(path, number, f"duplicate id {ident!r} (first on line {first})")
                )
            truncated = bool(obj.get("truncated")) or obj.get("finish_reason") == "length"
            found[ident] = Prediction(ident, text, truncated, number)
    except DataError as err:  # malformed JSON / missing file, reported by the shared JSONL reader
        raise PredictionsError(str(err)) from None
    return found
