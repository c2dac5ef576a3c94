"""Training run folders: one per run, never overwritten, found again by `--resume`.

Why: with one fixed folder a second run overwrote the first, and its post-training eval could reuse the
first run's samples. Now a run goes to `<output_root>/<algorithm>/<name>/` (name: the recipe's `name`,
else its display name `<algorithm>-<start>-<config_hash[:8]>`, `-2`, `-3`... when taken) or to
`output_dir`; a folder that already holds a training run is refused unless the run is resumed, and
`--resume` alone finds the newest unfinished run of the same recipe (config hash, recorded in
`train_recipe.json` when the run starts). Eval runs go to one results folder per root
(`<output_root>/runs`), or inside the run folder when `output_dir` chose it.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from train_adapters.config import LATEST, Recipe, RecipeError, not_writable
from vlmbench.names import embedded_label, safe_name

FINAL = "final"  # the trained checkpoint, an ordinary model folder
STATE = "train_state.json"  # written when training ends
RESULT = "train_result.json"  # written when the run ends (training and its evals): the run is finished
RECIPE_FILE = "train_recipe.json"  # written when the run starts: what --resume matches on
RESULTS = "runs"  # eval run folders


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest `checkpoint-N` folder (what `--resume` continues from)."""
    found = [
        (int(m.group(1)), p)
        for p in Path(folder).glob("checkpoint-*")
        if p.is_dir() and (m := re.fullmatch(r"checkpoint-(\d+)", p.name))
    ]
    return max(found)[1] if found else None


def training_outputs(folder: Path) -> list[str]:
    """What in `folder` shows that a training run wrote there (empty: the folder is free)."""
    found = [name for name in (RESULT, STATE) if (folder / name).is_file()]
    found += [f"{FINAL}/"] if (folder / FINAL).is_dir() else []
    found += sorted(f"{p.name}/" for p in folder.glob("checkpoint-*") if p.is_dir())
    return found


def resolve_run(recipe: Recipe, *, resume: bool, claim: bool = False, start: str | None = None) -> Recipe:
    """The recipe with its run folder (`output_dir`) and eval results folder (`eval.results_dir`)
    decided. `claim` creates a default-named folder at once, so two runs never share one; `start`
    labels a start model that is not built yet (a dry run)."""
    chosen = recipe.output_dir is not None
    if chosen or recipe.name is not None:
        folder = recipe.run_dir
        if resume:
            check_resumable(folder, recipe)
        else:
            check_free(folder)
    elif resume:
        folder = newest_unfinished(recipe)
    else:
        folder = fresh_folder(recipe, claim, start)
    results = recipe.eval.results_dir or (folder / RESULTS if chosen else recipe.output_root / RESULTS)
    name = recipe.name if chosen else folder.name
    evaluation = recipe.eval.model_copy(update={"results_dir": results})
    return recipe.model_copy(update={"output_dir": folder, "name": name, "eval": evaluation})


def check_free(folder: Path) -> None:
    if not (found := training_outputs(folder)):
        return
    if RESULT in found:
        way = f"it is finished, so --resume cannot continue it; to train on, --model {folder / FINAL}"
    else:
        way = "or continue that run with --resume"
    raise RecipeError(
        f"{folder} already holds a training run ({', '.join(found)}) and is never overwritten: "
        f"choose another --name or --output-dir ({way})"
    )


def check_resumable(folder: Path, recipe: Recipe) -> None:
    """A named folder `--resume` can continue: unfinished, of the same recipe, with a checkpoint."""
    if not folder.is_dir():
        raise RecipeError(f"--resume: {folder} does not exist, so there is nothing to resume")
    if (folder / RESULT).is_file():
        raise RecipeError(
            f"--resume: the run in {folder} is finished ({RESULT}); to train on, start a new run from its "
            f"checkpoint: --model {folder / FINAL}"
        )
    recorded, wanted = recorded_hash(folder), recipe.config_hash()
    if recorded is not None and recorded != wanted:
        raise RecipeError(
            f"--resume refused: {folder} was started with config hash {recorded[:12]} and this recipe has "
            f"{wanted[:12]}; resume with the run's own recipe and overrides ({RECIPE_FILE}), or start a "
            "new run without --resume"
        )
    if latest_checkpoint(folder) is None:
        raise RecipeError(
            f"--resume: {folder} holds no checkpoint-N to continue from (save_steps: 0 writes none)"
        )


def newest_unfinished(recipe: Recipe) -> Path:
    """The newest run folder under `<output_root>/<algorithm>/` of this recipe (config hash) that is
    unfinished and has a checkpoint."""
    root = recipe.output_root / recipe.algorithm
    wanted = recipe.config_hash()
    candidates = [
        p
        for p in (sorted(root.iterdir()) if root.is_dir() else [])
        if p.is_dir()
        and not p.is_symlink()
        and not (p / RESULT).is_file()
        and recorded_hash(p) == wanted
        and latest_checkpoint(p) is not None
    ]
    if not candidates:
        raise RecipeError(
            f"--resume: no unfinished {recipe.algorithm} run with config hash {wanted[:12]} and a checkpoint "
            f"under {root}; start a new run without --resume, or name the run with --name / --output-dir"
        )
    return max(candidates, key=lambda p: (str(read_recipe_file(p).get("started", "")), p.name))


def start_label(model: str, depth: int = 0) -> str:
    """A short name for a start model: a training run's `<algorithm>-<its start>` (so GRPO from an SFT
    run of the tiny model is `sft-tiny-llava`), the embedded model's `tiny-llava`, else the folder or hub
    name. Never a cache path."""
    path = Path(model)
    run = path.parent if path.name == FINAL else path
    recorded = read_recipe_file(run)
    algorithm = recorded.get("algorithm")
    if isinstance(algorithm, str) and depth < 8:
        start = recorded.get("start")
        if not isinstance(start, str):  # a run from before display names: label its own start
            start = start_label(str((recorded.get("recipe") or {}).get("model", "model")), depth + 1)
        return safe_name(f"{algorithm}-{start}")
    if label := embedded_label(path.name):
        return label
    return safe_name(run.name if path.name == FINAL else path.name or model)


def display_name(recipe: Recipe, start: str | None = None) -> str:
    """`<algorithm>-<start>-<config hash[:8]>` (e.g. `grpo-sft-tiny-llava-1a2b3c4d`): how a run and its
    trained checkpoint are named on boards. `start` overrides the label of a start not built yet."""
    return f"{recipe.algorithm}-{start or start_label(recipe.model)}-{recipe.config_hash()[:8]}"


def run_display_name(recipe: Recipe) -> str:
    """The name a decided run is shown by: its `--name`, its default folder name, or (for a run in an
    `--output-dir` of its own) `display_name`."""
    return recipe.name or display_name(recipe)


def fresh_folder(recipe: Recipe, claim: bool, start: str | None = None) -> Path:
    """`<output_root>/<algorithm>/<display name>`, or `-2`, `-3`... when that is taken."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise RecipeError(
            "a distributed launch needs --name or --output-dir: each of its processes would claim a "
            "default-named run folder of its own"
        )
    parent = recipe.output_root / recipe.algorithm
    base = display_name(recipe, start)
    if claim:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise not_writable(parent, err) from None
    for k in range(1, 100):
        folder = parent / (base if k == 1 else f"{base}-{k}")
        if _claimed(folder) if claim else not folder.exists():
            return folder
    raise RecipeError(f"{parent}: no free run folder name for {base}")


def _claimed(folder: Path) -> bool:
    """mkdir without exist_ok: of two runs started in the same second, each gets its own folder."""
    try:
        folder.mkdir()
    except FileExistsError:
        return False
    except OSError as err:
        raise not_writable(folder, err) from None
    return True


def read_recipe_file(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / RECIPE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_hash(folder: Path) -> str | None:
    value = read_recipe_file(folder).get("config_hash")
    return value if isinstance(value, str) else None


def write_recipe_file(recipe: Recipe) -> None:
    """What this run trains, when it started, and its config hash (what `--resume` matches on)."""
    data = {
        "algorithm": recipe.algorithm,
        "display_name": run_display_name(recipe),
        "start": start_label(recipe.model),
        "config_hash": recipe.config_hash(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "recipe": recipe.resolved(),
    }
    (recipe.run_dir / RECIPE_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def link_latest(recipe: Recipe) -> Path | None:
    """Point `<output_root>/<algorithm>/latest` at this finished run (the shipped RL recipes start from
    `train-runs/sft/latest/final`); only for runs in that layout, and where links can be made."""
    folder = recipe.run_dir
    if folder.parent != recipe.output_root / recipe.algorithm or folder.name == LATEST:
        return None
    link = folder.parent / LATEST
    tmp = folder.parent / f".{LATEST}.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        return None
    return link
