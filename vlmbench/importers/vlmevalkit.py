"""VLMEvalKit prediction files (`<model>_<dataset>.xlsx`, or `.tsv` / `.csv`), judged or not.

Checked against open-compass/VLMEvalKit `vlmeval/inference.py` (3d2f88e1: `infer_data_job` writes the
dataset's own columns, `image` dropped, plus `prediction` = `str(response)`, keyed by `index`),
`vlmeval/dataset/utils/mathvista.py` (09818277: `MathVista_eval` writes `<file>_<judge>.xlsx` with the
judge's extraction in `res` and its `log`) and the multiple-choice evaluator (`_<judge>_result.xlsx`
with the verdict in `hit` and the judge's words in `log`). ChartQA, GQA and other VQA sets keep no
per-row verdict: their file is the prediction file alone.

The item id is the first of `pid`, `question_id`, `id`, `index` the table has (`index` is the row key
VLMEvalKit uses; for MathVista_MINI it is read as the pid); `by_position` takes the row order instead.
Cells are read as text (`N/A` stays `N/A`, never a missing value). Rows are named as the spreadsheet
numbers them (the header is row 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmbench.errors import located
from vlmbench.importers.base import (
    ID_FIELDS,
    ForeignFile,
    ForeignFileError,
    ForeignSample,
    IdMap,
    ImportOptions,
    as_verdict,
    place,
)

NAME = "vlmevalkit"
EXTRACTION_COLUMNS = ("res",)  # MathVista_eval's judge extraction
VERDICT_COLUMNS = ("hit",)  # the multiple-choice evaluator's 0 / 1
INSTALL_HINT = "pip install 'vlmbench[import]'"


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ForeignFileError(f"reading VLMEvalKit files needs pandas: {INSTALL_HINT}") from None
    return pandas


def read_table(path: Path) -> Any:
    """The file as a DataFrame of strings."""
    pandas = _pandas()
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ForeignFileError(f"{path}: file not found")
    options = {"dtype": str, "keep_default_na": False}
    try:
        if suffix == ".xlsx":
            try:
                import openpyxl  # noqa: F401  (pandas' reader for .xlsx)
            except ImportError:
                raise ForeignFileError(f"{path}: reading .xlsx needs openpyxl: {INSTALL_HINT}") from None
            return pandas.read_excel(path, **options)
        if suffix in (".tsv", ".csv"):
            return pandas.read_csv(path, sep="\t" if suffix == ".tsv" else ",", **options)
    except ForeignFileError:
        raise
    except Exception as err:  # pandas / openpyxl raise many types for a damaged or mislabelled file
        reason = f"{type(err).__name__}: {err}"
        raise ForeignFileError(f"{path}: not a readable {suffix} table ({reason})") from None
    got = suffix or "no suffix"
    raise ForeignFileError(f"{path}: VLMEvalKit files are .xlsx, .tsv or .csv (got {got!r})")


def read(path: Path, ids: IdMap, options: ImportOptions) -> ForeignFile:
    """One sample per row."""
    table = read_table(path)
    columns = list(table.columns)
    if "prediction" not in columns:
        raise ForeignFileError(f"{path}: missing column 'prediction' (not a VLMEvalKit prediction file?)")
    id_columns = [c for c in ID_FIELDS if c in columns]
    extraction_column = next((c for c in EXTRACTION_COLUMNS if c in columns), None)
    verdict_column = next((c for c in VERDICT_COLUMNS if c in columns), None)
    samples = []
    for position, row in enumerate(table.to_dict("records")):
        line = position + 2  # the header is row 1
        ident = ids.resolve(path, line, [row[c] for c in id_columns], position)
        if ident is None:
            continue
        verdict = None
        if verdict_column is not None:
            verdict = as_verdict(row[verdict_column])
            if verdict is None and row[verdict_column] != "":
                raise ForeignFileError(
                    located(path, line, f"column {verdict_column!r} is {row[verdict_column]!r}, not 0 / 1")
                )
        extraction = row[extraction_column] if extraction_column is not None else None
        samples.append(ForeignSample(ident, row["prediction"], extraction, verdict, place(path, line)))
    return ForeignFile(NAME, path, samples, ids.unknown)
