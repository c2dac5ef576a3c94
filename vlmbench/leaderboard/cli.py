"""`vlmbench leaderboard add | rebuild | publish`: a thin face over `vlmbench.records.store` and `publish`.

Imports of the store and the page writer happen inside the commands, so mounting this app costs
`vlmbench --help` nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vlmbench.errors import VlmbenchError

leaderboard_app = typer.Typer(
    help="Index run records and publish comparable leaderboards (HTML, Markdown, CSV, JSON).",
    no_args_is_help=True,
)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="SQLite index [$VLMBENCH_STORE, else runs/vlmbench.sqlite]."),
]


def _fail(err: Exception) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@leaderboard_app.command("add")
def add_command(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="Run folders (holding run.json), or folders of run folders.")
    ],
    store: StoreOption = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Index the good runs, report the bad ones (exit code 1).")
    ] = False,
) -> None:
    """Index runs; adding the same run again changes nothing, a run finished since is updated.
    One bad run record fails the whole call (nothing is written) unless --skip-bad."""
    from vlmbench.records.store import Store

    index = Store(store)
    try:
        results = index.add(run_dirs, skip_bad=skip_bad)
    except VlmbenchError as err:
        _fail(err)
    out, err_out = Console(), Console(stderr=True)
    for result in results:
        if result.error:
            err_out.print(f"[yellow]skipped:[/] {result.error}", highlight=False, soft_wrap=True)
        else:
            out.print(f"{result.action:9} {result.run_id}  ({result.path})", highlight=False, soft_wrap=True)
    actions = ("added", "updated", "unchanged", "skipped")
    counts = {a: sum(1 for r in results if r.action == a) for a in actions}
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    out.print(f"store {index.path}: {summary}", highlight=False, soft_wrap=True)
    if counts["skipped"]:
        raise typer.Exit(1)


@leaderboard_app.command("rebuild")
def rebuild_command(
    store: StoreOption = None,
    root: Annotated[
        list[Path] | None,
        typer.Option("--root", help="Folder of run folders to index [the store's folder]; repeatable."),
    ] = None,
) -> None:
    """Recreate the index from the run records (the records are the source of truth)."""
    from vlmbench.records.store import Store

    index = Store(store)
    try:
        results = index.rebuild(root or None)
    except VlmbenchError as err:
        _fail(err)
    Console().print(f"store {index.path}: rebuilt from {len(results)} runs", highlight=False, soft_wrap=True)


@leaderboard_app.command("publish")
def publish_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the board into.")],
    board: Annotated[str, typer.Option("--board", help="leaderboards/NAME.yaml or a file.")] = "default",
    store: StoreOption = None,
    samples: Annotated[int, typer.Option(help="Samples per task in each model's browser.", min=0)] = 25,
) -> None:
    """Write index.html (+ a page per model), README.md, results.csv and results.json."""
    from vlmbench.leaderboard.publish import publish
    from vlmbench.records.store import Store

    try:
        result = publish(board, Store(store), out, samples_per_task=samples)
    except VlmbenchError as err:
        _fail(err)
    Console().print(
        f"wrote {result.index} ({len(result.model_pages)} model pages), {result.readme.name}, "
        f"{result.csv.name}, {result.json.name}",
        highlight=False,
        soft_wrap=True,
    )
