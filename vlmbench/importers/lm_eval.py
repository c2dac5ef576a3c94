"""lm-evaluation-harness `--log_samples` files (`samples_<task>_<date>.jsonl`).

Checked against EleutherAI/lm-evaluation-harness `lm_eval/evaluator.py` (5b321a1a: the logged
`example`; later versions add `filter` and `metrics`) and `lm_eval/loggers/evaluation_tracker.py`
(da211969: `save_results_samples`). A line holds `doc_id` (the document's position in the task's
dataset), `doc` (kept, so an item id such as `id` or `question_id` is there when the dataset has one),
`target`, `arguments` (rewritten as `gen_args_<i>`), `resps` (the raw generations, `[[text]]`),
`filtered_resps` (the answer after the filter pipeline, `[text]`), `filter` (its name), `metrics` (the
metric names) and one field per metric. A task with several filters (`strict-match`,
`flexible-extract`, ...) logs one line per document *per filter*: choose one with `filter`.

Loglikelihood tasks (`multiple_choice` output type) log scores, not text; they are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmbench.data.local import read_jsonl
from vlmbench.errors import DataError, located
from vlmbench.importers.base import (
    ID_FIELDS,
    ForeignFile,
    ForeignFileError,
    ForeignSample,
    IdMap,
    ImportOptions,
    as_verdict,
    first_text,
    place,
)
from vlmbench.importers.lmms_eval import metric_fields, stored_verdict

NAME = "lm-eval"


def _is_loglikelihood(resps: Any) -> bool:
    """`[[["-1.2", "False"]], ...]`: a (logprob, is_greedy) pair per choice instead of a generation."""
    while isinstance(resps, list) and resps:
        head = resps[0]
        if isinstance(head, list) and len(head) == 2 and str(head[1]) in ("True", "False"):
            return as_verdict(head[0]) is not None
        resps = head
    return False


def _verdict(obj: dict[str, Any]) -> float | None:
    names = obj.get("metrics")
    if isinstance(names, list) and names and names[0] in obj:
        return as_verdict(obj[names[0]])
    return stored_verdict(metric_fields(obj))


def _lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = list(read_jsonl(path))
    except DataError as err:
        raise ForeignFileError(f"{err} (expected lm-eval --log_samples JSONL, one object per line)") from None
    for number, obj in lines:
        for key in ("doc_id", "resps", "filtered_resps"):
            if key not in obj:
                raise ForeignFileError(
                    located(path, number, f"missing field {key!r} (not an lm-eval --log_samples line?)")
                )
        if _is_loglikelihood(obj["resps"]):
            raise ForeignFileError(
                located(path, number, "loglikelihood scores, not generated text: nothing to extract from")
            )
    return lines


def _one_filter(path: Path, lines: list[tuple[int, dict[str, Any]]], wanted: str | None) -> str | None:
    """The filter whose lines are read: the one asked for, else the only one in the file."""
    found = list(dict.fromkeys(str(obj.get("filter", "none")) for _, obj in lines))
    if wanted is not None:
        if wanted not in found:
            raise ForeignFileError(
                f"{path}: no lines for filter {wanted!r} (the file has {', '.join(found)})"
            )
        return wanted
    if len(found) > 1:
        raise ForeignFileError(
            f"{path}: lines for {len(found)} filters ({', '.join(found)}): choose one with --filter"
        )
    return found[0] if found else None


def read(path: Path, ids: IdMap, options: ImportOptions) -> ForeignFile:
    """One sample per document, from the lines of one filter."""
    lines = _lines(path)
    chosen = _one_filter(path, lines, options.filter)
    samples = []
    for number, obj in lines:
        if str(obj.get("filter", "none")) != chosen:
            continue
        doc = obj.get("doc") if isinstance(obj.get("doc"), dict) else {}
        position = obj["doc_id"] if isinstance(obj["doc_id"], int) else None
        ident = ids.resolve(path, number, [doc.get(f) for f in ID_FIELDS], position)
        if ident is None:
            continue
        samples.append(
            ForeignSample(
                id=ident,
                response=first_text(obj["resps"]),
                extraction=first_text(obj["filtered_resps"]),
                verdict=_verdict(obj),
                where=place(path, number),
            )
        )
    return ForeignFile(NAME, path, samples, ids.unknown)
