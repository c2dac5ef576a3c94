"""The `vlmbench` command: a thin face over the library (parse, call one function, print)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vlmbench import __version__, quick_exit
from vlmbench.errors import VlmbenchError
from vlmbench.leaderboard.cli import leaderboard_app  # light: typer only; the work is imported lazily

# Help is plain text (rich_markup_mode=None): help strings carry literal brackets ("[8]", "vlmbench[hf]")
# that Rich markup would swallow, and flags show no "<bool>" metavar.
_PLAIN: dict[str, Any] = {"rich_markup_mode": None}
app = typer.Typer(
    help="Comparable evaluation for VLM reasoning.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"max_content_width": 120},  # click's plain help wraps at 80 otherwise
    **_PLAIN,
)
tasks_app = typer.Typer(
    help="List the task registry, or show one task.", invoke_without_command=True, **_PLAIN
)
app.add_typer(tasks_app, name="tasks")
synth_app = typer.Typer(help="Procedural tasks: export generated items.", no_args_is_help=True, **_PLAIN)
app.add_typer(synth_app, name="synth")
app.add_typer(leaderboard_app, name="leaderboard")
data_app = typer.Typer(help="Check a task's data before a model runs on it.", no_args_is_help=True, **_PLAIN)
app.add_typer(data_app, name="data")


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
    """Exit 2 with the message verbatim: it often quotes user input or paths (`[x]`, `vlmbench[hf]`)."""
    _consoles.err.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
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
    """Table of every registered task (name, aliases, version, n, source, metric)."""
    if ctx.invoked_subcommand is not None:
        return
    _print_task_table()


def _print_task_table() -> None:
    """`vlmbench tasks`, and `vlmbench eval --tasks list` (lm-eval's spelling of the same question)."""
    from vlmbench.registry import aliases_of, all_tasks

    try:
        specs = all_tasks()
        aliases = {spec.name: ", ".join(aliases_of(spec.name)) or "-" for spec in specs}
    except VlmbenchError as err:
        _fail(err)
    table = Table(title="vlmbench tasks", caption="aliases: other names accepted for a task (lmms-eval's)")
    for column in ("name", "aliases", "version", "n", "source", "metric", "scorer", "title"):
        wrap = "fold" if column in ("source", "title", "aliases") else "ellipsis"
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
        cells = (spec.name, aliases[spec.name], spec.version, size, source, spec.metrics.main, spec.scorer)
        table.add_row(*(escape(c) for c in (*cells, spec.title)))
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
    _consoles.out.rule(escape(f"{spec.name} v{spec.version}: {spec.title}"))
    _consoles.out.print(spec.description, highlight=False, markup=False)
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, Any]] = [
        ("aliases", ", ".join(spec.aliases) or "-"),
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
    if spec.judge is not None:
        from vlmbench.judge import judge_sha256

        judge = spec.judge
        rows.append(("judge", f"reference LLM extractor (--judge), prompt sha256 {judge_sha256(spec)[:12]}"))
        rows.append(("judge source", judge.source))
        rows.append(("judge request", f"{judge.template!r} ({{query}} = {judge.query})"))
    if spec.notes:
        rows.append(("notes", spec.notes))
    for key, value in rows:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, escape(text))  # prompts and notes hold literal brackets
    _consoles.out.print(table, highlight=False)
    _consoles.out.print("[bold]citation[/]")
    _consoles.out.print(spec.citation, highlight=False, markup=False)


@tasks_app.command("export")
def tasks_export(
    out: Annotated[Path, typer.Argument(help="Folder to write the task package into (new or empty).")],
    fmt: Annotated[str, typer.Option("--format", help="Target harness: lm-eval.")] = "lm-eval",
    tasks: Annotated[
        str | None, typer.Option("--tasks", "-t", help="Names or globs [default: every exportable task].")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Local data root, as `vlmbench eval --data-dir` reads it.")
    ] = None,
    prompt: Annotated[
        str | None, typer.Option(help="Prompt style: direct, cot [default: the task's].")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Export only the first N samples of each task.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier export in OUT.")] = False,
) -> None:
    """Write tasks for another harness, which runs vlmbench's own prompts and scorers (docs/export.md)."""
    from vlmbench.export import export_tasks

    try:
        options = {"tasks": tasks, "data": data, "prompt": prompt, "limit": limit, "overwrite": overwrite}
        report = export_tasks(out, fmt, **options)
    except VlmbenchError as err:
        _fail(err)
    table = Table(title=f"exported to {report.out}")
    for column in ("task", "lm-eval task", "source", "n", "protocol hash"):
        table.add_column(column, justify="right" if column == "n" else "left")
    for task in report.tasks:
        n = str(task.n) if task.n is not None else "-"
        table.add_row(task.name, task.lm_eval_task, task.source, n, (task.protocol_hash or "at load")[:16])
    _consoles.out.print(table)
    for name, why in report.skipped.items():
        _consoles.err.print(f"skipped {name}: {why}", highlight=False, soft_wrap=True)
    names = ",".join(t.lm_eval_task for t in report.tasks)
    _consoles.out.print(
        f"run: lm_eval --model hf-multimodal --model_args pretrained=CKPT --include_path {report.out} "
        f"--tasks {names} --apply_chat_template",
        highlight=False,
        soft_wrap=True,
    )


def _fmt(value: Any) -> str:
    return f"{100 * value:.2f}" if isinstance(value, float) else ("-" if value is None else str(value))


def _with_interval(metrics: dict[str, Any], key: str) -> str:
    """`41.2 [36.5, 46.0]` for `metrics[key]` and its `{key}_ci95` (the value alone when it has none)."""
    from vlmbench.stats import format_interval

    low, high = metrics.get(f"{key}_ci95") or (None, None)
    return format_interval(metrics.get(key), low, high)


@app.command()
def score(
    run_dir: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATH",
            help="A run folder (runs/<run_id>): rescore it from its samples files; with --from, another "
            "harness's per-sample file.",
        ),
    ] = None,
    task: Annotated[str | None, typer.Option("--task", "-t", help="Task name (`vlmbench tasks`).")] = None,
    predictions: Annotated[
        Path | None, typer.Option("--predictions", "-p", help='JSONL of {"id", "prediction"}.')
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", help="Local data folder (items.jsonl); default: the HF hub."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Per-sample scores JSONL [default: scores/<predictions stem>.scores.jsonl]"
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N items.")] = None,
    n: Annotated[int | None, typer.Option(help="Procedural tasks: number of items generated.")] = None,
    difficulty: Annotated[int | None, typer.Option(help="Procedural tasks: difficulty 1-3.")] = None,
    seed: Annotated[int | None, typer.Option(help="Procedural tasks: generation seed.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (see README) instead of tables.")
    ] = False,
    extracted: Annotated[
        bool,
        typer.Option(
            "--extracted",
            help="Each prediction is an answer another harness already extracted: only the task's official "
            "normalisation and equality apply (semantics: extracted).",
        ),
    ] = False,
    from_format: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="FORMAT",
            help="Read PATH as another harness's per-sample output (mathvista, lmms-eval, vlmevalkit, "
            "lm-eval) and score it both ways: its extraction (--extracted semantics) and its raw responses "
            "(official, robust), listing the samples whose verdicts differ.",
        ),
    ] = None,
    by_position: Annotated[
        bool,
        typer.Option(
            "--by-position",
            help="--from, for files without item ids: a record's dataset position (doc_id, row) is the "
            "task sample's; right only when the task data is that harness's dataset in its order.",
        ),
    ] = False,
    skip_unknown: Annotated[
        bool, typer.Option("--skip-unknown", help="--from: list ids the task lacks instead of failing.")
    ] = False,
    lm_eval_filter: Annotated[
        str | None, typer.Option("--filter", help="--from lm-eval: the filter whose lines to read.")
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            help="openai:MODEL@BASE_URL - also score raw responses through the task's reference LLM "
            "extractor (MathVista), as column official+judge:MODEL; calls are cached, nothing is written "
            "into a run folder (use `vlmbench eval --judge` for that)."
        ),
    ] = None,
) -> None:
    """Rescore a predictions file (from vlmbench or any other harness) under the task's official rule,
    a whole run folder from its records alone (no model, no data, no images), or another harness's
    per-sample file (--from) both ways, to see why its number differs."""
    from vlmbench.rescore import score_predictions, write_sample_scores

    judge_client = _judge_client(judge)
    if from_format is not None:
        if run_dir is None or task is None:
            _fail(VlmbenchError("--from FORMAT needs the harness's file and --task"))
        from vlmbench.importers import ImportOptions

        opts = ImportOptions(by_position=by_position, skip_unknown=skip_unknown, filter=lm_eval_filter)
        _score_foreign(run_dir, from_format, task, data, limit, opts, as_json, judge_client)
        return
    if run_dir is not None:
        _score_run(run_dir, task, as_json, judge_client)
        return
    if task is None or predictions is None:
        _fail(VlmbenchError("give a run folder, or --task and --predictions"))
    try:
        options = {"n": n, "difficulty": difficulty, "seed": seed}
        synth = {key: value for key, value in options.items() if value is not None}
        report = score_predictions(
            task, predictions, data=data, limit=limit, synth=synth, extracted=extracted, judge=judge_client
        )
        out = output or Path("scores") / f"{predictions.stem}.scores.jsonl"  # never beside the input
        write_sample_scores(report, out)
    except (VlmbenchError, OSError) as err:
        _fail(err)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
        return
    from vlmbench.stats import INTERVAL_NOTE

    metrics = report.metrics
    given = "; predictions read as extracted answers (official normalisation only)" if extracted else ""
    table = Table(
        title=f"{report.task.name} v{report.task.version} ({report.task.metrics.main}, %)",
        caption=f"[{INTERVAL_NOTE}]; missing predictions count as wrong{given}",
    )
    judged = [f"{report.judge['label']} [95% CI]"] if report.judge else []
    for column in ("n", "missing", "official [95% CI]", "robust [95% CI]", "unparsed", *judged):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_row(
        str(len(report.scores)),
        str(report.n_missing),
        _with_interval(metrics, "official"),
        _with_interval(metrics, "robust"),
        _fmt(metrics["unparsed_rate"]),
        *([_judged_cell(report.judge, report.judge["label"])] if report.judge else []),
    )
    _consoles.out.print(table)
    headline = ("official", "robust", "unparsed_rate", "breakdowns", "official_ci95", "robust_ci95")
    named = {k: v for k, v in metrics.items() if k not in headline}
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
            f"[yellow]warning:[/] {len(report.unknown_ids)} prediction ids not in the task: {escape(shown)}"
        )
    _consoles.out.print(f"per-sample scores: {out}", highlight=False, markup=False)


def _verdict_cell(value: float | None) -> str:
    return "-" if value is None else (f"{value:g}" if value in (0.0, 1.0) else f"{value:.2f}")


def _short(text: str | None, width: int = 40) -> str:
    if text is None:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _judge_client(spec: str | None) -> Any:
    """The `--judge` client (None without one); a malformed spec exits 2 before anything is read."""
    if spec is None:
        return None
    from vlmbench.judge import Judge, JudgeTarget

    try:
        return Judge(JudgeTarget.parse(spec))
    except VlmbenchError as err:
        _fail(err)


def _score_foreign(
    path: Path,
    fmt: str,
    task: str,
    data: Path | None,
    limit: int | None,
    options: Any,
    as_json: bool,
    judge: Any = None,
) -> None:
    """`score --from`: the readings' scores, then the samples whose verdicts differ."""
    from vlmbench.importers import score_foreign
    from vlmbench.importers.compare import READINGS

    try:
        report = score_foreign(task, path, fmt, data=data, limit=limit, options=options, judge=judge)
    except (VlmbenchError, OSError) as err:
        _fail(err)
    payload = report.to_json()
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    head = Table(title=f"{path} ({fmt}) on {report.task.name} v{report.task.version} (%)")
    for column in ("reading", "semantics", "score", "agrees with theirs"):
        head.add_column(column, justify="left" if column in ("reading", "semantics") else "right")
    for name, reading in payload["readings"].items():
        agree = reading["agree_with_theirs"]
        head.add_row(
            name,
            reading["semantics"],
            _fmt(reading["score"]),
            f"{agree['agree']}/{agree['of']}" if agree else "-",
        )
    _consoles.out.print(head)
    _consoles.out.print(
        f"n={payload['n']}: {payload['n_matched']} in the file, {payload['n_missing']} missing (counted "
        f"wrong), {payload['n_unknown']} ids not in the task",
        highlight=False,
    )
    rows = report.differing()
    diff = Table(title=f"samples whose verdicts differ: {len(rows)} of {payload['n_matched']}")
    columns = ("id", "gold", "their extraction", *READINGS[:2], "official read", "official", "robust read")
    judged = ("judge read", "judge") if report.judge else ()
    for column in (*columns, "robust", *judged):
        diff.add_column(column, overflow="fold")
    for row in rows:
        r = row.readings
        diff.add_row(
            row.id,
            _short(row.gold),
            _short(r["theirs"].read),
            _verdict_cell(r["theirs"].verdict),
            _verdict_cell(r["extracted"].verdict),
            _short(r["official"].read),
            _verdict_cell(r["official"].verdict),
            _short(r["robust"].read),
            _verdict_cell(r["robust"].verdict),
            *((_short(r["judge"].read), _verdict_cell(r["judge"].verdict)) if judged else ()),
        )
    if rows:
        _consoles.out.print(diff)
    else:
        _consoles.out.print(diff.title, highlight=False)


def _score_run(run_dir: Path, task: str | None, as_json: bool, judge: Any = None) -> None:
    from vlmbench.rescore import rescore_run

    try:
        results = rescore_run(run_dir, task, judge=judge)
    except (VlmbenchError, OSError) as err:
        _fail(err)
    if as_json:
        payload = {"run": str(run_dir), "tasks": [r.to_json() for r in results]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    from vlmbench.stats import INTERVAL_NOTE

    table = Table(title=f"{run_dir} rescored from its records (%)", caption=f"[{INTERVAL_NOTE}]")
    columns = ("task", "n", "failed", "official [95% CI]", "was", "robust", "was ", "unparsed", "changed")
    labels = sorted({r.recomputed["judge"]["label"] for r in results if r.recomputed.get("judge")})
    for column in (*columns, *(f"{label} [95% CI]" for label in labels)):
        table.add_column(column, justify="left" if column == "task" else "right")
    for result in results:
        now, before = result.recomputed["metrics"] or {}, result.stored.get("metrics") or {}
        judged = [_judged_cell(result.recomputed.get("judge"), label) for label in labels]
        table.add_row(
            result.task,
            str(result.recomputed["n"]),
            str(result.recomputed["n_failed"]),
            _with_interval(now, "official"),
            _fmt(before.get("official")),
            _fmt(now.get("robust")),
            _fmt(before.get("robust")),
            _fmt(now.get("unparsed_rate")),
            str(len(result.changed_ids)),
            *judged,
        )
    _consoles.out.print(table)
    _consoles.out.print(quality_table({r.task: r.recomputed for r in results}))
    for result in results:
        if result.version_note:
            _consoles.err.print(f"[yellow]note:[/] {result.version_note}", highlight=False)


def parse_model_args(text: str | None, flag: str = "--model-args") -> dict[str, Any]:
    """`k=v,k2=v2` -> {k: v}; values read as YAML scalars (`true`, `8`, `0.5`, `bfloat16`)."""
    import yaml

    args: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise VlmbenchError(f"{flag}: expected key=value, got {part!r}")
        args[key.strip()] = yaml.safe_load(value) if value else ""
    return args


def _backend_args(options: dict[str, Any], model_args: str | None, device: str | None) -> None:
    """`--model-args` (replacing a run config's) and lm-eval's `--device`, which is the hf backend's
    `device` argument (so it names the run exactly as `--model-args device=...` does)."""
    if model_args is not None:
        options["model_args"] = parse_model_args(model_args)
        _warn_secrets(options["model_args"])
    if device is not None:
        if options["backend"] != "hf":
            raise VlmbenchError(f"--device applies to the hf backend, not {options['backend']!r}")
        args = options.setdefault("model_args", {})
        if args.get("device", device) != device:
            raise VlmbenchError(f"--device {device} contradicts --model-args device={args['device']}")
        args["device"] = device


def _warn_secrets(args: dict[str, Any]) -> None:
    """A key typed on the command line stays in the shell's history: used, never recorded, but say so."""
    from vlmbench.records.secrets import secret_keys

    found = secret_keys(args)
    if found:
        _consoles.err.print(
            f"[yellow]note:[/] {escape(', '.join(found))} in --model-args is passed to the backend and never "
            "recorded; prefer the environment (OPENAI_API_KEY, HF_TOKEN): shell history keeps command lines",
            highlight=False,
            soft_wrap=True,
        )


def load_run_config(path: Path) -> dict[str, Any]:
    """A `--config run.yaml`: a mapping of `vlmbench eval` option names (dashes or underscores)."""
    import yaml

    from vlmbench.errors import read_utf8

    try:
        data = yaml.safe_load(read_utf8(path, VlmbenchError)) or {}
    except (OSError, yaml.YAMLError) as err:
        raise VlmbenchError(f"{path}: cannot read run config ({err})") from None
    if not isinstance(data, dict):
        raise VlmbenchError(f"{path}: a run config must be a YAML mapping")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _apply_defaults(options: dict[str, Any]) -> None:
    """No model: the tiny bundled model (or the random baseline without torch). No tasks: the
    procedural tasks plus any task under --data-dir, 50 items each and at most 32 new tokens unless
    --limit / --max-new-tokens say otherwise: the whole pipeline in seconds."""
    from vlmbench.defaults import DEFAULT_LIMIT, DEFAULT_MAX_NEW_TOKENS, default_model, default_tasks

    if "model" not in options and options.get("backend") in (None, "hf"):
        chosen = default_model()
        options.setdefault("backend", chosen.backend)
        options["model"] = chosen.model
        if chosen.note:
            _consoles.err.print(f"[yellow]note:[/] {escape(chosen.note)}", highlight=False)
    elif "backend" not in options:
        baselines = ("random", "majority", "first-choice")
        options["backend"] = "baseline" if options.get("model") in baselines else "hf"
    if "tasks" not in options:
        data_dir = options.get("data_dir")
        options["tasks"] = default_tasks(Path(data_dir) if data_dir else None)
        options.setdefault("limit", DEFAULT_LIMIT)
        options.setdefault("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)


def summary_table(record: dict[str, Any], display: str | None = None) -> Table:
    """The end-of-run table: per task its status, n, the official score with its interval, robust,
    unparsed, failures, and pass@k where several generations were drawn per sample. The model is shown
    as `display`, else as given (the embedded default by a short name, not its cache path)."""
    from vlmbench.defaults import display_name
    from vlmbench.stats import INTERVAL_NOTE

    tasks = record["tasks"].values()
    extra = sorted(
        {k for t in tasks for k in (t["metrics"] or {}) if k.startswith(("pass@", "mean@"))},
        key=lambda k: (k.split("@")[0] != "pass", int(k.split("@")[1])),
    )
    shown = display or display_name(record["model"]["name"])
    title = escape(f"{shown} ({record['model']['backend']}): {record['status']}")
    table = Table(title=title, caption=f"%, official [{INTERVAL_NOTE}]; failed samples count as wrong")
    judged = sorted({t["judge"]["label"] for t in tasks if t.get("judge")})
    columns = ("task", "status", "n", "metric", "official [95% CI]", "robust", "unparsed", "failed", *extra)
    columns = (*columns, *(f"{label} [95% CI]" for label in judged))
    for column in columns:
        justify = "left" if column in ("task", "status", "metric") else "right"
        table.add_column(column, justify=justify, no_wrap=column in ("task", "official [95% CI]"))
    for name, result in record["tasks"].items():
        metrics = result["metrics"] or {}
        table.add_row(
            name,
            result["status"],
            str(result["n"]),
            result["metric"] or "-",
            _with_interval(metrics, "official"),
            _fmt(metrics.get("robust")),
            _fmt(metrics.get("unparsed_rate")),
            str(result["n_failed"]),
            *(_fmt(metrics.get(k)) for k in extra),
            *(_judged_cell(result.get("judge"), label) for label in judged),
        )
    return table


def _judged_cell(judge: dict[str, Any] | None, label: str) -> str:
    """A task's judged score under `label` (its interval, and how many samples have no verdict)."""
    from vlmbench.stats import format_interval

    if not judge or judge["label"] != label:
        return "-"
    low, high = judge.get("official_ci95") or (None, None)
    text = format_interval(judge.get("official"), low, high)
    return f"{text} ({judge['n_failed']} failed)" if judge["n_failed"] else text


def failure_lines(record: dict[str, Any]) -> list[str]:
    """What failed and what to do about it, one line a task (nothing when every sample was answered)."""
    from vlmbench.records.status import failed_samples

    lines = []
    if record.get("failure"):
        lines.append(f"run {record['status']}: {record['failure']}")
    for name, task in record["tasks"].items():
        if not task["n_failed"]:
            continue
        failed = failed_samples([(task["n"], task["n_failed"], task["failures"])])
        counted = "no score" if task["status"] == "failed" else "counted as wrong"
        lines.append(f"{name}: {failed}; {counted}")
    if record["status"] in ("partial", "failed"):
        lines.append("rerun the same command to retry the failed samples (answered ones are kept)")
    for name, task in record["tasks"].items():
        judge = task.get("judge")
        if judge and judge["n_failed"]:
            failed = failed_samples([(judge["n"], judge["n_failed"], judge["failures"])])
            lines.append(
                f"{name} {judge['label']}: {failed} (no judged score; counted as wrong); rerun with the same "
                "--judge to judge them again (cached verdicts are reused)"
            )
    return lines


def _mean(group: dict[str, Any], key: str, percent: bool = False) -> str:
    entry = group.get(key) or {}
    value = entry.get("mean")
    if value is None:
        return "-"
    return f"{100 * value:.1f}" if percent else f"{value:.1f}"


def quality_table(tasks: dict[str, dict[str, Any]], title: str = "reasoning and efficiency") -> Table:
    """Per task: output tokens, tokens per correct answer, chain steps, verified step accuracy,
    backtracks per 100 steps, answer-chain consistency, format compliance and hacking flags (%).
    '-' where nothing was measurable (e.g. no arithmetic step in any chain)."""
    table = Table(title=title)
    columns = ("task", "out tok", "tok/correct", "steps", "step acc %", "backtr/100", "consist %", "format %")
    for column in (*columns, "no-chain %", "repeat %"):
        table.add_column(column, justify="left" if column == "task" else "right", no_wrap=column == "task")
    for name, result in tasks.items():
        quality = result.get("quality")
        if not quality:
            continue
        reasoning, efficiency, hacking = quality["reasoning"], quality["efficiency"], quality["hacking"]
        per_correct = efficiency.get("tokens_per_correct")
        table.add_row(
            name,
            _mean(efficiency, "output_tokens"),
            "-" if per_correct is None else f"{per_correct:.1f}",
            _mean(reasoning, "steps"),
            _mean(reasoning, "step_accuracy", percent=True),
            _mean(reasoning, "backtracks_per_100_steps"),
            _mean(reasoning, "answer_chain_consistency", percent=True),
            _mean(reasoning, "format_compliance", percent=True),
            _mean(hacking, "no_reasoning_rate", percent=True),
            _mean(hacking, "repetition_rate", percent=True),
        )
    return table


@app.command("eval")
def eval_command(
    model: Annotated[
        str | None,
        typer.Option(help="Checkpoint folder, hub id (org/name) or baseline name [default: the tiny model]."),
    ] = None,
    backend: Annotated[str | None, typer.Option(help="hf, vllm, openai or baseline [default: hf].")] = None,
    model_args: Annotated[
        str | None, typer.Option("--model-args", "--model_args", help="Backend arguments, k=v,k2=v2.")
    ] = None,
    tasks: Annotated[
        str | None,
        typer.Option(
            help="Names, aliases, comma lists, globs; `list` prints the task table [default: synth_*]."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="First N items of each task [default: all; 50 with no --tasks].")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", "--batch_size", help="Requests per backend call [default: 8]."),
    ] = None,
    prompt: Annotated[str | None, typer.Option(help="direct or cot [default: the task's].")] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option(help="Token limit [default: the task's; 32 with no --tasks].")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Temperature [default: the task's, 0 = greedy].")
    ] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling [default: 1.0].")] = None,
    n_samples: Annotated[
        int | None,
        typer.Option(help="Generations per sample, for pass@k (needs --temperature > 0) [default: 1]."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for sampling and baselines [default: 0].")] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "--output_path", help="Where run folders go [default: runs]."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Local data root (items.jsonl per task) [default: the HF hub].")
    ] = None,
    n: Annotated[
        int | None, typer.Option(help="Procedural tasks: items generated [default: the task's].")
    ] = None,
    difficulty: Annotated[
        int | None, typer.Option(help="Procedural tasks: difficulty 1-3 [default: the task's].")
    ] = None,
    image_ablation: Annotated[
        str | None,
        typer.Option(
            help="blank (grey, same size) or shuffle (another item's image); compare to a normal run "
            "[default: off]."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="run.yaml with these options; the CLI overrides it [default: none].")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Insist on continuing this command's run: refused if the model changed since."
        ),
    ] = False,
    judge: Annotated[
        str | None,
        typer.Option(
            help="openai:MODEL@BASE_URL - also score through the task's reference LLM answer extractor "
            "(MathVista); a column of its own, official+judge:MODEL. Key: $VLMBENCH_JUDGE_API_KEY or "
            "$OPENAI_API_KEY. Calls are cached; rerunning a run with --judge judges it in place."
        ),
    ] = None,
    gen_kwargs: Annotated[
        str | None,
        typer.Option(
            "--gen-kwargs",
            "--gen_kwargs",
            help="lm-eval style k=v,...: max_new_tokens (or max_gen_toks), temperature, top_p, do_sample.",
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="hf backend (pip install 'vlmbench[hf]'): cpu, cuda, cuda:1, mps or auto, the same as "
            "--model-args device=... [default: cpu]."
        ),
    ] = None,
    include_path: Annotated[
        list[Path] | None,
        typer.Option(
            "--include-path",
            "--include_path",
            metavar="DIR",
            help="Extra folder of task YAMLs, repeatable [default: none].",
        ),
    ] = None,
    log_samples: Annotated[
        bool,
        typer.Option(
            "--log-samples", "--log_samples", help="Accepted for lm-eval: samples are always logged here."
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(help="Display name in the summary, not part of the run identity [default: the model]."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Keep transformers' own progress bars and warnings.")
    ] = False,
    num_processes: Annotated[
        int | None,
        typer.Option(
            "--num-processes",
            "--num_processes",
            help="Data-parallel: run as N processes through accelerate launch (gloo on CPU, NCCL on GPUs); "
            "same samples, scores and run as one process [default: 1].",
        ),
    ] = None,
) -> None:
    """Evaluate a model on tasks; resumable (rerun the same command to continue) and fully recorded.

    The run is named by the options and the model's fingerprint (its files, hub commit or served
    model): a changed model starts a new run, never reusing the old one's samples.

    Exit codes: 0 done; 2 bad input (nothing run); 3 partial (some samples failed: rerun to retry
    them); 4 failed (no sample answered, or the backend never answered); 130 interrupted (rerun to
    resume)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from vlmbench.eval_options import check_model, gen_kwargs_options, merge_gen_options, quiet_third_party
    from vlmbench.models.base import BackendUnavailable
    from vlmbench.parallel import env_rank, processes_to_launch
    from vlmbench.records.status import ExitCode, exit_code
    from vlmbench.registry import canonical_selection, include_task_dir, resolve_tasks
    from vlmbench.runner import EvalConfig, RunInterrupted, evaluate

    if not verbose:  # before the default model is built or any backend loads
        quiet_third_party()
    try:
        for folder in include_path or []:
            include_task_dir(folder)
        options = load_run_config(config) if config else {}
        given = {
            "model": model, "backend": backend, "tasks": tasks, "limit": limit, "batch_size": batch_size,
            "prompt": prompt, "max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p,
            "seed": seed, "output_dir": output_dir, "data_dir": data_dir, "n_samples": n_samples,
            "image_ablation": image_ablation, "resume": resume or None, "judge": judge,
        }  # fmt: skip
        options.update({k: v for k, v in given.items() if v is not None})
        if options.get("tasks") == "list":  # lm-eval / lmms-eval: `--tasks list` lists, runs nothing
            _print_task_table()
            return
        if gen_kwargs is not None:  # before the defaults: its token limit wins over the no-task default
            merge_gen_options(options, gen_kwargs_options(parse_model_args(gen_kwargs, flag="--gen_kwargs")))
        if "tasks" in options:  # an alias resolves before the run is named: same run as the real name
            options["tasks"] = canonical_selection(str(options["tasks"]))
            resolve_tasks(options["tasks"])  # a mistyped task fails here, before any model is built
        _apply_defaults(options)
        _backend_args(options, model_args, device)
        check_model(options["backend"], options.get("model"))  # a typo fails here, before any load
        synth = {**options.pop("synth", {}), **{k: v for k, v in (("n", n), ("difficulty", difficulty)) if v}}
        for key in ("output_dir", "data_dir"):
            if options.get(key) is not None:
                options[key] = Path(options[key])
        run = EvalConfig(**options, synth=synth)
        launch = processes_to_launch(num_processes)
    except TypeError as err:
        _fail(VlmbenchError(f"run config: {err}"))
    except VlmbenchError as err:
        _fail(err)
    if launch:  # the same command once per rank; rank 0 prints the summary
        raise typer.Exit(_relaunch(run, launch))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
    )
    bars: dict[str, Any] = {}
    started: dict[str, tuple[float, int, float]] = {}

    with Progress(*columns, console=_consoles.err, transient=False) as bar:

        def on_progress(task: str, done: int, total: int, live: dict[str, float]) -> None:
            import time

            if task not in bars:  # first call: before generation, `done` is what a resume already has
                bars[task] = bar.add_task(task, total=total, stats="")
                started[task] = (time.perf_counter(), done, live["tokens_out"])
            start, done_before, tokens_before = started[task]
            if done == done_before == total:  # nothing left to do: say so rather than "0.0 samples/s"
                bar.update(bars[task], completed=done, stats=f"0 new samples, all {total} reused")
                return
            elapsed = max(time.perf_counter() - start, 1e-9)
            rate, tokens = (done - done_before) / elapsed, (live["tokens_out"] - tokens_before) / elapsed
            stats = f"acc {100 * live['official']:.1f}%  {rate:.1f} samples/s  {tokens:.0f} tok/s"
            if done_before:
                stats += f"  ({done_before} reused)"
            if live["failed"]:
                stats += f"  failed {live['failed']:.0f}"
            bar.update(bars[task], completed=done, stats=stats)

        def on_notice(message: str) -> None:
            bar.console.print(message, highlight=False, soft_wrap=True, markup=False)

        if log_samples:
            on_notice(f"note: --log_samples is always on here: samples go to {run.output_dir}/<run>/samples/")
        try:
            root, record = evaluate(run, progress=on_progress, notify=on_notice)
        except RunInterrupted as err:
            bar.stop()
            _interrupted(err)
        except BackendUnavailable as err:
            _consoles.err.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
            raise typer.Exit(int(ExitCode.FAILED)) from None
        except VlmbenchError as err:
            _fail(err)
    quick_exit.allow()  # the record and samples are on disk: no interpreter teardown to wait for
    if env_rank():  # another rank of a data-parallel run: rank 0 speaks for it
        raise typer.Exit(int(exit_code(record["status"])))
    _consoles.out.print(summary_table(record, display=name))
    if any(t["quality"] for t in record["tasks"].values()):
        _consoles.out.print(quality_table(record["tasks"]))
    if run.image_ablation:
        _consoles.out.print(
            f"images ablated ({run.image_ablation}): `vlmbench compare` this run against a normal run of the "
            "same model and items for its visual gain",
            highlight=False,
        )
    for line in failure_lines(record):
        _consoles.err.print(f"[yellow]{escape(line)}[/]", highlight=False, soft_wrap=True)
    _consoles.out.print(f"run record: {root / 'run.json'}", highlight=False, markup=False)
    code = exit_code(record["status"])
    if code:
        raise typer.Exit(int(code))


def _relaunch(run: Any, processes: int) -> int:
    """`vlmbench eval --num-processes N`: this command as N ranks through accelerate; rank 0's exit code."""
    import tempfile

    from vlmbench.parallel import relaunch

    cpu = not str(run.model_args.get("device", "cpu")).startswith("cuda")
    with tempfile.TemporaryDirectory(prefix="vlmbench-launch-") as folder:
        return relaunch(sys.argv[1:], processes, cpu=cpu, exit_file=Path(folder) / "exit-code")


def _interrupted(err: Any) -> None:
    """Ctrl-C: where the run stopped and the command that resumes it, then exit 130."""
    import shlex

    from vlmbench.records.status import ExitCode

    command = shlex.join(["vlmbench", *sys.argv[1:]])
    _consoles.err.print(
        f"[yellow]interrupted[/] {escape(f'{err.where}; run folder {err.run_dir}')}\nresume with: "
        + escape(command),
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(int(ExitCode.INTERRUPTED))


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


@app.command("make-tiny-model")
def make_tiny_model_command(
    out: Annotated[Path, typer.Argument(help="Folder to write the checkpoint into.")],
    arch: Annotated[str, typer.Option(help="Architecture: llava, qwen2_vl, qwen2_5_vl, idefics3.")] = "llava",
    seed: Annotated[int, typer.Option(help="Seed of the random weights.")] = 0,
) -> None:
    """Build a tiny random-weight VLM (a real architecture) with its tokenizer and processor, offline."""
    try:
        from vlmbench.models.tiny import make_tiny_model, parameter_count

        path = make_tiny_model(out, arch=arch, seed=seed)
        n_params = parameter_count(path)
    except VlmbenchError as err:
        _fail(err)
    _consoles.out.print(
        f"wrote {arch} model to {path} ({n_params:,} parameters)", highlight=False, soft_wrap=True
    )


def _train_cli() -> Any:
    """`train_adapters.cli`, loaded only when a training command runs (vlmbench never imports it)."""
    import importlib

    try:
        return importlib.import_module("train_adapters.cli")
    except ImportError as err:
        raise VlmbenchError(f"training is not installed ({err}): pip install 'vlmbench[train]'") from None


@app.command("train-baseline")
def train_baseline_command(
    algo: Annotated[str, typer.Argument(help="sft, grpo, dpo or ppo.")],
    overrides: Annotated[
        list[str] | None, typer.Argument(help="Recipe overrides key=value (e.g. grpo.beta=0.02).")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Recipe YAML (default: the shipped ALGO.yaml).")] = None,
    model: Annotated[str | None, typer.Option(help="Start checkpoint (overrides the recipe).")] = None,
    task: Annotated[str | None, typer.Option(help="Task to train on (overrides the recipe).")] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Run folder name: train-runs/ALGO/NAME [UTC time-config hash]."),
    ] = None,
    output_dir: Annotated[
        Path | None, typer.Option(help="The run folder itself (its evals go to DIR/runs).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the resolved recipe and run folder; no training.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the newest checkpoint of the --name / --output-dir run, or of the newest "
            "unfinished run of this recipe.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Keep transformers' raw log dicts, bars and warnings.")
    ] = False,
) -> None:
    """Train a baseline whose reward is the task's eval scorer, then evaluate it under the same protocol.

    Each run gets its own folder; one that already holds a training run is refused (never overwritten).
    Exit codes: 0 done; 2 bad recipe or run folder (nothing trained); 3 / 4 an eval was partial / failed.
    """
    from vlmbench.records.status import exit_code

    try:
        train = _train_cli()
        summary = train.train_baseline(
            algo, config=config, model=model, task=task, overrides=list(overrides or []),
            output_dir=output_dir, name=name, dry_run=dry_run, resume=resume, verbose=verbose,
        )  # fmt: skip
    except VlmbenchError as err:
        _fail(err)
    sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    code = exit_code(train.eval_status(summary))
    if code:
        raise typer.Exit(int(code))


@app.command("make-preferences")
def make_preferences_command(
    model: Annotated[str, typer.Option(help="Checkpoint to sample answers from.")],
    task: Annotated[str, typer.Option("--task", "-t", help="Task whose scorer ranks the answers.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Pairs JSONL to write.")],
    n: Annotated[int, typer.Option(help="Prompts (training items).")] = 64,
    seed: Annotated[int, typer.Option(help="Procedural tasks: item seed (not the eval's).")] = 1,
    k: Annotated[int, typer.Option(help="Answers sampled per prompt.")] = 4,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 1.0,
    max_new_tokens: Annotated[int, typer.Option(help="Token limit per answer.")] = 16,
    prompt: Annotated[str | None, typer.Option(help="Prompt style [the task's default].")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Local data root.")] = None,
) -> None:
    """On-policy DPO pairs: k answers per prompt, scored by the task's scorer, better vs worse."""
    try:
        stats = _train_cli().make_preferences(
            model=model, task=task, out=out, n=n, seed=seed, k=k, temperature=temperature,
            max_new_tokens=max_new_tokens, prompt=prompt, data_dir=data_dir,
        )  # fmt: skip
    except VlmbenchError as err:
        _fail(err)
    sys.stdout.write(json.dumps(stats, indent=2) + "\n")


@app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="First run directory (runs/<run_id>).")],
    run_b: Annotated[Path, typer.Argument(help="Second run directory.")],
    task: Annotated[str | None, typer.Option("--task", "-t", help="One task (default: all shared).")] = None,
    metric: Annotated[str, typer.Option(help="Score compared: official or robust.")] = "official",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Paired comparison of two runs on their shared samples: difference, 95% CI, exact McNemar p-value,
    flipped samples, and paired bootstraps of tokens, time and step metrics."""
    from vlmbench.compare import compare_runs

    try:
        result = compare_runs(run_a, run_b, task=task, metric=metric)
    except (VlmbenchError, OSError) as err:
        _fail(err)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        return
    from vlmbench.stats import format_interval

    table = Table(
        title=escape(f"A: {run_a.name}  vs  B: {run_b.name}  ({metric}, %)"),
        caption="A-B [95% interval]: Newcombe's paired interval for 0/1 scores (test mcnemar_exact), else "
        "a paired bootstrap percentile interval",
    )
    for column in ("task", "n", "A", "B", "A-B [95% CI]", "p", "test", "A>B", "B>A"):
        table.add_column(column, justify="left" if column in ("task", "test") else "right", no_wrap=True)
    for t in result.tasks:
        p_text = f"{t.p_value:.3g}" + (" *" if t.significant else "")
        table.add_row(
            escape(t.task + ("" if t.same_protocol else " (!)")),
            str(t.n),
            _fmt(t.score_a),
            _fmt(t.score_b),
            format_interval(t.diff, *t.ci95, signed=True),
            p_text,
            t.test,
            str(len(t.a_right_b_wrong)),
            str(len(t.a_wrong_b_right)),
        )
    _consoles.out.print(table)
    for t in result.tasks:
        if t.clustered is not None:
            c = t.clustered
            _consoles.out.print(
                f"  {t.task}: {t.n} items on {t.n_clusters} images; by image (cluster bootstrap): "
                f"A-B {format_interval(c.diff, *c.ci95, signed=True)}, p {c.p_value:.3g}",
                highlight=False,
                soft_wrap=True,
            )
    for t in result.tasks:
        if not t.paired:
            continue
        sub = Table(title=f"{t.task}: paired bootstrap (A - B)")
        for column in ("metric", "A", "B", "A-B [95% CI]", "p"):
            sub.add_column(column, justify="left" if column == "metric" else "right")
        for name, r in t.paired.items():
            diff = f"{r.diff:+.4g} [{r.ci95[0]:+.4g}, {r.ci95[1]:+.4g}]"
            sub.add_row(name, f"{r.mean_a:.4g}", f"{r.mean_b:.4g}", diff, f"{r.p_value:.3g}")
        _consoles.out.print(sub)
        flips = [("A right, B wrong", t.a_right_b_wrong), ("A wrong, B right", t.a_wrong_b_right)]
        for label, ids in flips:
            if ids:
                shown = ", ".join(ids[:8]) + (f" ... (+{len(ids) - 8})" if len(ids) > 8 else "")
                _consoles.out.print(f"  {label}: {shown}", highlight=False, soft_wrap=True, markup=False)
    for t in result.tasks:
        if t.ablated:
            normal, gain = ("A", "A - B") if t.ablated == "B" else ("B", "B - A")
            _consoles.out.print(
                f"{t.task}: {t.ablated} is {normal}'s items with images ablated, so {gain} is {normal}'s "
                "visual gain",
                highlight=False,
            )
        elif not t.same_protocol:
            fields = ", ".join(t.protocol_fields) or "unrecorded"
            _consoles.err.print(
                f"[yellow]warning:[/] {escape(f'(!) {t.task}: the runs used different protocols ({fields})')}"
            )
    from vlmbench.compare import legend

    _consoles.out.print("\n".join(legend(result)), highlight=False, markup=False)


@data_app.command("check")
def data_check(
    task: Annotated[str, typer.Argument(help="Task name.")],
    data: Annotated[
        Path | None, typer.Option("--data", help="Local data root (else the task's hub source).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Check only the first N items.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Schema, item count, unique ids, decodable images and answer types of a task's data (exit 2: failed)."""
    from vlmbench.data.check import check_task, report_table
    from vlmbench.registry import get_task

    try:
        report = check_task(get_task(task), data, limit=limit)
    except VlmbenchError as err:
        _fail(err)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        Console().print(report_table(report))
    raise typer.Exit(report.exit_code)


if __name__ == "__main__":  # pragma: no cover
    from vlmbench.__main__ import main as _entry

    _entry()
