"""The comparable table: one row per model, one column per (task, protocol hash).

Results are never mixed across protocols. For each board task the main column holds the protocol most
models were run under (or the one the board pins); every other protocol of that task gets a column of
its own, labelled with its hash and with the protocol fields that differ, and stays out of the aggregate.

Ranks with ties (documented in docs/leaderboard.md): with the `mean` aggregate a row's rank is
1 + the number of rows whose 95% interval lies entirely above its own, so rows whose intervals overlap
the rows ranked above them share a rank (marked as a tie). The aggregate's interval combines the task
intervals as independent normal errors: se_task = (hi - lo) / (2 * 1.96), se_mean = sqrt(sum se^2) / k.
With `mean_rank`, each task ranks rows by that same rule and the aggregate is the mean of those ranks.

Presentation (docs/leaderboard.md, "Board layout"): the main columns form the main table; every other
column belongs to a section named after what its protocol changes (`section_title`: a prompt style, a
`--limit` subset, pass@k, an LLM judge, other data). An image-ablation run (`vlmbench eval
--image-ablation`) is neither a row nor a column: it becomes the visual gain of its model's row on the
column whose protocol it ablates (`Gain`), paired on the samples when both runs' samples are at hand.

Results of `partial` tasks (indexed only with `leaderboard add --allow-partial`) are shown: their failed
samples count as wrong, and every cell, aggregate and output says how many there were (`n_failed`).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from vlmbench.leaderboard.board import Board, BoardTask
from vlmbench.records.hashing import canonical_hash
from vlmbench.records.status import DONE, PARTIAL, failed_samples
from vlmbench.records.store import Store

BASELINE_BACKEND = "baseline"
SCORED = (DONE, PARTIAL)  # the store indexes no other task status; partial only when allowed
Z95 = 1.959963984540054  # two-sided 95% normal quantile


@dataclass
class Column:
    key: str
    task: str
    label: str
    metric: str
    protocol_hash: str
    protocol: dict[str, Any]
    primary: bool
    why: str = ""  # for a separate column: how its protocol differs from the main one
    n_models: int = 0
    section: str = "main"  # "main", or the title of the other-protocol section it is shown in


@dataclass
class Cell:
    value: float
    lo: float
    hi: float
    n: int
    robust: float | None
    tokens_out: int
    run_id: str
    n_failed: int = 0  # samples the backend never answered: counted as wrong in `value`
    failures: dict[str, int] = field(default_factory=dict)  # failure reason -> samples
    best: bool = False
    tied_best: bool = False

    @property
    def tokens_per_sample(self) -> float:
        return self.tokens_out / self.n if self.n else 0.0

    @property
    def samples(self) -> str:
        """`n=40`, or `n=40, 3 failed` where samples failed."""
        return f"n={self.n}, {self.n_failed} failed" if self.n_failed else f"n={self.n}"

    @property
    def failed_note(self) -> str:
        """`3 of 40 samples failed (HTTP 500: 3) and count as wrong`; empty for a complete result."""
        text = failed_samples([(self.n, self.n_failed, self.failures)])
        return f"{text} and count as wrong" if text else ""


@dataclass
class Gain:
    """A model's visual gain on one column: its score minus its score with the images ablated (0..1)."""

    value: float
    lo: float
    hi: float
    n: int
    paired: bool  # True: paired on the shared samples (`vlmbench compare`); False: difference of means
    test: str  # "mcnemar_exact" / "paired_bootstrap" when paired; "difference of means" otherwise
    p_value: float | None
    score: float  # the unablated score it starts from
    ablated: float  # the score with the images ablated
    run_id: str  # the unablated run
    ablated_run_id: str

    @property
    def method(self) -> str:
        if self.paired:
            return f"paired on {self.n} samples ({self.test})"
        return "difference of means (unpaired: the samples are not at hand)"


@dataclass
class GainColumn:
    """The visual gains of one column under one ablation kind (`blank`, `shuffle`)."""

    key: str  # "<column key>~<ablation>"
    column: str  # the key of the column whose protocol was ablated
    task: str
    ablation: str
    label: str
    primary: bool  # the ablated protocol is the main column's: shown in the main table's cells
    protocol_hash: str  # the ablated protocol's hash


@dataclass
class Section:
    """Columns under protocols other than the main ones that differ from them in the same way."""

    key: str  # an HTML id / CSV value: stable for a given title
    title: str
    columns: list[Column]


@dataclass
class Row:
    key: str
    name: str
    backend: str
    n_params: int | None
    algorithm: str | None
    base_model: str | None
    baseline: bool
    slug: str
    cells: dict[str, Cell] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    aggregate: float | None = None
    agg_lo: float | None = None
    agg_hi: float | None = None
    rank: int | None = None
    tied: bool = False
    missing: list[str] = field(default_factory=list)
    accuracy: float | None = None  # mean main metric over the main columns (the plot's y)
    tokens_per_sample: float | None = None  # output tokens per sample over the main columns (x)
    n_failed: int = 0  # failed samples (counted as wrong) in the main columns behind the aggregate
    gains: dict[str, Gain] = field(default_factory=dict)  # GainColumn.key -> this model's visual gain

    @property
    def size(self) -> str:
        return format_params(self.n_params)


@dataclass
class Table:
    board: Board
    columns: list[Column]
    rows: list[Row]
    notes: list[str]
    runs: dict[str, dict[str, Any]]  # run_id -> store row (with its parsed record)
    gain_columns: list[GainColumn] = field(default_factory=list)

    @property
    def primary(self) -> list[Column]:
        return [c for c in self.columns if c.primary]

    @property
    def sections(self) -> list[Section]:
        """The other-protocol sections, in column order (each column in exactly one)."""
        found: dict[str, Section] = {}
        for column in self.columns:
            if not column.primary:
                key = section_key(column.section)
                found.setdefault(key, Section(key, column.section, [])).columns.append(column)
        return list(found.values())


def format_params(n: int | None) -> str:
    if n is None:
        return "-"
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(n)


def slugify(name: str, key: str) -> str:
    """A file name for a model's page: safe characters only, made unique by the row key."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:48] or "model"
    return f"{base}-{key[:8]}"


def protocol_diff(main: dict[str, Any], other: dict[str, Any]) -> str:
    """The fields in which `other` differs from `main`, short enough for a column note."""
    parts = []
    for key in sorted(set(main) | set(other)):
        a, b = main.get(key), other.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            inner = protocol_diff(a, b)
            parts.extend(f"{key}.{p}" for p in inner.split("; ") if p)
        else:
            shown_b, shown_a = _short_pair(b, a)
            parts.append(f"{key}: {shown_b} (main: {shown_a})")
    return "; ".join(parts)


def _short_pair(value: Any, main: Any) -> tuple[str, str]:
    """Both values, cut to where they start to differ when they share a long beginning (two prompts)."""
    text, other = str(value), str(main)
    if re.fullmatch(r"[0-9a-f]{40,64}", text):
        return text[:12], other[:12]
    common = 0
    while common < min(len(text), len(other)) and text[common] == other[common]:
        common += 1
    start = common - 12 if common > 24 else 0
    return _cut(text, start), _cut(other, start)


def _cut(text: str, start: int) -> str:
    body = " ".join(text[start:].split())
    return ("..." if start else "") + (body if len(body) <= 48 else body[:45] + "...")


def build_table(board: Board, store: Store) -> Table:
    runs = {r["run_id"]: r for r in store.runs()}
    wanted = {t.task: t for t in board.tasks}
    notes: list[str] = []
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    skipped_versions: dict[tuple[str, str], int] = defaultdict(int)
    for result in store.results(tasks=list(wanted)):
        entry = wanted[result["task"]]
        if result["status"] not in SCORED:
            continue
        if result["task_version"] != entry.version:
            skipped_versions[(entry.task, result["task_version"])] += 1
            continue
        if result["backend"] == BASELINE_BACKEND and result["model_name"] not in board.baselines:
            continue
        slot = (result["model_key"], result["task"], result["protocol_hash"])
        if slot not in latest or _when(result) > _when(latest[slot]):
            latest[slot] = result  # a model run twice under one protocol: its latest run counts
    for (task, version), count in sorted(skipped_versions.items()):
        pinned = wanted[task].version
        notes.append(f"{count} result(s) of {task} v{version} are left out: this board pins v{pinned}.")
    partial = [r for r in latest.values() if r["n_failed"]]
    if partial:
        failed = sum(r["n_failed"] for r in partial)
        notes.append(
            f"{len(partial)} result(s) are partial ({failed} samples failed in all, added with "
            "--allow-partial): their failed samples count as wrong, and their cells say how many."
        )

    protocols = store.protocols()
    ablated = [r for r in latest.values() if protocols.get(r["protocol_hash"], {}).get("image_ablation")]
    normal = [r for r in latest.values() if r not in ablated]  # ablations are gains, never columns
    columns = _columns(board, normal, protocols, notes)
    _assign_sections(columns)
    rows = _rows(columns, normal, runs)
    _mark_best(columns, rows)
    _aggregate(board, [c for c in columns if c.primary], rows)
    gain_columns = _gains(columns, rows, ablated, protocols, runs, notes)
    present = {r.name for r in rows if r.baseline}
    for name in board.baselines:
        if name not in present:
            tasks = ",".join(wanted)
            notes.append(
                f"No {name!r} baseline in the store for these tasks: run "
                f"`vlmbench eval --backend baseline --model {name} --tasks {tasks}` and add it."
            )
    return Table(board, columns, rows, notes, runs, gain_columns)


def _when(result: dict[str, Any]) -> tuple[str, str]:
    return (result.get("finished") or result.get("created") or "", result["run_id"])


def _columns(
    board: Board, results: Any, protocols: dict[str, dict[str, Any]], notes: list[str]
) -> list[Column]:
    models: dict[tuple[str, str], set[str]] = defaultdict(set)
    real: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in results:
        models[(r["task"], r["protocol_hash"])].add(r["model_key"])
        if r["backend"] != BASELINE_BACKEND:
            real[(r["task"], r["protocol_hash"])].add(r["model_key"])
    columns: list[Column] = []
    for entry in board.tasks:
        hashes = sorted(h for (t, h) in models if t == entry.task)
        main = _main_protocol(entry, hashes, models, real, protocols)
        if entry.protocol and main is None:
            notes.append(f"{entry.task}: no result under the pinned protocol {entry.protocol}.")
        ordered = ([main] if main else []) + sorted(
            (h for h in hashes if h != main), key=lambda h: (-len(models[(entry.task, h)]), h)
        )
        for phash in ordered:
            primary = phash == main
            proto = protocols.get(phash, {})
            judge = judge_label(proto)
            why = "" if primary else protocol_diff(protocols.get(main or "", {}), proto) if main else ""
            if judge and not primary:
                why = f"answers extracted by the LLM judge {proto['judge']['model']} (the reference pipeline)"
            if not primary and not why:
                why = "the board pins another protocol" if entry.protocol else "another protocol"
            label = f"{entry.header} [proto {phash[:8]}]"
            if judge:
                label = f"{entry.header} {judge}" + ("" if primary else f" [proto {phash[:8]}]")
            elif primary:
                label = entry.header
            columns.append(
                Column(
                    key=entry.task if primary else f"{entry.task}@{phash[:8]}",
                    task=entry.task,
                    label=label,
                    metric=entry.metric,
                    protocol_hash=phash,
                    protocol=proto,
                    primary=primary,
                    why=why,
                    n_models=len(models[(entry.task, phash)]),
                )
            )
        if not hashes:
            notes.append(f"{entry.task}: no finished results in the store.")
    return columns


def judge_label(protocol: dict[str, Any]) -> str:
    """`official+judge:MODEL` for a judged column's protocol, "" for a rule-based one."""
    judge = protocol.get("judge")
    return f"official+judge:{judge['model']}" if isinstance(judge, dict) and judge.get("model") else ""


def _main_protocol(
    entry: BoardTask,
    hashes: list[str],
    models: dict[tuple[str, str], set[str]],
    real: dict[Any, set[str]],
    protocols: dict[str, dict[str, Any]] | None = None,
) -> str | None:
    if entry.protocol:
        return next((h for h in hashes if h.startswith(entry.protocol)), None)
    # a judged column is never the main one unless pinned: the aggregate stays rule-based
    hashes = [h for h in hashes if not judge_label((protocols or {}).get(h, {}))]
    if not hashes:
        return None
    # most real models first (chance rows must not decide the main protocol), then most rows
    return min(hashes, key=lambda h: (-len(real[(entry.task, h)]), -len(models[(entry.task, h)]), h))


def section_key(title: str) -> str:
    """An id for a section title: letters and digits, `-` for the rest."""
    return "sec-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "other")


def section_title(main: dict[str, Any], other: dict[str, Any]) -> str:
    """What a non-main protocol changes, in words shared by every task it changes in the same way, so
    that e.g. the chain-of-thought columns of all tasks form one section (the detail is `protocol_diff`)."""
    if judge_label(other):
        return f"LLM judge: {judge_label(other)}"
    if not main:
        return "another protocol (no main protocol)"
    fields = {k for k in set(main) | set(other) if main.get(k) != other.get(k)}
    parts: list[str] = []
    gen_a, gen_b = main.get("generation") or {}, other.get("generation") or {}
    fields.discard("generation")
    if "prompt_style" in fields:
        parts.append(f"prompt: {other.get('prompt_style')}")
        fields -= {"prompt_style", "prompt_template", "prompts_fingerprint"}
    if "n" in fields:
        parts.append(f"subset (--limit): n={other.get('n')}")
        fields -= {"n", "dataset_fingerprint", "prompts_fingerprint"}
    if fields & {"dataset_fingerprint", "data_source"}:
        parts.append("other data (synth settings or data source)")
        fields -= {"dataset_fingerprint", "data_source", "prompts_fingerprint"}
    if gen_a.get("n_samples", 1) != gen_b.get("n_samples", 1):
        parts.append(f"pass@k: {gen_b.get('n_samples', 1)} generations per sample")
    rest = {k: v for k, v in gen_b.items() if k != "n_samples" and gen_a.get(k) != v}
    rest.update({k: None for k in gen_a if k != "n_samples" and k not in gen_b})
    if rest:  # a CoT run's longer token budget, another temperature or seed
        parts.append("generation: " + ", ".join(f"{k}={v}" for k, v in sorted(rest.items())))
    if fields:
        parts.append("other " + ", ".join(sorted(fields)))
    return "; ".join(parts) or "another protocol"


def _assign_sections(columns: list[Column]) -> None:
    main = {c.task: c.protocol for c in columns if c.primary}
    for column in columns:
        if not column.primary:
            column.section = section_title(main.get(column.task, {}), column.protocol)


def _gains(
    columns: list[Column],
    rows: list[Row],
    ablated: list[dict[str, Any]],
    protocols: dict[str, dict[str, Any]],
    runs: dict[str, dict[str, Any]],
    notes: list[str],
) -> list[GainColumn]:
    """Pair each image-ablation result with its model's result under the same protocol without the
    ablation; what cannot be paired is said in a note."""
    from vlmbench.leaderboard.samples import visual_gain  # reads sample files: only when there are gains

    by_slot = {(c.task, c.protocol_hash): c for c in columns}
    by_key = {r.key: r for r in rows}
    gain_columns: dict[str, GainColumn] = {}
    for result in sorted(ablated, key=lambda r: (r["task"], r["model_key"], r["protocol_hash"])):
        proto = protocols.get(result["protocol_hash"], {})
        kind = str(proto["image_ablation"])
        base = canonical_hash({k: v for k, v in proto.items() if k != "image_ablation"})
        column = by_slot.get((result["task"], base))
        row = by_key.get(result["model_key"])
        cell = row.cells.get(column.key) if row is not None and column is not None else None
        if row is None or column is None or cell is None:
            name = runs[result["run_id"]]["record"]["model"]["name"]
            notes.append(
                f"{name}: its {kind}-image run of {result['task']} ({result['run_id']}) has no run of the "
                "same model under the same protocol without the ablation, so it gives no visual gain."
            )
            continue
        key = f"{column.key}~{kind}"
        if key not in gain_columns:
            gain_columns[key] = GainColumn(
                key=key,
                column=column.key,
                task=column.task,
                ablation=kind,
                label=f"{column.label} visual gain ({kind})",
                primary=column.primary,
                protocol_hash=result["protocol_hash"],
            )
        row.gains[key] = visual_gain(runs[cell.run_id], runs[result["run_id"]], column.task, cell, result)
        if result["run_id"] not in row.runs:
            row.runs.append(result["run_id"])
            row.runs.sort()
    order = {c.key: i for i, c in enumerate(columns)}
    return sorted(gain_columns.values(), key=lambda g: (order[g.column], g.ablation))


def _rows(columns: list[Column], results: Any, runs: dict[str, dict[str, Any]]) -> list[Row]:
    by_slot = {(c.task, c.protocol_hash): c for c in columns}
    rows: dict[str, Row] = {}
    for r in results:
        run = runs[r["run_id"]]
        record = run["record"]
        row = rows.get(r["model_key"])
        if row is None:
            row = rows[r["model_key"]] = Row(
                key=r["model_key"],
                name=record["model"]["name"],
                backend=record["model"]["backend"],
                n_params=run["n_params"],
                algorithm=run["algorithm"],
                base_model=run["base_model"],
                baseline=run["backend"] == BASELINE_BACKEND,
                slug=slugify(record["model"]["name"], r["model_key"]),
            )
        column = by_slot[(r["task"], r["protocol_hash"])]
        row.cells[column.key] = Cell(
            value=r["official"],
            lo=r["official_lo"],
            hi=r["official_hi"],
            n=r["n"],
            robust=r["robust"],
            tokens_out=r["tokens_out"] or 0,
            run_id=r["run_id"],
            n_failed=r["n_failed"] or 0,
            failures=r["failures"],
        )
        if row.algorithm is None and run["algorithm"]:  # any run of the weights may know how they were made
            row.algorithm, row.base_model = run["algorithm"], run["base_model"]
        if r["run_id"] not in row.runs:
            row.runs.append(r["run_id"])
    for row in rows.values():
        row.runs.sort()
    return list(rows.values())


def _mark_best(columns: list[Column], rows: list[Row]) -> None:
    for column in columns:
        cells = [row.cells[column.key] for row in rows if column.key in row.cells]
        if not cells:
            continue
        best = max(cells, key=lambda c: c.value)
        for cell in cells:
            cell.best = cell.value == best.value
            cell.tied_best = not cell.best and cell.hi >= best.lo


def statistical_ranks(intervals: list[tuple[float, float]]) -> list[int]:
    """1 + how many intervals lie entirely above each one (higher is better)."""
    return [1 + sum(1 for lo, _ in intervals if lo > hi) for _, hi in intervals]


def _aggregate(board: Board, primary: list[Column], rows: list[Row]) -> None:
    for row in rows:
        row.missing = [c.label for c in primary if c.key not in row.cells]
        cells = [row.cells[c.key] for c in primary if c.key in row.cells]
        if cells and not row.missing:
            row.accuracy = sum(c.value for c in cells) / len(cells)
            row.n_failed = sum(c.n_failed for c in cells)
            total_n = sum(c.n for c in cells)
            row.tokens_per_sample = sum(c.tokens_out for c in cells) / total_n if total_n else 0.0
    complete = [r for r in rows if r.accuracy is not None]
    if board.aggregate == "mean":
        for row in complete:
            cells = [row.cells[c.key] for c in primary]
            se = math.sqrt(sum(((c.hi - c.lo) / (2 * Z95)) ** 2 for c in cells)) / len(cells)
            row.aggregate = row.accuracy
            row.agg_lo = max(0.0, row.accuracy - Z95 * se)
            row.agg_hi = min(1.0, row.accuracy + Z95 * se)
        ranks = statistical_ranks([(r.agg_lo or 0.0, r.agg_hi or 0.0) for r in complete])
    else:
        per_task: dict[str, list[int]] = {}
        for column in primary:
            cells = [r.cells[column.key] for r in complete]
            per_task[column.key] = statistical_ranks([(c.lo, c.hi) for c in cells])
        for i, row in enumerate(complete):
            row.aggregate = sum(ranks[i] for ranks in per_task.values()) / len(primary)
        ranks = [1 + sum(1 for o in complete if (o.aggregate or 0) < (r.aggregate or 0)) for r in complete]
    for row, rank in zip(complete, ranks, strict=True):
        row.rank = rank
    counts = defaultdict(int)
    for row in complete:
        counts[row.rank] += 1
    for row in complete:
        row.tied = counts[row.rank] > 1
    sign = -1 if board.aggregate == "mean" else 1
    rows.sort(
        key=lambda r: (
            r.rank is None,
            r.rank or 0,
            sign * (r.aggregate or 0.0),
            -(r.accuracy or 0.0),  # equal mean ranks: the more accurate first
            -len(r.cells),
            r.name,
            r.key,
        )
    )
