"""What every importer returns, and the id mapping they share.

A harness's per-sample file becomes one `ForeignSample` per task sample it covers: the raw response,
the harness's own extracted (or filtered) answer where the format carries one, and its own verdict
where it stored one. Ids are mapped to the task's sample ids by `IdMap`; a record whose id the task
does not have is an error naming the file and line (or, with `skip_unknown`, listed and left out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmbench.errors import PredictionsError, located

# Fields that hold an item's own id in the formats read here (MathVista `pid`, lmms-eval's
# `question_id` in its metric dicts, VCR `annot_id`, NLVR2 `identifier`, VLMEvalKit `index`).
ID_FIELDS = ("pid", "question_id", "id", "annot_id", "identifier", "index")


class ForeignFileError(PredictionsError):
    """Another harness's file that cannot be read: wrong format, a malformed line, a missing field,
    an id the task does not have. The message names the file and the line or row."""


@dataclass(frozen=True)
class ForeignSample:
    """One sample as another harness left it."""

    id: str  # the task's sample id
    response: str  # the raw model output
    extraction: str | None  # the harness's extracted / filtered answer; None where the format has none
    verdict: float | None  # the harness's own per-sample score, where the file stores one
    where: str  # `file:line` (or row), for messages


@dataclass
class ForeignFile:
    """Everything an importer read from one file."""

    format: str
    path: Path
    samples: list[ForeignSample]
    unknown_ids: list[str] = field(default_factory=list)  # only with `skip_unknown`

    @property
    def has_extraction(self) -> bool:
        return any(s.extraction is not None for s in self.samples)

    @property
    def has_verdict(self) -> bool:
        return any(s.verdict is not None for s in self.samples)


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file. `by_position`: the record's dataset index (`doc_id`, a table row) is the
    position of the task sample, for files that carry no item id (only right when the task data is
    that harness's dataset, complete and in its order). `skip_unknown`: list ids the task lacks instead
    of failing (scoring a full results file against a local subset). `filter`: lm-eval's filter name."""

    by_position: bool = False
    skip_unknown: bool = False
    filter: str | None = None


class IdMap:
    """Maps a record's id candidates (or its position) to a task sample id, once per sample."""

    def __init__(self, sample_ids: list[str], options: ImportOptions, harness: str) -> None:
        self.sample_ids = sample_ids
        self.known = set(sample_ids)
        self.options = options
        self.harness = harness
        self.unknown: list[str] = []
        self._seen: dict[str, str] = {}

    def resolve(
        self, path: Path, line: int | None, candidates: Iterable[Any], position: int | None = None
    ) -> str | None:
        """The task sample id of one record, or None when it is skipped as unknown."""
        if self.options.by_position:
            ident = self._by_position(path, line, position)
        else:
            given = [str(c) for c in candidates if c is not None and str(c) != ""]
            ident = next((c for c in given if c in self.known), None)
            if ident is None and not given:
                raise ForeignFileError(
                    located(
                        path,
                        line,
                        f"no item id in this record ({self.harness} gives only its dataset position "
                        f"{position}); pass --by-position if the task data is that dataset, complete and "
                        "in its order",
                    )
                )
            if ident is None:
                return self._unknown(path, line, given[0])
        if ident is None:
            return None
        if ident in self._seen:
            raise ForeignFileError(
                located(path, line, f"duplicate id {ident!r} (first at {self._seen[ident]})")
            )
        self._seen[ident] = place(path, line)
        return ident

    def _by_position(self, path: Path, line: int | None, position: int | None) -> str | None:
        if position is None:
            raise ForeignFileError(located(path, line, "no dataset position in this record"))
        if 0 <= position < len(self.sample_ids):
            return self.sample_ids[position]
        return self._unknown(path, line, f"#{position}")

    def _unknown(self, path: Path, line: int | None, ident: str) -> None:
        if not self.options.skip_unknown:
            raise ForeignFileError(
                located(
                    path,
                    line,
                    f"id {ident!r} is not a sample of the task (--skip-unknown lists such ids instead; "
                    "--by-position reads a file without item ids by position)",
                )
            )
        self.unknown.append(ident)
        return None


def place(path: Path, line: int | None) -> str:
    """`file:line`, or the file alone."""
    return f"{path}:{line}" if line is not None else str(path)


def first_text(value: Any) -> str:
    """The first string of a harness's (possibly nested) response list: `[["x"]]`, `["x"]`, `"x"`."""
    while isinstance(value, list | tuple):
        if not value:
            return ""
        value = value[0]
    return "" if value is None else str(value)


def as_verdict(value: Any) -> float | None:
    """A stored per-sample score (bool, 0/1, a float in 0..1) as a float; None when it is not one."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return float(value.strip().lower() == "true")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
