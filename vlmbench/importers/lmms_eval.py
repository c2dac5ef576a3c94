"""lmms-eval `--log_samples` files (`<date>_samples_<task>.jsonl`).

Checked against EvolvingLMMs-Lab/lmms-eval `lmms_eval/evaluator.py` (03cbb1f3: the logged `example`),
`lmms_eval/loggers/evaluation_tracker.py` (0716c69d and 4eadb30e: `save_results_samples`), PR #1103
(flattened `resps`) and `lmms_eval/tasks/mathvista/utils.py` (7548ebe1: `mathvista_process_results`).
A line holds `doc_id` (the document's position in lmms-eval's dataset, not an item id), `target`,
`filtered_resps` (what the task's filter handed to its metric), `resps` (the raw generation: written only
when it differs from `filtered_resps`, so without it `filtered_resps` *is* the raw response), `input`,
the three hashes and one field per metric; `doc` and `arguments` are dropped on write (older and newer
versions may keep `doc`). `resps` is `[[text]]` before PR #1103, `[text]` after; `filtered_resps` is
`[text]` or `text`.

The item id comes from a metric dict (MathVista's `gpt_eval_score` / `submission` carry `question_id`
= pid, with `extraction` and `true_false`) or from `doc` where kept; otherwise the file has none and
`doc_id` can only be used as a position (`by_position`). The harness's verdict is a metric dict's
`true_false`, else the first numeric metric field (`exact_match`, `relaxed_overall`, ...).
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

NAME = "lmms-eval"
# Everything on a logged line that is not a metric (lmms-eval and lm-eval alike).
BOOKKEEPING = frozenset(
    {
        "doc_id", "doc", "target", "arguments", "input", "resps", "filtered_resps", "filter", "metrics",
        "doc_hash", "prompt_hash", "target_hash", "token_counts",
    }
)  # fmt: skip


def metric_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The metric values of a logged line, in file order."""
    return {k: v for k, v in obj.items() if k not in BOOKKEEPING}


def stored_verdict(metrics: dict[str, Any]) -> float | None:
    """A metric dict's `true_false` (MathVista), else the first plain numeric metric."""
    for value in metrics.values():
        if isinstance(value, dict) and "true_false" in value:
            return as_verdict(value["true_false"])
    for value in metrics.values():
        if isinstance(value, bool | int | float):
            return float(value)
    return None


def read(path: Path, ids: IdMap, options: ImportOptions) -> ForeignFile:
    """One sample per logged line."""
    samples = []
    try:
        for number, obj in read_jsonl(path):
            for key in ("doc_id", "filtered_resps"):
                if key not in obj:
                    raise ForeignFileError(
                        located(path, number, f"missing field {key!r} (not an lmms-eval --log_samples line?)")
                    )
            metrics = metric_fields(obj)
            dicts = [v for v in metrics.values() if isinstance(v, dict)]
            doc = obj.get("doc") if isinstance(obj.get("doc"), dict) else {}
            candidates = [d.get(f) for d in dicts for f in ID_FIELDS] + [doc.get(f) for f in ID_FIELDS]
            position = obj["doc_id"] if isinstance(obj["doc_id"], int) else None
            ident = ids.resolve(path, number, candidates, position)
            if ident is None:
                continue
            filtered = first_text(obj["filtered_resps"])
            response = first_text(obj["resps"]) if "resps" in obj else filtered
            extraction = next((str(d["extraction"]) for d in dicts if "extraction" in d), filtered)
            samples.append(
                ForeignSample(ident, response, extraction, stored_verdict(metrics), place(path, number))
            )
    except DataError as err:  # malformed JSON / missing file, from the shared JSONL reader
        raise ForeignFileError(
            f"{err} (expected lmms-eval --log_samples JSONL, one object per line)"
        ) from None
    return ForeignFile(NAME, path, samples, ids.unknown)
