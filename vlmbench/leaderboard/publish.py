"""`publish(board, store, out_dir)`: write a board as one self-contained HTML page (plus a page per model
with its sample browser), a Markdown table, a tidy CSV and JSON.

Pages are rendered by jinja2 with autoescaping on; the only JSON placed inside a <script> goes through
`script_json`, which escapes `<`, `>` and `&` so that no string can close the script element. Nothing
is fetched at view time (inline CSS and JS, images as data: URLs; a trained model's training curves are
a PNG copied beside its page), so the pages work from file://.
The site is written beside the output folder and swapped in complete (`vlmbench.leaderboard.site`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from vlmbench import __version__
from vlmbench.leaderboard.board import Board, load_board
from vlmbench.leaderboard.methodology import methodology
from vlmbench.leaderboard.plot import efficiency_plot
from vlmbench.leaderboard.samples import Thumbnails, task_samples
from vlmbench.leaderboard.site import MODELS_DIR, staged, swap, target_folder, write_marker
from vlmbench.leaderboard.table import Cell, Column, Gain, GainColumn, Row, Table, build_table, slugify
from vlmbench.names import embedded_label
from vlmbench.records.store import Store
from vlmbench.registry import get_task
from vlmbench.stats import INTERVAL_NOTE, format_interval

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_SAMPLES_PER_TASK = 25
# what `vlmbench train-baseline` leaves in a training run's folder (train_adapters.rundir / .curves;
# vlmbench never imports train_adapters)
TRAIN_RECIPE, CURVES = "train_recipe.json", "curves.png"
HASHED = re.compile(r"-[0-9a-f]{8}(-\d+)?$")  # a display name's config hash (and a taken name's -2)


@dataclass(frozen=True)
class Published:
    index: Path
    readme: Path
    csv: Path
    json: Path
    model_pages: list[Path]


def script_json(value: Any) -> Markup:
    """JSON safe inside <script>: `</script>`, `<!--` and `&` cannot appear as raw characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028")):
        text = text.replace(raw, escaped)
    return Markup(text.replace("\u2029", "\\u2029"))


def pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}"


def anchor(key: str) -> str:
    return "t-" + "".join(ch if ch.isalnum() else "-" for ch in key)


def interval_parts(value: float | None, low: float | None, high: float | None) -> tuple[str, str]:
    """`format_interval`'s text split into the value and its `[low, high]`, so that a page can link the
    value and set the interval beside it in small type (one formatting rule for every output)."""
    head, bracket, tail = format_interval(value, low, high).partition(" [")
    return head, f"[{tail}" if bracket else ""


def interval_range(low: float | None, high: float | None) -> str:
    """`36.5–46.0`: an interval as a range in %, set beside or beneath its value on the board."""
    return "" if low is None or high is None else f"{pct(low)}–{pct(high)}"


def signed(value: float) -> str:
    """A difference in points, always signed: `+12.5`, `-3.0`."""
    return f"{100 * value:+.1f}"


def gain_range(gain: Gain) -> str:
    """A gain's interval in points, `-3.0 to +5.0` (a dash between signed numbers would misread)."""
    return f"{signed(gain.lo)} to {signed(gain.hi)}"


def fingerprint_detail(fingerprint: dict[str, Any]) -> str:
    """What identifies the model beside its digest: files and bytes of a checkpoint, the hub commit,
    the server's model id, a baseline's seed; and the fingerprint's own note when it identifies less."""
    kind = fingerprint.get("kind")
    if kind == "local":
        files = fingerprint.get("files") or []
        detail = f"{len(files)} files, {fingerprint.get('bytes', 0):,} bytes"
    elif kind == "hub":
        commit = fingerprint.get("commit")
        detail = f"{fingerprint.get('repo')}@{fingerprint.get('revision')}, " + (
            f"commit {commit[:12]}" if commit else "commit unresolved"
        )
    elif kind == "server":
        detail = f"served as {fingerprint.get('served_id') or fingerprint.get('model')}"
        if fingerprint.get("served_root"):
            detail += f" ({fingerprint['served_root']})"
    elif kind == "baseline":
        detail = f"{fingerprint.get('strategy')}, seed {fingerprint.get('seed')}"
    else:
        detail = str(fingerprint.get("name", ""))
    note = fingerprint.get("note")
    return f"{detail}; {note}" if note else detail


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = pct
    env.filters["script_json"] = script_json
    env.globals["anchor"] = anchor
    env.globals["interval_parts"] = interval_parts
    env.globals["interval_range"] = interval_range
    env.globals["signed"] = signed
    env.globals["gain_range"] = gain_range
    env.globals["fingerprint_detail"] = fingerprint_detail
    env.globals["interval_note"] = INTERVAL_NOTE
    return env


def publish(
    board: str | Path | Board,
    store: Store | str | Path,
    out_dir: str | Path,
    samples_per_task: int = DEFAULT_SAMPLES_PER_TASK,
) -> Published:
    """Write index.html, README.md, results.csv, results.json and models/<model>.html as the whole of
    `out_dir`: the site is written beside it and swapped in complete (see `vlmbench.leaderboard.site`),
    so `out_dir` must be new, empty or a previous board."""
    board = board if isinstance(board, Board) else load_board(board)
    store = store if isinstance(store, Store) else Store(store)
    out = Path(out_dir)
    target = target_folder(out)
    table = build_table(board, store)  # everything is read before anything is written
    curves = name_trained_rows(table)
    with staged(out, target) as stage:
        pages = write_site(stage, board, table, samples_per_task, curves)
        write_marker(stage, {"board": board.name, "vlmbench_version": __version__})
        swap(out, stage, target)
    return Published(
        out / "index.html",
        out / "README.md",
        out / "results.csv",
        out / "results.json",
        [out / MODELS_DIR / name for name in pages],
    )


def _train_dir(run: dict[str, Any]) -> str | None:
    """The training folder a trained checkpoint's eval names (`vlmbench train-baseline` records one)."""
    return (run["record"].get("lineage") or {}).get("train_dir")


def training_folder(run: dict[str, Any]) -> Path | None:
    """The training run folder a trained checkpoint's eval names (`lineage.train_dir`): as recorded
    (relative to where training ran), else relative to a folder above the eval run's own, so a board
    published from elsewhere still finds it. None when it is not on this machine."""
    train_dir = _train_dir(run)
    if not train_dir:
        return None
    path = Path(train_dir)
    above = [] if path.is_absolute() else [parent / path for parent in Path(run["path"]).parents]
    return next((p for p in (path, *above) if p.is_dir()), None)


def _recorded_name(folder: Path | None) -> str | None:
    try:
        name = json.loads((folder / TRAIN_RECIPE).read_text(encoding="utf-8")).get("display_name")
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return name if isinstance(name, str) and name else None


def short_name(model: str) -> str:
    """A model as given, except the embedded default's cache path (`~/.cache/vlmbench/tiny-llava-v3`)."""
    path = Path(model)
    label = embedded_label(path.name)  # on any machine: a record names the cache folder where it ran
    return f"{label} (embedded default)" if label and len(path.parts) > 1 else model


def trained_name(run: dict[str, Any], folder: Path | None, names: dict[str, str]) -> str:
    """A trained checkpoint's display name: the one its run recorded (`<algo>-<start>-<hash>`), else
    (a run from before display names, or its folder not at hand) built alike from its lineage, the
    start named as its row on this board is (`names`: model -> shown name) without its hash."""
    recorded = _recorded_name(folder)
    if recorded:
        return recorded
    lineage = run["record"]["lineage"]
    base = str(lineage["base_model"])
    if base in names:
        start = Path(HASHED.sub("", names[base].split(" (")[0])).name  # a row shown as given: its folder
    else:
        path = Path(base)
        start = Path(path.parent.name if path.name == "final" else short_name(base).split(" (")[0]).name
    return f"{lineage['algorithm']}-{start or 'model'}-{lineage['config_hash'][:8]}"


def name_trained_rows(table: Table) -> dict[str, Path]:
    """Rows named for readers: a trained checkpoint by its run's display name (never `.../final` or a
    cache path), the embedded default by its short name; each row's start model likewise. Returns the
    rows' training curves (`curves.png` of the run folder, where it is at hand) by row key."""
    model = {r.key: table.runs[r.runs[0]]["record"]["model"]["name"] for r in table.rows if r.runs}
    trained = {
        r.key: next(table.runs[i] for i in r.runs if _train_dir(table.runs[i]))
        for r in table.rows
        if any(_train_dir(table.runs[i]) for i in r.runs)
    }
    names = {model.get(r.key, r.name): short_name(r.name) for r in table.rows if r.key not in trained}
    curves: dict[str, Path] = {}
    pending = dict(trained)
    while pending:  # a start before the runs trained from it (a cycle, never expected, ends the wait)
        waiting = {model.get(k) for k in pending}
        ready = [k for k, run in pending.items() if run["record"]["lineage"]["base_model"] not in waiting]
        for key in ready or list(pending):
            run = pending.pop(key)
            folder = training_folder(run)
            names[model.get(key, key)] = trained_name(run, folder, names)
            if folder is not None and (folder / CURVES).is_file():
                curves[key] = folder / CURVES
    for row in table.rows:
        shown = names.get(model.get(row.key, row.name), row.name)
        if shown != row.name:
            row.name, row.slug = shown, slugify(shown, row.key)
        if row.base_model:
            row.base_model = names.get(row.base_model, short_name(row.base_model))
    return curves


def write_site(
    folder: Path, board: Board, table: Table, samples_per_task: int, curves: dict[str, Path] | None = None
) -> list[str]:
    """Every file of the board into `folder` (a staging folder); returns the model pages' names.
    `curves` (row key -> a run's curves.png) are copied beside the model pages as `<slug>-curves.png`."""
    env = _environment()
    specs = cache(get_task)  # task files are parsed once per publish, not once per run
    write_file(folder / "index.html", _index_html(env, board, table, specs))
    (folder / MODELS_DIR).mkdir()
    thumbs = Thumbnails(specs)
    template = env.get_template("model.html.j2")
    pages = []
    for row in table.rows:
        name = f"{row.slug}.html"
        picture = None
        if curves and row.key in curves:
            picture = f"{row.slug}-curves.png"  # a stable name: the row's, never the run's path
            shutil.copyfile(curves[row.key], folder / MODELS_DIR / picture)
        write_file(
            folder / MODELS_DIR / name,
            _model_html(template, board, table, row, samples_per_task, thumbs, picture),
        )
        pages.append(name)
    write_file(folder / "README.md", markdown(table))
    write_file(folder / "results.csv", csv_text(table))
    write_file(folder / "results.json", json.dumps(to_json(table), indent=2, ensure_ascii=False) + "\n")
    return pages


def write_file(path: Path, text: str) -> None:
    """One file of the board, as UTF-8 with the text's own line ends; an OS error names the file."""
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as err:
        err.filename = err.filename or str(path)  # a failed write() (disk full) names no file
        raise


def _index_html(env: Environment, board: Board, table: Table, specs: Any) -> str:
    page_config = {
        "columns": [c.key for c in table.primary],  # the sortable main table
        "default_sort": "rank" if "rank" in board.columns else "model",
        "board": board.name,
    }
    return env.get_template("index.html.j2").render(
        board=board,
        table=table,
        methods=methodology(table.columns, specs),
        plot=efficiency_plot(table.rows),
        config=page_config,
        version=__version__,
        show=set(board.columns),
    )


def _model_html(
    template: Template,
    board: Board,
    table: Table,
    row: Row,
    limit: int,
    thumbs: Thumbnails,
    curves: str | None = None,
) -> str:
    sections = [
        task_samples(
            table.runs[cell.run_id], column.task, column.label, anchor(column.key), cell.n, limit, thumbs
        )
        for column in table.columns
        if (cell := row.cells.get(column.key)) is not None
    ]
    return template.render(
        board=board,
        row=row,
        columns=[c for c in table.columns if c.key in row.cells],
        gains=[(g, row.gains[g.key]) for g in table.gain_columns if g.key in row.gains],
        runs=[table.runs[r] for r in row.runs],
        sections=sections,
        version=__version__,
        limit=limit,
        curves=curves,
    )


# ---------------------------------------------------------------- Markdown, CSV, JSON


def md_escape(text: str) -> str:
    """Plain text in a Markdown table cell: no markup, no raw HTML, no column breaks."""
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "|*_`[]#":
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.split())


def _md_note(text: str) -> str:
    """A note keeps its `code` spans; it only loses what could break the page or the table."""
    return " ".join(
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").split()
    )


def _md_cell(cell: Cell | None, gains: Sequence[tuple[GainColumn, Gain]] = ()) -> str:
    """`41.2 (36.5–46.0) n=40`, `... n=40, 3 failed` for a partial result, and the model's visual gain on
    the column where it has one; bold: column best."""
    if cell is None:
        return "-"
    value = pct(cell.value)
    text = f"{f'**{value}**' if cell.best else value} ({interval_range(cell.lo, cell.hi)}) {cell.samples}"
    for column, gain in gains:
        text += f"; visual gain {signed(gain.value)} vs {column.ablation}"
    return text


def _rank(row: Row) -> str:
    if row.rank is None:
        return "-"
    return f"={row.rank}" if row.tied else str(row.rank)


def _aggregate_text(table: Table, row: Row) -> str:
    if row.aggregate is None:
        return f"- (lacks {', '.join(row.missing)})" if row.missing else "-"
    failed = f" ({row.n_failed} failed)" if row.n_failed else ""
    if table.board.aggregate == "mean_rank":
        return f"{row.aggregate:.2f}{failed}"
    return f"{pct(row.aggregate)} ({interval_range(row.agg_lo, row.agg_hi)}){failed}"


def _md_table(head: list[str], lines: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
        *("| " + " | ".join(values) + " |" for values in lines),
    ]


def _md_name(row: Row) -> str:
    return md_escape(row.name) + (" (chance)" if row.baseline else "")


def markdown(table: Table) -> str:
    """The main table first (one column per task, its main protocol), then a section per other
    protocol and one for visual gains, each with a table of its own."""
    board = table.board
    show = set(board.columns)
    head: list[str] = []
    if "rank" in show:
        head.append("rank")
    head.append("model")
    head += [h for h in ("size", "backend", "algorithm") if h in show]
    columns = table.primary if "tasks" in show else []
    head += [md_escape(c.label) for c in columns]
    if "aggregate" in show:
        head.append("mean rank" if board.aggregate == "mean_rank" else "mean")
    body = []
    for row in table.rows:
        values = []
        if "rank" in show:
            values.append(_rank(row))
        values.append(_md_name(row))
        extra = {
            "size": row.size,
            "backend": md_escape(row.backend),
            "algorithm": md_escape(row.algorithm or "-"),
        }
        values += [extra[h] for h in ("size", "backend", "algorithm") if h in show]
        values += [_md_cell(row.cells.get(c.key), _main_gains(table, row, c)) for c in columns]
        if "aggregate" in show:
            values.append(_aggregate_text(table, row))
        body.append(values)
    lines = [f"# {md_escape(board.title)}", "", md_escape(board.description), ""]
    lines += _md_table(head, body)
    lines += [
        "",
        f"Values: the task's main metric (%) under its main protocol, with its interval low–high "
        f"({INTERVAL_NOTE}) and n samples; `k failed`: samples the backend never answered (a run added "
        "with --allow-partial), counted as wrong; bold: column best. Rank: 1 + the number of models "
        "whose interval lies entirely above; `=` marks a tie. The mean is over the main columns, only for "
        "models with a result in every one (`lacks` names the missing tasks). Visual gain: the score "
        "minus the model's score with the images ablated, in points.",
    ]
    sections = table.sections
    if sections:
        lines += ["", "## Other protocols", "", "Never averaged with the main columns, nor in the mean."]
    for section in sections:
        lines += ["", f"### {md_escape(section.title)}", ""]
        lines += [f"- {md_escape(c.label)}: {md_escape(c.why)}" for c in section.columns]
        shown = [r for r in table.rows if any(c.key in r.cells for c in section.columns)]
        head = ["model", *(md_escape(c.label) for c in section.columns)]
        cells = [[_md_name(r), *(_md_cell(r.cells.get(c.key)) for c in section.columns)] for r in shown]
        lines += ["", *_md_table(head, cells)]
    if table.gain_columns:
        lines += ["", "## Visual gain", "", _GAIN_NOTE, ""]
        shown = [r for r in table.rows if r.gains]
        lines += _md_table(
            ["model", *(md_escape(g.label) for g in table.gain_columns)],
            [[_md_name(r), *(_md_gain(r.gains.get(g.key)) for g in table.gain_columns)] for r in shown],
        )
    if table.notes:
        lines += ["", "Notes:", ""] + [f"- {_md_note(n)}" for n in table.notes]
    lines += [
        "",
        f"Protocol hashes and per-sample outputs: `index.html`. Generated by vlmbench {__version__}.",
        "",
    ]
    return "\n".join(lines)


_GAIN_NOTE = (
    "A model's score minus its score on the same items with the images replaced (`vlmbench eval "
    "--image-ablation blank|shuffle`), in points, with its 95% interval: paired on the shared samples "
    "as `vlmbench compare` does (exact McNemar, Newcombe's interval) when both runs' samples are at hand, "
    "else the difference of the two means (unpaired, said so). Near zero: the model answers without "
    "looking."
)


def _md_gain(gain: Gain | None) -> str:
    if gain is None:
        return "-"
    how = f"paired, n={gain.n}" if gain.paired else "difference of means"
    return f"{signed(gain.value)} ({gain_range(gain)}; {how})"


def _main_gains(table: Table, row: Row, column: Column) -> list[tuple[GainColumn, Gain]]:
    """The visual gains shown in `column`'s cell of the main table (one per ablation kind)."""
    mine = [g for g in table.gain_columns if g.column == column.key and g.key in row.gains]
    return [(g, row.gains[g.key]) for g in mine]


CSV_FIELDS = [
    "board", "model", "model_key", "backend", "n_params", "algorithm", "base_model", "baseline",
    "task", "column", "main_column", "protocol_hash", "metric", "value", "ci_low", "ci_high",
    "robust", "n", "n_failed", "failures", "tokens_out", "run_id",
    "section", "differs", "ablation", "gain_method",
]  # fmt: skip
# `section`: "main" (the main table), the title of an other-protocol section, or "visual gain" (the line's
# value is a gain: score minus image-ablated score, run_id the ablated run); fields added after run_id so
# that readers by position keep working
VISUAL_GAIN = "visual gain"


def csv_text(table: Table) -> str:
    """One line per (model, column): the long form, ready for pandas or R."""
    handle = io.StringIO(newline="")
    writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in table.rows:
        for column in table.columns:
            cell = row.cells.get(column.key)
            if cell is None:
                continue
            writer.writerow({k: spreadsheet_safe(v) for k, v in _csv_line(table, row, column, cell).items()})
        for gain_column in table.gain_columns:
            gain = row.gains.get(gain_column.key)
            if gain is not None:
                line = _csv_gain_line(table, row, gain_column, gain)
                writer.writerow({k: spreadsheet_safe(v) for k, v in line.items()})
    return handle.getvalue()


def write_csv(table: Table, path: Path) -> None:
    write_file(path, csv_text(table))


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote;
    numbers stay numbers. Model names come from users' run records."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_line(table: Table, row: Row, column: Column, cell: Cell) -> dict[str, Any]:
    return {
        **_row_fields(table, row),
        "task": column.task,
        "column": column.label,
        "main_column": int(column.primary),
        "protocol_hash": column.protocol_hash,
        "metric": column.metric,
        "value": cell.value,
        "ci_low": cell.lo,
        "ci_high": cell.hi,
        "robust": "" if cell.robust is None else cell.robust,
        "n": cell.n,
        "n_failed": cell.n_failed,
        "failures": json.dumps(cell.failures, ensure_ascii=False) if cell.failures else "",
        "tokens_out": cell.tokens_out,
        "run_id": cell.run_id,
        "section": column.section,
        "differs": column.why,
        "ablation": "",
        "gain_method": "",
    }


def _row_fields(table: Table, row: Row) -> dict[str, Any]:
    return {
        "board": table.board.name,
        "model": row.name,
        "model_key": row.key,
        "backend": row.backend,
        "n_params": row.n_params if row.n_params is not None else "",
        "algorithm": row.algorithm or "",
        "base_model": row.base_model or "",
        "baseline": int(row.baseline),
    }


def _csv_gain_line(table: Table, row: Row, column: GainColumn, gain: Gain) -> dict[str, Any]:
    base = next(c for c in table.columns if c.key == column.column)
    return {
        **_row_fields(table, row),
        "task": column.task,
        "column": column.label,
        "main_column": 0,
        "protocol_hash": column.protocol_hash,
        "metric": base.metric,
        "value": gain.value,
        "ci_low": gain.lo,
        "ci_high": gain.hi,
        "robust": "",
        "n": gain.n,
        "n_failed": 0,
        "failures": "",
        "tokens_out": "",
        "run_id": gain.ablated_run_id,
        "section": VISUAL_GAIN,
        "differs": f"images ablated ({column.ablation}) in {base.label}",
        "ablation": column.ablation,
        "gain_method": "paired" if gain.paired else "difference of means",
    }


def _gain_json(gain: Gain) -> dict[str, Any]:
    return {
        "value": gain.value,
        "ci_low": gain.lo,
        "ci_high": gain.hi,
        "n": gain.n,
        "paired": gain.paired,
        "test": gain.test,
        "p_value": gain.p_value,
        "score": gain.score,
        "ablated_score": gain.ablated,
        "run_id": gain.run_id,
        "ablated_run_id": gain.ablated_run_id,
    }


def to_json(table: Table) -> dict[str, Any]:
    board = table.board
    return {
        "board": {
            "name": board.name,
            "title": board.title,
            "aggregate": board.aggregate,
            "tasks": [t.model_dump(exclude_none=True) for t in board.tasks],
        },
        "interval": INTERVAL_NOTE,
        "columns": [
            {
                "key": c.key,
                "task": c.task,
                "label": c.label,
                "metric": c.metric,
                "main": c.primary,
                "protocol_hash": c.protocol_hash,
                "differs": c.why,
                "n_models": c.n_models,
                "section": c.section,
            }
            for c in table.columns
        ],
        "sections": [
            {"key": sec.key, "title": sec.title, "columns": [c.key for c in sec.columns]}
            for sec in table.sections
        ],
        "visual_gain_columns": [
            {
                "key": g.key,
                "column": g.column,
                "task": g.task,
                "ablation": g.ablation,
                "label": g.label,
                "main": g.primary,
                "protocol_hash": g.protocol_hash,
            }
            for g in table.gain_columns
        ],
        "rows": [
            {
                "model": r.name,
                "model_key": r.key,
                "backend": r.backend,
                "n_params": r.n_params,
                "algorithm": r.algorithm,
                "base_model": r.base_model,
                "baseline": r.baseline,
                "rank": r.rank,
                "tied": r.tied,
                "aggregate": r.aggregate,
                "aggregate_ci_low": r.agg_lo,
                "aggregate_ci_high": r.agg_hi,
                "n_failed": r.n_failed,
                "tokens_per_sample": r.tokens_per_sample,
                "missing": r.missing,
                "runs": r.runs,
                "cells": {
                    key: {
                        "value": c.value,
                        "ci_low": c.lo,
                        "ci_high": c.hi,
                        "n": c.n,
                        "n_failed": c.n_failed,
                        "failures": c.failures,
                        "robust": c.robust,
                        "tokens_out": c.tokens_out,
                        "run_id": c.run_id,
                    }
                    for key, c in r.cells.items()
                },
                "visual_gain": {key: _gain_json(g) for key, g in r.gains.items()},
            }
            for r in table.rows
        ],
        "notes": table.notes,
        "vlmbench_version": __version__,
    }
