"""The MathVista repository's results files (`results/<model>/output_<model>.json`).

Checked against lupantech/MathVista `results/llava/output_llava_llama_2_13b.json`,
`results/instruct_blip2/output_instruct_blip2_vicuna_13b.json`,
`results/gpt4/output_gpt4_2shot_solution_use_ocr.json` (commit ed0d56de),
`results/bard/output_bard.json` (f036866d) and `evaluation/calculate_score.py` (2a249bbe): one JSON
object keyed by pid; each entry holds the problem's fields (`pid`, `question`, `choices`, `answer`,
`question_type`, `answer_type`, `precision`, `metadata`, `query`, ...) plus `response` (the raw model
output), `extraction` (what `extract_answer.py` - rules, then GPT - read), `prediction` (the
normalised extraction) and `true_false` (the verdict). A response-only file (the leaderboard
submission template) has no `extraction` and no `true_false`; both are optional here.

`extraction` is handed on as `str(extraction)`, as `calculate_score.py` normalises it (a JSON number or
list reads the same either way; `null` becomes "None", which it also reads).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from vlmbench.errors import located, read_utf8
from vlmbench.importers.base import (
    ForeignFile,
    ForeignFileError,
    ForeignSample,
    IdMap,
    ImportOptions,
    as_verdict,
)

NAME = "mathvista"
# A top-level entry starts a line `  "<pid>": {`; nested keys of an entry are never bare pids.
_ENTRY = re.compile(r'^\s*"([^"\\]+)"\s*:\s*\{', re.MULTILINE)


def _entry_lines(text: str) -> dict[str, int]:
    """The line each top-level key starts on (first occurrence), so errors can name it."""
    lines: dict[str, int] = {}
    for match in _ENTRY.finditer(text):
        lines.setdefault(match.group(1), text.count("\n", 0, match.start()) + 1)
    return lines


def read(path: Path, ids: IdMap, options: ImportOptions) -> ForeignFile:
    """The per-pid entries of a MathVista results file."""
    try:
        text = read_utf8(path, error=ForeignFileError)
    except FileNotFoundError:
        raise ForeignFileError(f"{path}: file not found") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ForeignFileError(
            located(path, err.lineno, f"malformed JSON ({err.msg}); expected one MathVista results object")
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ForeignFileError(f"{path}: expected a JSON object of entries keyed by pid (MathVista results)")
    lines = _entry_lines(text)
    samples = []
    for position, (pid, entry) in enumerate(data.items()):
        line = lines.get(pid)
        if "response" not in entry:
            raise ForeignFileError(located(path, line, f"pid {pid!r}: missing field 'response'"))
        response = entry["response"]
        if response is not None and not isinstance(response, str):
            raise ForeignFileError(located(path, line, f"pid {pid!r}: field 'response' must be a string"))
        if "pid" in entry and str(entry["pid"]) != pid:
            raise ForeignFileError(located(path, line, f"entry {pid!r} has pid {entry['pid']!r}"))
        ident = ids.resolve(path, line, [pid], position)
        if ident is None:
            continue
        extraction = str(entry["extraction"]) if "extraction" in entry else None
        samples.append(
            ForeignSample(
                id=ident,
                response=response or "",
                extraction=extraction,
                verdict=as_verdict(entry.get("true_false")),
                where=located(path, line, f"pid {pid!r}"),
            )
        )
    return ForeignFile(NAME, path, samples, ids.unknown)
