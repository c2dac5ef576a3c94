"""`vlmbench leaderboard add | rebuild | publish`: a thin face over `vlmbench.records.store` and `publish`.

Imports of the store and the page writer happen inside the commands, so mounting this app costs
`vlmbench --help` nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

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


def _fail(err: Exception | str) -> NoReturn:
    Console(stderr=True).print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Bad input, and OS errors the store and the publisher did not already name (read-only, disk
    full), end in one line on stderr and exit code 2, never in a traceback."""
    from vlmbench.errors import os_error_reason

    try:
        yield
    except VlmbenchError as err:
        _fail(err)
    except OSError as err:
        _fail(f"{err.filename or 'vlmbench'}: {os_error_reason(err)}")


ACTIONS = ("added", "updated", "unchanged", "skipped", "refused")


def _report(results: list[Any]) -> dict[str, int]:
    """Each indexed run's action on stdout, each refused or skipped run with its reason on stderr;
    returns how many runs took each action."""
    out, err_out = Console(), Console(stderr=True)
    for result in results:
        if result.error:
            colour = "red" if result.action == "refused" else "yellow"
            err_out.print(f"[{colour}]{result.action}:[/] {result.error}", highlight=False, soft_wrap=True)
        else:
            out.print(f"{result.action:9} {result.run_id}  ({result.path})", highlight=False, soft_wrap=True)
    return {a: sum(1 for r in results if r.action == a) for a in ACTIONS}


@leaderboard_app.command("add")
def add_command(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(help="Run folders (holding run.json), or folders with run folders anywhere below."),
    ],
    store: StoreOption = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Index the good runs, report the bad ones (exit code 1).")
    ] = False,
    allow_partial: Annotated[
        bool,
        typer.Option(
            "--allow-partial",
            help="Also index runs with partial tasks (some samples failed): failed samples count as wrong, "
            "and the board marks each such cell with how many failed. Remembered per run (rebuild too).",
        ),
    ] = False,
) -> None:
    """Index runs; adding the same run again changes nothing, a run finished since is updated. Run records
    are found anywhere under the folders given (training runs keep theirs deep).

    A failed run (no sample answered) is always refused; a partial run (some samples failed) is refused
    unless --allow-partial: rerun the eval to retry its failed samples instead. Refused runs are printed
    as `refused: <reason>` on stderr; the others are still indexed. One bad run record fails the whole
    call (nothing is written) unless --skip-bad.

    Exit codes: 0 every run indexed; 1 some runs refused or skipped (the rest indexed); 2 bad input or
    a bad run record (nothing written).
    """
    from vlmbench.records.store import Store

    index = Store(store)
    with _one_line_errors():
        results = index.add(run_dirs, skip_bad=skip_bad, allow_partial=allow_partial)
    counts = _report(results)
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    Console().print(f"store {index.path}: {summary}", highlight=False, soft_wrap=True)
    if counts["skipped"] or counts["refused"]:
        raise typer.Exit(1)


@leaderboard_app.command("rebuild")
def rebuild_command(
    store: StoreOption = None,
    root: Annotated[
        list[Path] | None,
        typer.Option(
            "--root", help="Folder to search for run folders, at any depth [the store's folder]; repeatable."
        ),
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Index the good runs, report the bad ones (exit code 1).")
    ] = False,
) -> None:
    """Recreate the index from the run records (the records are the source of truth). Runs the index knew
    are judged as they were added (with or without --allow-partial); runs found fresh, without it. Refused
    runs are printed on stderr and do not fail the rebuild (exit 0); bad records do, unless --skip-bad
    (exit 1)."""
    from vlmbench.records.store import INDEXED, Store

    index = Store(store)
    with _one_line_errors():
        results = index.rebuild(root or None, skip_bad=skip_bad)
    counts = _report([r for r in results if r.error])
    indexed = sum(1 for r in results if r.action in INDEXED)
    refused = f" ({counts['refused']} refused)" if counts["refused"] else ""
    Console().print(
        f"store {index.path}: rebuilt from {indexed} runs{refused}", highlight=False, soft_wrap=True
    )
    if counts["skipped"]:
        raise typer.Exit(1)


@leaderboard_app.command("publish")
def publish_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the board into.")],
    board: Annotated[str, typer.Option("--board", help="leaderboards/NAME.yaml or a file.")] = "default",
    store: StoreOption = None,
    samples: Annotated[int, typer.Option(help="Samples per task in each model's browser.", min=0)] = 25,
) -> None:
    """Write index.html (+ a page per model), README.md, results.csv and results.json as the whole of
    --out: the board is written beside it and swapped in complete, so a publish that is killed or runs
    out of disk leaves the previous board as it was. --out must be a new or empty folder or a previous
    board (a folder holding other files is refused, untouched). Exit code 2 on any error."""
    from vlmbench.leaderboard.publish import publish
    from vlmbench.records.store import Store

    with _one_line_errors():
        result = publish(board, Store(store), out, samples_per_task=samples)
    Console().print(
        f"wrote {result.index} ({len(result.model_pages)} model pages), {result.readme.name}, "
        f"{result.csv.name}, {result.json.name}",
        highlight=False,
        soft_wrap=True,
    )
