"""The `vlmbench` command: a thin face over the library (parse, call one function, print)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vlmbench import __version__
from vlmbench.errors import VlmbenchError

app = typer.Typer(help="Comparable evaluation for VLM reasoning.", no_args_is_help=True, add_completion=False)
tasks_app = typer.Typer(help="List the task registry, or show one task.", invoke_without_command=True)
app.add_typer(tasks_app, name="tasks")
synth_app = typer.Typer(help="Procedural tasks: export generated items.", no_args_is_help=True)
app.add_typer(synth_app, name="synth")


class _Consoles:
    """Consoles made on first use, so the terminal width (COLUMNS) is read when a command runs."""

    @property
    def out(self) -> Console:
        return Console()

    @property
    def err(self) -> Console:
        return Console(stderr=True)


_consoles = _Consoles()


def _fail(err: Exception) -> None:
    _consoles.err.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        _consoles.out.print(f"vlmbench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """vlmbench: one task registry, official scoring, comparable numbers."""


@tasks_app.callback()
def tasks_list(ctx: typer.Context) -> None:
    """Table of every registered task (name, version, n, source, metric)."""
    if ctx.invoked_subcommand is not None:
        return
    from vlmbench.registry import all_tasks

    try:
        specs = all_tasks()
    except VlmbenchError as err:
        _fail(err)
    table = Table(title="vlmbench tasks")
    for column in ("name", "version", "n", "source", "metric", "scorer", "title"):
        wrap = "fold" if column in ("source", "title") else "ellipsis"
        table.add_column(
            column, justify="right" if column == "n" else "left", no_wrap=column == "name", overflow=wrap
        )
    for spec in specs:
        hub, synth = spec.source.hub, spec.source.synth
        if synth is not None:
            source = f"generated: {synth.generator} (difficulty {synth.difficulty}, seed {synth.seed})"
        elif hub is not None:
            source = f"{hub.path}:{hub.name + '/' if hub.name else ''}{hub.split}"
        else:
            source = "local only"
        size = str(synth.n if synth else spec.source.size or "-")
        table.add_row(spec.name, spec.version, size, source, spec.metrics.main, spec.scorer, spec.title)
    _consoles.out.print(table)


@tasks_app.command("show")
def tasks_show(name: Annotated[str, typer.Argument(help="Task name.")]) -> None:
    """Everything a task file declares, with its scorer's conventions."""
    from vlmbench.registry import get_task
    from vlmbench.scoring import get_scorer

    try:
        spec = get_task(name)
    except VlmbenchError as err:
        _fail(err)
    scorer = get_scorer(spec.scorer).describe()
    _consoles.out.rule(f"{spec.name} v{spec.version}: {spec.title}")
    _consoles.out.print(spec.description, highlight=False)
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, Any]] = [
        ("license", spec.license),
        ("homepage", spec.homepage or "-"),
        ("hub", spec.source.hub.model_dump(exclude_none=True) if spec.source.hub else spec.source.hub_note),
        ("local", spec.source.local.model_dump()),
        ("answer type", str(getattr(spec.answer_type, "value", spec.answer_type))),
        ("extractor", spec.extractor),
        ("scorer", f"{scorer['id']} v{scorer['version']}"),
        ("official", scorer["official"]),
        ("robust", scorer["robust"]),
        ("metrics", spec.metrics.model_dump()),
        ("generation", spec.generation.model_dump()),
        ("system prompt", spec.prompts.system or "(none)"),
    ]
    rows += [(f"prompt: {style}", text) for style, text in spec.prompts.templates.items()]
    if spec.notes:
        rows.append(("notes", spec.notes))
    for key, value in rows:
        table.add_row(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    _consoles.out.print(table, highlight=False)
    _consoles.out.print("[bold]citation[/]")
    _consoles.out.print(spec.citation, highlight=False, markup=False)


def _fmt(value: Any) -> str:
    return f"{100 * value:.2f}" if isinstance(value, float) else ("-" if value is None else str(value))


@app.command()
def score(
    task: Annotated[str, typer.Option("--task", "-t", help="Task name (see `vlmbench tasks`).")],
    predictions: Annotated[Path, typer.Option("--predictions", "-p", help='JSONL of {"id", "prediction"}.')],
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", help="Local data folder (items.jsonl); default: the HF hub."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Per-sample scores JSONL [default: <predictions>.scores.jsonl]."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N items.")] = None,
    n: Annotated[int | None, typer.Option(help="Procedural tasks: number of items generated.")] = None,
    difficulty: Annotated[int | None, typer.Option(help="Procedural tasks: difficulty 1-3.")] = None,
    seed: Annotated[int | None, typer.Option(help="Procedural tasks: generation seed.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (see README) instead of tables.")
    ] = False,
) -> None:
    """Rescore a predictions file (from vlmbench or any other harness) under the task's official rule."""
    from vlmbench.rescore import score_predictions, write_sample_scores

    try:
        options = {"n": n, "difficulty": difficulty, "seed": seed}
        synth = {key: value for key, value in options.items() if value is not None}
        report = score_predictions(task, predictions, data=data, limit=limit, synth=synth)
        out = output or predictions.with_name(predictions.stem + ".scores.jsonl")
        write_sample_scores(report, out)
    except (VlmbenchError, OSError) as err:
        _fail(err)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
        return
    metrics = report.metrics
    table = Table(title=f"{report.task.name} v{report.task.version} ({report.task.metrics.main}, %)")
    for column in ("n", "missing", "official", "robust", "unparsed"):
        table.add_column(column, justify="right")
    table.add_row(
        str(len(report.scores)),
        str(report.n_missing),
        _fmt(metrics["official"]),
        _fmt(metrics["robust"]),
        _fmt(metrics["unparsed_rate"]),
    )
    _consoles.out.print(table)
    named = {
        k: v for k, v in metrics.items() if k not in ("official", "robust", "unparsed_rate", "breakdowns")
    }
    if named:
        _consoles.out.print("  ".join(f"{k}={_fmt(v)}" for k, v in named.items()), highlight=False)
    for field, groups in metrics["breakdowns"].items():
        sub = Table(title=f"by {field}")
        for column in (field, "n", "official", "robust"):
            sub.add_column(column, justify="left" if column == field else "right")
        for value, row in groups.items():
            sub.add_row(value, str(row["n"]), _fmt(row["official"]), _fmt(row["robust"]))
        _consoles.out.print(sub)
    if report.unknown_ids:
        shown = ", ".join(report.unknown_ids[:5]) + (" ..." if len(report.unknown_ids) > 5 else "")
        _consoles.err.print(
            f"[yellow]warning:[/] {len(report.unknown_ids)} prediction ids not in the task: {shown}"
        )
    _consoles.out.print(f"per-sample scores: {out}", highlight=False)


@synth_app.command("export")
def synth_export(
    task: Annotated[str, typer.Option("--task", "-t", help="A procedural task (synth_*).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write items.jsonl and images/ into.")],
    n: Annotated[int | None, typer.Option(help="Number of items [default: the task's].")] = None,
    difficulty: Annotated[int | None, typer.Option(help="1, 2 or 3 [default: the task's].")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed [default: the task's].")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing items.jsonl.")] = False,
) -> None:
    """Write generated items in the local dataset format (inspect them, share them, train on them)."""
    from vlmbench.data.fingerprint import dataset_fingerprint
    from vlmbench.data.local import load_items_jsonl
    from vlmbench.synth import export_task

    try:
        items = export_task(task, out, n=n, difficulty=difficulty, seed=seed, overwrite=overwrite)
        count = len(load_items_jsonl(items))
        fingerprint = dataset_fingerprint(load_items_jsonl(items))
    except VlmbenchError as err:
        _fail(err)
    _consoles.out.print(f"wrote {count} items to {items} (fingerprint {fingerprint[:16]})", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    app()
