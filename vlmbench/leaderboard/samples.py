"""Sample browser data, and visual gains paired on the samples.

Sample browser data: rows of `samples/<task>.jsonl`, with image thumbnails where the image is at hand.

A thumbnail is drawn only when the task's items can be had without a network: procedural tasks are
regenerated (item i is the same whatever n is), local data folders recorded in the run config are read
if they still exist. Hub data is never downloaded while publishing: those samples show a placeholder.
A thumbnail is used only when the regenerated item's id and gold answer match the recorded sample.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlmbench.errors import VlmbenchError

if TYPE_CHECKING:
    from vlmbench.leaderboard.table import Cell, Gain

THUMB_PX = 160


@dataclass
class SampleView:
    id: str
    prompt: str
    output: str
    extracted: str
    gold: str
    official: float
    status: str
    truncated: bool
    n_output_tokens: int
    error: str | None
    thumb: str | None  # a data: URL

    @property
    def verdict(self) -> str:
        if self.error:
            return "failed"
        if self.status != "ok" and self.official == 0:
            return "unparsed"
        return "correct" if self.official >= 1 else ("partial" if self.official > 0 else "wrong")


@dataclass
class TaskSamples:
    task: str
    anchor: str
    label: str
    run_id: str
    total: int
    rows: list[SampleView] = field(default_factory=list)
    images_note: str = ""
    bad_lines: int = 0


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def read_rows(path: Path, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The first `limit` well-formed rows (reading stops there) and how many bad lines came before."""
    rows: list[dict[str, Any]] = []
    bad = 0
    if not path.is_file():
        return rows, 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if len(rows) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if not isinstance(row, dict) or "id" not in row:
                bad += 1
                continue
            rows.append(row)
    return rows, bad


class Thumbnails:
    """Thumbnails by (task, data source), made once and shared by every run over the same items."""

    def __init__(self, get_spec: Callable[[str], Any]) -> None:
        self._get_spec = get_spec
        self._cache: dict[str, tuple[dict[str, tuple[str, str | None]], str]] = {}

    def for_run(
        self, task: str, config: dict[str, Any], count: int
    ) -> tuple[dict[str, tuple[str, str | None]], str]:
        """{sample id: (gold as JSON, data URL or None)} for the first `count` items, and a note
        saying why there are no images when there are none."""
        data_dir = config.get("data_dir")
        synth = config.get("synth") or {}
        key = json.dumps([task, data_dir, synth, count], sort_keys=True, default=str)
        if key not in self._cache:
            self._cache[key] = _load(self._get_spec, task, data_dir, synth, count)
        return self._cache[key]


def _load(
    get_spec: Callable[[str], Any], task: str, data_dir: str | None, synth: dict[str, int], count: int
) -> tuple[dict[str, Any], str]:
    from vlmbench.data import load_samples

    try:
        spec = get_spec(task)
    except VlmbenchError as err:
        return {}, f"images unavailable: {err}"
    if data_dir is not None and not Path(data_dir).exists():
        return {}, f"images unavailable: the run's data folder {data_dir} is not on this machine"
    if data_dir is None and spec.source.synth is None:
        return (
            {},
            "images unavailable: hub data is not downloaded while publishing (pass a local data folder)",
        )
    try:
        samples = load_samples(spec, data_dir, limit=count, synth=synth or None)
    except (VlmbenchError, OSError, ValueError) as err:
        return {}, f"images unavailable: {err}"
    found: dict[str, tuple[str, str | None]] = {}
    for sample in samples:
        found[sample.id] = (json.dumps(sample.answer, ensure_ascii=False), _thumb(sample.images))
    return found, ""


def _thumb(images: Any) -> str | None:
    if not images:
        return None
    try:
        image = images[0].load()
    except (VlmbenchError, OSError, ValueError):
        return None
    image.thumbnail((THUMB_PX, THUMB_PX))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def task_samples(
    run: dict[str, Any], task: str, label: str, anchor: str, total: int, limit: int, thumbs: Thumbnails
) -> TaskSamples:
    """The browser section of one task of one run (`total`: the task's n in the run record)."""
    path = Path(run["path"]) / "samples" / f"{task}.jsonl"
    rows, bad = read_rows(path, limit)
    section = TaskSamples(task, anchor, label, run["run_id"], total, bad_lines=bad)
    if not path.is_file():
        section.images_note = f"no samples file {run['run_id']}/samples/{task}.jsonl"
        return section
    images, note = thumbs.for_run(task, run["record"].get("config") or {}, limit) if rows else ({}, "")
    section.images_note = note
    for row in rows:
        gold = json.dumps(row.get("gold"), ensure_ascii=False)
        known = images.get(str(row["id"]))
        thumb = known[1] if known is not None and known[0] == gold else None
        section.rows.append(
            SampleView(
                id=str(row["id"]),
                prompt=_text(row.get("prompt")),
                output=_text(row.get("output")),
                extracted=_text(row.get("extracted")),
                gold=_text(row.get("gold")),
                official=float(row.get("official") or 0.0),
                status=_text(row.get("status")),
                truncated=bool(row.get("truncated")),
                n_output_tokens=int(row.get("n_output_tokens") or 0),
                error=row.get("error"),
                thumb=thumb,
            )
        )
    return section


def visual_gain(
    run: dict[str, Any], ablated_run: dict[str, Any], task: str, cell: Cell, ablated: dict[str, Any]
) -> Gain:
    """A model's visual gain on `task`: its score minus its image-ablated score, computed as
    `vlmbench compare` does (docs/metrics.md, "Visual gain": McNemar with Newcombe's paired interval on
    the shared samples) when both runs' samples are at hand; else the difference of the two means with
    their intervals combined as independent normal errors, labelled as unpaired. `ablated` is the
    ablated result's store row."""
    from vlmbench.compare import compare_task
    from vlmbench.leaderboard.table import Z95, Gain

    try:
        paired = compare_task(
            Path(run["path"]), Path(ablated_run["path"]), run["record"], ablated_run["record"], task
        )
    except (VlmbenchError, OSError, ValueError, KeyError):
        paired = None  # samples moved, pruned or unreadable: fall back to the summary numbers
    if paired is not None:
        return Gain(
            value=paired.diff,
            lo=paired.ci95[0],
            hi=paired.ci95[1],
            n=paired.n,
            paired=True,
            test=paired.test,
            p_value=paired.p_value,
            score=paired.score_a,
            ablated=paired.score_b,
            run_id=run["run_id"],
            ablated_run_id=ablated_run["run_id"],
        )
    low, high = ablated["official_lo"], ablated["official_hi"]
    se = math.hypot((cell.hi - cell.lo) / (2 * Z95), (high - low) / (2 * Z95))
    diff = cell.value - ablated["official"]
    return Gain(
        value=diff,
        lo=max(-1.0, diff - Z95 * se),
        hi=min(1.0, diff + Z95 * se),
        n=min(cell.n, ablated["n"]),
        paired=False,
        test="difference of means",
        p_value=None,
        score=cell.value,
        ablated=ablated["official"],
        run_id=run["run_id"],
        ablated_run_id=ablated_run["run_id"],
    )
