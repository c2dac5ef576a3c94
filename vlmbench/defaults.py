"""What `vlmbench eval` runs when it is not told: the tiny model on a small default set of tasks.

The tiny model (a random-weight LLaVA built by `vlmbench.models.tiny`) is made once into a cache folder
(`$VLMBENCH_CACHE`, else `~/.cache/vlmbench`) and reused; its folder name carries the builder's
version, so a changed builder never reuses an old checkpoint. Without torch and transformers (the lean
core install) the default falls back to the seeded random baseline and says how to get the model.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vlmbench.models.tiny import TINY_VERSION as _TINY_BUILDER_VERSION
from vlmbench.names import embedded_label
from vlmbench.registry import all_tasks

TINY_ARCH = "llava"
TINY_VERSION = _TINY_BUILDER_VERSION  # bumped in vlmbench.models.tiny when it builds another checkpoint
DEFAULT_TASKS = "synth_*"
DEFAULT_LIMIT = 50  # items per task in the no-argument run: the whole pipeline in seconds
DEFAULT_MAX_NEW_TOKENS = 32  # a random-weight model never stops early; CoT-sized budgets would dominate


@dataclass(frozen=True)
class DefaultModel:
    backend: str
    model: str
    note: str | None = None  # shown to the user when the default is not the tiny model


def cache_dir() -> Path:
    return Path(os.environ.get("VLMBENCH_CACHE") or Path.home() / ".cache" / "vlmbench")


def has_hf_stack() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers"))


def tiny_model_path() -> Path:
    """The cached tiny model, built on first use; a half-built folder is never left under the final name."""
    from vlmbench.models.tiny import make_tiny_model

    path = cache_dir() / f"tiny-{TINY_ARCH}-v{TINY_VERSION}"
    if (path / "model.safetensors").is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        make_tiny_model(staging, arch=TINY_ARCH, seed=0)
        try:
            staging.rename(path)
        except OSError:  # another process finished first: use theirs
            if not (path / "model.safetensors").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def default_model() -> DefaultModel:
    if has_hf_stack():
        return DefaultModel("hf", str(tiny_model_path()))
    return DefaultModel(
        "baseline",
        "random",
        note="torch / transformers are not installed, so the default model is the random baseline; "
        "pip install 'vlmbench[hf]' to evaluate the tiny bundled model instead",
    )


def default_tasks(data_dir: Path | None) -> str:
    """The procedural tasks, plus every task whose local data is under `data_dir`."""
    names = [DEFAULT_TASKS]
    if data_dir is not None:
        root = Path(data_dir)
        for spec in all_tasks():
            local = spec.source.local
            folder = root / local.dir
            if spec.source.synth is None and any((folder / f).is_file() for f in ("items.jsonl", local.file)):
                names.append(spec.name)
    return ",".join(names)


def display_name(model: str) -> str:
    """How terminal output names `model`: as given, except the embedded tiny model, whose real name is a
    cache path (`~/.cache/vlmbench/tiny-llava-v2`) that says nothing to a reader. Records keep the path."""
    path = Path(model)
    label = embedded_label(path.name) if path.parent == cache_dir() else None
    return f"{label} (embedded default)" if label else model
