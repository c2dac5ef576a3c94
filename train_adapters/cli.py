"""The bodies of `vlmbench train-baseline` and `vlmbench make-preferences` (the typer commands in
`vlmbench.cli` load this module lazily, so `vlmbench` never imports `train_adapters`).

After training, the checkpoint - and the start model - are evaluated by `vlmbench.runner.evaluate` under
the task's protocol on held-out items, and the trained run's record gets its lineage (base model,
algorithm, config hash, steps), so the leaderboard can show what a row was trained from and how.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from train_adapters.config import Recipe, check_ready, load_recipe
from vlmbench.errors import VlmbenchError

RESULT = "train_result.json"


def _needs_trl(err: ImportError) -> VlmbenchError:
    return VlmbenchError(f"training needs TRL and peft ({err}): pip install 'vlmbench[train]'")


def eval_config(recipe: Recipe, model: str | Path) -> Any:
    """The EvalConfig that evaluates `model` on the recipe's held-out items under the task's protocol."""
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
        seed=recipe.seed,
        output_dir=Path(e.results_dir or Path(recipe.output_dir) / "runs"),
        data_dir=recipe.data.data_dir,
        synth=synth,
    )


def lineage(recipe: Recipe, steps: int) -> dict[str, Any]:
    return {
        "base_model": recipe.model,
        "algorithm": recipe.algorithm,
        "config_hash": recipe.config_hash(),
        "steps": steps,
    }


def evaluate_model(recipe: Recipe, model: str | Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate `model`; with `extra`, add it as the run record's top-level `lineage`."""
    from vlmbench.records.rundir import RunStore
    from vlmbench.runner import evaluate

    config = eval_config(recipe, model)
    root, record = evaluate(config)
    if extra is not None:
        store = RunStore(root)
        record = store.read_run() or record
        record["lineage"] = extra
        store.write_run(record)
    task = record["tasks"][recipe.data.task]
    metrics = task["metrics"]
    summary = {
        "run": str(root),
        "n": task["n"],
        "official": metrics["official"],
        "official_ci95": metrics["official_ci95"],
        "protocol_hash": task["protocol_hash"],
    }
    if recipe.eval.visual_gain:
        summary["visual_gain"] = visual_gain(config, root, recipe.data.task)
    return summary


def visual_gain(config: Any, run: Path, task: str) -> dict[str, Any]:
    """The model again on the same items with blank images, paired with `run`: did training teach it to
    use the image, or only the answer priors of the questions?"""
    from dataclasses import replace

    from vlmbench.compare import compare_runs
    from vlmbench.runner import evaluate

    blank, _ = evaluate(replace(config, image_ablation="blank"))
    return {"blank_run": str(blank), **compare_runs(run, blank, task).tasks[0].headline()}


def train_baseline(
    algorithm: str,
    *,
    config: Path | None = None,
    model: str | None = None,
    task: str | None = None,
    overrides: list[str] | None = None,
    output_dir: Path | None = None,
    dry_run: bool = False,
    resume: bool = False,
) -> dict[str, Any]:
    """Resolve the recipe, check it, train, evaluate base and trained models; returns the summary."""
    recipe = load_recipe(algorithm, config, overrides, model=model, task=task, output_dir=output_dir)
    if dry_run:
        check_ready(recipe, create_output=False)
        return {"recipe": recipe.resolved(), "config_hash": recipe.config_hash()}
    check_ready(recipe)
    try:
        module = importlib.import_module(f"train_adapters.{algorithm}")
        result = module.train(recipe, resume=resume)
    except ImportError as err:
        raise _needs_trl(err) from err
    from train_adapters.common import end_distributed, is_main_process

    end_distributed()
    if not is_main_process():  # other ranks of an `accelerate launch` stop here; rank 0 evaluates
        return {"rank": "worker", "steps": result.steps}
    summary: dict[str, Any] = {
        "algorithm": algorithm,
        "config_hash": recipe.config_hash(),
        "checkpoint": str(result.checkpoint),
        "steps": result.steps,
        "train_seconds": result.seconds,
        "stopped_early": result.stopped_early,
        "data": result.data,
        "distributed": result.metrics.get("distributed"),
    }
    if recipe.eval.enabled:
        if recipe.eval.base:
            summary["eval_base"] = evaluate_model(recipe, recipe.model)
        summary["eval_trained"] = evaluate_model(recipe, result.checkpoint, lineage(recipe, result.steps))
    path = Path(recipe.output_dir) / RESULT
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    summary["result_file"] = str(path)
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
