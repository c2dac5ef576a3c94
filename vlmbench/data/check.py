"""`vlmbench data check`: is a task's data what its task file says, before a model is run on it?

Loads the task's source (a local folder, else the hub or the generator) and checks the schema (the load
itself: the loaders refuse unknown columns, labels and duplicate ids), the item count against the
documented split size, id uniqueness, that every image decodes under the project's pixel cap, and the
answer types. A check is `ok`, `warn` (worth knowing, not wrong: a developer sample smaller than the split,
items without images in a release that has none) or `fail`; a report with a failure exits 2.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from vlmbench.errors import VlmbenchError
from vlmbench.schema import AnswerType, Sample
from vlmbench.taskspec import TaskSpec

Status = Literal["ok", "warn", "fail"]
EXIT_FAILED = 2


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


@dataclass
class DataReport:
    task: str
    source: str
    n: int
    size: int | None
    checks: list[Check] = field(default_factory=list)
    answer_types: dict[str, int] = field(default_factory=dict)
    data_source: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else EXIT_FAILED

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _count(spec: TaskSpec, n: int, local: bool, limit: int | None) -> Check:
    """A hub split must have the documented size; a local folder may hold a sample of it."""
    size = spec.source.size
    if size is None:
        return Check("count", "warn", f"{n} items; the task file documents no split size")
    if limit is not None:
        return Check("count", "warn", f"{n} items read (--limit {limit}); the split has {size}")
    if n == size:
        return Check("count", "ok", f"{n} items, as documented")
    if local and n < size:
        return Check("count", "warn", f"{n} of the split's {size} items (a sample)")
    return Check("count", "fail", f"{n} items, but the split documents {size}")


def _ids(samples: list[Sample]) -> Check:
    repeated = [ident for ident, times in Counter(s.id for s in samples).items() if times > 1]
    if repeated:
        return Check("ids", "fail", f"{len(repeated)} ids repeat, e.g. {repeated[:3]}")
    return Check("ids", "ok", f"{len(samples)} unique ids")


def _images(samples: list[Sample]) -> Check:
    """Decode every image through `ImageRef.load` (the eval's own path, with its pixel cap)."""
    failures: list[str] = []
    decoded = without = 0
    for sample in samples:
        if not sample.images:
            without += 1
        for ref in sample.images:
            try:
                ref.load()
            except (VlmbenchError, OSError, ValueError) as err:
                failures.append(f"{sample.id}: {err}")
            else:
                decoded += 1
    if failures:
        shown = "; ".join(failures[:3])
        return Check("images", "fail", f"{len(failures)} images do not decode ({decoded} do): {shown}")
    if without:
        status: Status = "warn" if decoded or without == len(samples) else "fail"
        return Check("images", status, f"{decoded} images decode; {without} items have no image")
    return Check("images", "ok", f"{decoded} images decode")


def _answers(spec: TaskSpec, samples: list[Sample]) -> tuple[Check, dict[str, int]]:
    counts = Counter(s.answer_type.value for s in samples)
    problems: list[str] = []
    if spec.answer_type != "per_item":
        wrong = [s.id for s in samples if s.answer_type is not spec.answer_type]
        if wrong:
            problems.append(f"{len(wrong)} items are not {spec.answer_type.value}, e.g. {wrong[:3]}")
    booleans = [s for s in samples if s.answer_type is AnswerType.BOOLEAN]
    bad_bool = [s.id for s in booleans if s.answer not in ("True", "False")]
    if bad_bool:
        problems.append(f"{len(bad_bool)} boolean gold answers are not True/False, e.g. {bad_bool[:3]}")
    no_choice = [
        s.id
        for s in samples
        if s.answer_type is AnswerType.MULTIPLE_CHOICE and (not s.choices or s.answer not in s.choices)
    ]
    if no_choice:
        problems.append(f"{len(no_choice)} multiple-choice answers are not choices, e.g. {no_choice[:3]}")
    empty = [s.id for s in samples if not s.answer.strip()]
    if empty:
        problems.append(f"{len(empty)} empty gold answers, e.g. {empty[:3]}")
    shown = ", ".join(f"{kind} {times}" for kind, times in sorted(counts.items()))
    if problems:
        return Check("answers", "fail", "; ".join(problems)), dict(counts)
    return Check("answers", "ok", shown or "no items"), dict(counts)


def _describe_source(spec: TaskSpec, data: Path | None, loaded: Any) -> str:
    if data is not None:
        return f"local: {data}"
    if spec.source.synth is not None:
        return f"generated: {spec.source.synth.generator}"
    hub = spec.source.hub
    source = getattr(loaded, "source", None) or {}
    revision = source.get("revision") or "unresolved"
    pinned = "" if source.get("pinned") else " (not pinned)"
    return f"hub: {hub.path if hub else '?'}@{revision}{pinned}"


def check_task(spec: TaskSpec, data: str | Path | None = None, limit: int | None = None) -> DataReport:
    """Load `spec`'s items (from `data` when given) and check them; a load error is a failed `schema`
    check naming what the loader refused, not an exception."""
    from vlmbench.data import load_samples

    root = Path(data) if data is not None else None
    try:
        samples = load_samples(spec, root, limit=limit)
    except VlmbenchError as err:
        report = DataReport(spec.name, _describe_source(spec, root, None), 0, spec.source.size)
        report.checks.append(Check("schema", "fail", str(err)))
        return report
    report = DataReport(
        spec.name,
        _describe_source(spec, root, samples),
        len(samples),
        spec.source.size,
        data_source=getattr(samples, "source", None),
    )
    report.checks.append(Check("schema", "ok", "every item read with the task's field mapping"))
    report.checks.append(_count(spec, len(samples), root is not None, limit))
    report.checks.append(_ids(samples))
    report.checks.append(_images(samples))
    answers, counts = _answers(spec, samples)
    report.checks.append(answers)
    report.answer_types = counts
    return report


def report_table(report: DataReport) -> Any:
    """The report as a rich table (the CLI prints it; kept here so the CLI stays a thin face)."""
    from rich.markup import escape
    from rich.table import Table

    title = f"{report.task}: {report.source} - {report.n} items"
    table = Table(title=escape(title), title_justify="left")
    for column in ("check", "status", "detail"):
        table.add_column(column, overflow="fold")
    colour = {"ok": "green", "warn": "yellow", "fail": "red"}
    for check in report.checks:
        table.add_row(check.name, f"[{colour[check.status]}]{check.status}[/]", escape(check.detail))
    return table
