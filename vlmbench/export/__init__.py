"""Exports of vlmbench tasks to other harnesses, which then run vlmbench's own prompts and scorers.

`lm-eval`: a task folder for lm-evaluation-harness (`vlmbench.export.lm_eval`; its run-time side is
`vlmbench.export.lm_eval_hooks`). See docs/export.md.
"""

from __future__ import annotations

from pathlib import Path

from vlmbench.errors import VlmbenchError
from vlmbench.export.lm_eval import ExportedTask, ExportReport, export_lm_eval

FORMATS = ("lm-eval",)


def export_tasks(out: Path | str, fmt: str = "lm-eval", **options: object) -> ExportReport:
    """Export tasks in format `fmt` into `out` (options: tasks, data, prompt, limit, overwrite)."""
    if fmt not in FORMATS:
        raise VlmbenchError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    return export_lm_eval(out, **options)  # type: ignore[arg-type]


__all__ = ["FORMATS", "ExportReport", "ExportedTask", "export_lm_eval", "export_tasks"]
