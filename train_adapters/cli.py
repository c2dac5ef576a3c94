"""The bodies of `vlmbench train-baseline` and `vlmbench make-preferences` (the typer commands in
`vlmbench.cli` load this module lazily, so `vlmbench` never imports `train_adapters`).

Each training run gets a folder of its own (`train_adapters.rundir`). After training, the checkpoint -
and the start model - are evaluated by `vlmbench.runner.evaluate` under the task's protocol on held-out
items. The model's fingerprint is part of an eval's run id, so the eval of `final/` is of the weights
just written, never a reuse of another run's samples; `train_result.json` names each eval's run id, run
folder and fingerprint digest, and the trained run's record gets its lineage (base model and its
fingerprint, algorithm, config hash, steps, training folder).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from train_adapters import progress
from train_adapters.config import (
    LATEST,
    Recipe,
    check_output,
    check_ready,
    check_recipe,
    default_tiny_model,
    load_recipe,
)
from train_adapters.curves import CURVES, plot_curves, step_history
from train_adapters.rundir import (
    FINAL,
    RESULT,
    latest_checkpoint,
    link_latest,
    resolve_run,
    run_display_name,
    start_label,
    write_recipe_file,
)
from vlmbench.errors import VlmbenchError


def _needs_trl(err: ImportError) -> VlmbenchError:
    return VlmbenchError(f"training needs TRL and peft ({err}): pip install 'vlmbench[train]'")


def say(message: str) -> None:
    """One line of news on stderr (stdout carries the JSON summary)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def eval_config(recipe: Recipe, model: str | Path) -> Any:
    """The EvalConfig that evaluates `model` on the recipe's held-out items under the task's protocol.
    Its generation seed is `vlmbench eval`'s default, not the training seed: the seed enters the
    protocol, and runs trained with other seeds must stay comparable."""
    from vlmbench.registry import get_task
    from vlmbench.runner import EvalConfig

    spec = get_task(recipe.data.task)
    e = recipe.eval
    synth: dict[str, int] = {}
    limit = None
    if spec.source.synth is not None:
        synth = {"n": e.n}
        if e.seed is not None:
            synth["seed"] = e.seed
        if e.difficulty is not None:
            synth["difficulty"] = e.difficulty
    else:
        limit = e.n  # training reads items from data.offset on; keep data.offset >= eval.n
    return EvalConfig(
        model=str(model),
        backend="hf",
        tasks=spec.name,
        limit=limit,
        batch_size=e.batch_size,
        prompt=recipe.data.prompt,
        output_dir=Path(e.results_dir or recipe.run_dir / "runs"),
        data_dir=recipe.data.data_dir,
        synth=synth,
    )


def lineage(recipe: Recipe, steps: int, base_fingerprint: str) -> dict[str, Any]:
    """The trained model's `Lineage` (vlmbench.records.record): exactly its fields."""
    return {
        "base_model": recipe.model,
        "algorithm": recipe.algorithm,
        "config_hash": recipe.config_hash(),
        "steps": steps,
        "train_dir": str(recipe.run_dir),
        "base_fingerprint": base_fingerprint,
    }


def evaluated(root: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Which eval run this is and which weights it evaluated."""
    return {
        "run_id": record["run_id"],
        "run": str(root),
        "fingerprint": record["model"]["fingerprint"]["digest"],
    }


def evaluate_model(
    recipe: Recipe, model: str | Path, with_lineage: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Evaluate `model`; `with_lineage` becomes the run record's `lineage`."""
    from vlmbench.runner import evaluate

    config = eval_config(recipe, model)
    root, record = evaluate(config, notify=say)
    if with_lineage is not None:
        record = add_lineage(root, record, with_lineage)
    task = record["tasks"][recipe.data.task]
    metrics = task.get("metrics") or {}  # none for a failed task: it has no score
    summary = {
        **evaluated(root, record),
        "status": task["status"],
        "n": task["n"],
        "n_failed": task["n_failed"],
        "official": metrics.get("official"),
        "official_ci95": metrics.get("official_ci95"),
        "protocol_hash": task["protocol_hash"],
    }
    if recipe.eval.visual_gain and metrics:
        summary["visual_gain"] = visual_gain(config, root, recipe.data.task, with_lineage)
    return summary


def eval_status(summary: dict[str, Any]) -> str:
    """The worst status among the summary's evals (`done` when none ran): what the command exits with,
    so that a training run whose eval lost samples is not a silent success."""
    from vlmbench.records.status import DONE, FAILED, PARTIAL

    statuses = {summary[key]["status"] for key in ("eval_base", "eval_trained") if key in summary}
    return next((s for s in (FAILED, PARTIAL) if s in statuses), DONE)


def add_lineage(root: Path, record: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """Write the lineage into the record, unless it has one: the same weights from another run (a
    deterministic retrain) are the same model, and the first run that made them stays named."""
    from vlmbench.records.rundir import RunStore

    store = RunStore(root)
    record = store.read_run() or record
    if record.get("lineage") is None:
        record["lineage"] = value
        store.write_run(record)
    return record


def visual_gain(
    config: Any, run: Path, task: str, with_lineage: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The model again on the same items with blank images, paired with `run`: did training teach it to
    use the image, or only the answer priors of the questions? The blank run records the same lineage."""
    from dataclasses import replace

    from vlmbench.compare import compare_runs
    from vlmbench.runner import evaluate

    blank, record = evaluate(replace(config, image_ablation="blank"), notify=say)
    if with_lineage is not None:
        record = add_lineage(blank, record, with_lineage)
    names = {f"blank_{key}": value for key, value in evaluated(blank, record).items()}
    return {**names, **compare_runs(run, blank, task).tasks[0].headline()}


def base_fingerprint(recipe: Recipe, summary: dict[str, Any]) -> str:
    """The start model's fingerprint digest: what its eval evaluated, else computed now."""
    if "eval_base" in summary:
        return summary["eval_base"]["fingerprint"]
    from vlmbench.records.fingerprint import model_fingerprint

    return model_fingerprint("hf", recipe.model).digest


def prepare(recipe: Recipe, *, resume: bool, dry_run: bool, start: str | None = None) -> Recipe:
    """Check the recipe, then decide its run folder (refused when taken, unless resumed) and, unless
    this is a dry run, create it. The recipe is checked first, so a bad one leaves no empty folder.
    The embedded default model (`model: tiny`) is built into its cache folder first, unless dry.
    `start` labels an SFT start that a dry run would build first (its model is not checked)."""
    if not dry_run and Path(recipe.model) == default_tiny_model():
        from vlmbench.defaults import tiny_model_path

        tiny_model_path()
    check_recipe(recipe, read_gold=not dry_run, model=start is None)
    if recipe.algorithm == "grpo" and not dry_run:  # vLLM rollouts refused before a folder exists
        from train_adapters.grpo import check_rollouts

        check_rollouts(recipe)
    recipe = resolve_run(recipe, resume=resume, claim=not dry_run, start=start)
    check_output(recipe, create=not dry_run)
    return recipe


def missing_start(recipe: Recipe) -> Path | None:
    """The `<root>/sft/latest` link an RL recipe starts from (`<root>/sft/latest/final`, the shipped
    default) when no SFT run under `<root>` has finished yet; None when the start is there or is not
    such a link."""
    parts = Path(recipe.model).parts
    if recipe.algorithm == "sft" or LATEST not in parts or Path(recipe.model).exists():
        return None
    at = parts.index(LATEST)
    return Path(*parts[: at + 1]) if at >= 1 and parts[at - 1] == "sft" else None


def start_recipe(recipe: Recipe, link: Path) -> Recipe:
    """The shipped SFT recipe that builds the missing start: into the link's root, so its `latest`
    link is the one the RL recipe reads; `start_overrides` are its key=value overrides."""
    return load_recipe("sft", None, start_overrides(recipe, link))


def start_overrides(recipe: Recipe, link: Path) -> list[str]:
    return [*recipe.start_overrides, f"output_root={link.parent.parent}"]


def start_plan(recipe: Recipe, link: Path) -> dict[str, Any]:
    """What building the start would do (the dry run prints it; the real run says it in one line)."""
    sft = start_recipe(recipe, link)
    planned = resolve_run(sft, resume=False)
    return {
        "model": recipe.model,
        "built_first": True,
        "sft_recipe": sft.resolved(),
        "sft_run_dir": str(planned.run_dir),
        "checkpoint": str(planned.run_dir / FINAL),
        "label": f"sft-{start_label(sft.model)}",
        "note": "the config hash and display name above name the start by its link; once built, the "
        "recipe pins it to the SFT run's folder, so the real run's hash (and name) differ",
    }


def build_start(recipe: Recipe, link: Path, verbose: bool) -> dict[str, Any]:
    """Train the shipped SFT recipe first (with its evals), so that `link/final` exists."""
    plan = start_plan(recipe, link)
    steps = plan["sft_recipe"]["max_steps"]
    say(
        f"no SFT start at {recipe.model}: training it first with the shipped SFT recipe ({steps} steps on "
        f"{start_label(plan['sft_recipe']['model'])}; the shipped 500 take about 75 s with their evals on 2 "
        f"idle CPU cores) into {plan['checkpoint']}, linked as {link / FINAL}"
    )
    return train_baseline("sft", overrides=start_overrides(recipe, link), verbose=verbose)


def trl_plan(recipe: Recipe) -> dict[str, Any]:
    """The TRL arguments every trainer of this recipe takes (the algorithm's own are in its section),
    and GRPO's rollout engine: vLLM's settings as TRL will get them, on any machine."""
    from train_adapters.common import trl_common

    if recipe.algorithm == "grpo":
        from train_adapters.grpo import vllm_args

        return {**trl_common(recipe), **vllm_args(recipe.grpo)}
    return trl_common(recipe)


def train_baseline(
    algorithm: str,
    *,
    config: Path | None = None,
    model: str | None = None,
    task: str | None = None,
    overrides: list[str] | None = None,
    output_dir: Path | None = None,
    name: str | None = None,
    dry_run: bool = False,
    resume: bool = False,
    verbose: bool = False,
) -> dict[str, Any]:
    """Resolve the recipe, check it, train into a run folder of its own, evaluate base and trained
    models; returns the summary (also written to `<run folder>/train_result.json`). An RL recipe whose
    `<root>/sft/latest/final` start does not exist yet trains the shipped SFT recipe first (`build_start`).
    Without `verbose`, training prints one compact line per logging step and transformers' own bars,
    warnings and raw log dicts are off."""
    if not verbose:
        progress.quiet()  # before transformers is imported: it reads its verbosity once
    given = dict(model=model, task=task, output_dir=output_dir, name=name)
    recipe = load_recipe(algorithm, config, overrides, **given)
    link = None if resume else missing_start(recipe)
    built = None
    if link is not None and not dry_run:
        with contextlib.redirect_stdout(sys.stderr):  # a bad RL recipe fails before the SFT run, not after
            check_recipe(recipe, model=False)
            resolve_run(recipe, resume=False)
        built = build_start(recipe, link, verbose)
        recipe = load_recipe(algorithm, config, overrides, **given)  # pins the new latest link
        link = None
    planned = start_plan(recipe, link) if link is not None else None
    # stdout carries only the JSON summary: building or loading a model imports transformers, which
    # sets up DeepSpeed's logger (when installed) on stdout; held on stderr from here on
    with contextlib.redirect_stdout(sys.stderr):
        recipe = prepare(recipe, resume=resume, dry_run=dry_run, start=planned and planned["label"])
    start = latest_checkpoint(recipe.run_dir) if resume else None
    if dry_run:
        plan: dict[str, Any] = {
            "display_name": run_display_name(recipe),
            "run_dir": str(recipe.run_dir),
            "results_dir": str(recipe.eval.results_dir),
            "start": planned or {"model": recipe.model, "built_first": False},
        }
        if resume:
            plan["resume_from"] = str(start)
        with contextlib.redirect_stdout(sys.stderr):
            plan["trl_config"] = trl_plan(recipe)
        return {"recipe": recipe.resolved(), "config_hash": recipe.config_hash(), **plan}
    from train_adapters.common import end_distributed, is_main_process

    if is_main_process():
        say(f"resuming {recipe.run_dir} from {start}" if start else f"training run {recipe.run_dir}")
        if not resume:
            write_recipe_file(recipe)
    try:
        # transformers' trainers print every log line to stdout: sent to stderr with the rest of the news
        with contextlib.redirect_stdout(sys.stderr), progress.output(verbose):
            module = importlib.import_module(f"train_adapters.{algorithm}")
            result = module.train(recipe, resume=resume)
    except ImportError as err:
        raise _needs_trl(err) from err
    end_distributed()
    if not is_main_process():  # other ranks of an `accelerate launch` stop here; rank 0 evaluates
        return {"rank": "worker", "steps": result.steps}
    shown = run_display_name(recipe)
    history = step_history(result.metrics.get("log_history") or [])
    curves = plot_curves(history, recipe.run_dir / CURVES, title=shown)
    summary: dict[str, Any] = {
        "algorithm": algorithm,
        "display_name": shown,
        "run_dir": str(recipe.run_dir),
        "config_hash": recipe.config_hash(),
        "base_model": recipe.model,
        "checkpoint": str(result.checkpoint),
        "resumed_from": str(start) if start else None,
        "steps": result.steps,
        "train_seconds": result.seconds,
        "stopped_early": result.stopped_early,
        "data": result.data,
        "distributed": result.metrics.get("distributed"),
        "start_built": built["run_dir"] if built else None,
        "log_history": history,
        "curves": str(curves) if curves else None,
    }
    if recipe.eval.enabled:
        if recipe.eval.base:
            summary["eval_base"] = evaluate_model(recipe, recipe.model)
        summary["base_fingerprint"] = base_fingerprint(recipe, summary)
        trained_lineage = lineage(recipe, result.steps, summary["base_fingerprint"])
        summary["eval_trained"] = evaluate_model(recipe, result.checkpoint, trained_lineage)
    path = recipe.run_dir / RESULT
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    summary["result_file"] = str(path)
    link_latest(recipe)
    return summary


def make_preferences(
    *,
    model: str,
    task: str,
    out: Path,
    n: int = 64,
    seed: int = 1,
    k: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 16,
    prompt: str | None = None,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """Sample k answers per prompt from `model`, score them with the task's scorer, write pairs JSONL."""
    from train_adapters.config import validate_recipe

    recipe = validate_recipe(
        {
            "algorithm": "dpo",
            "model": model,
            "output_dir": str(Path(out).parent),
            "data": {
                "task": task,
                "train_n": n,
                "train_seed": seed,
                "prompt": prompt,
                "data_dir": str(data_dir) if data_dir else None,
            },
        },
        "make-preferences",
    )
    check_ready(recipe)
    try:
        from train_adapters import common, preferences
        from train_adapters.data import build_rows

        s = common.setup(recipe)
        rows = build_rows(s.spec, s.train_samples, s.style, processor=s.processor, report=s.report)
        usable = {r["sample_id"] for r in rows}
        pairs, stats = preferences.make_preferences(
            s.model,
            s.processor,
            s.spec,
            [x for x in s.train_samples if x.id in usable],
            s.style,
            k=k,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            seed=seed,
        )
    except ImportError as err:
        raise _needs_trl(err) from err
    preferences.write_pairs(pairs, Path(out))
    return {"out": str(out), **stats.to_dict(), "data": s.report.to_dict()}
