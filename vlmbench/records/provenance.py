"""What a run record says about where a number came from: packages, git commit, hardware, model size
(what the model *is* - its fingerprint - is `vlmbench.records.fingerprint`)."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("vlmbench", "transformers", "torch", "vllm", "openai", "datasets", "accelerate", "trl", "pillow")
SAFETENSORS_HEADER_LIMIT = 100_000_000  # the format's own cap on the JSON header


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(path: Path | None = None) -> dict[str, Any] | None:
    """The vlmbench checkout's commit and whether it had uncommitted changes (None outside git)."""
    where = path or Path(__file__).resolve().parent
    try:
        # `where` must itself be tracked: an installed copy inside some other repository (a venv in a
        # user's project) would otherwise report that project's commit as vlmbench's
        subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", "."],
            cwd=where,
            capture_output=True,
            timeout=5,
            check=True,
        )
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)}


def hardware() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def parameter_count(model: str) -> int | None:
    """Parameters in a local checkpoint's `*.safetensors` files, read from their JSON headers (8-byte
    length, then `{name: {"dtype", "shape", ...}}`) without loading a tensor or needing torch; None for
    hub ids, baselines and checkpoints in other formats. It sizes leaderboard rows and FLOP estimates."""
    folder = Path(model)
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    if not files:
        return None
    total = 0
    for path in files:
        try:
            with path.open("rb") as handle:
                size = int.from_bytes(handle.read(8), "little")
                if not 0 < size <= min(SAFETENSORS_HEADER_LIMIT, path.stat().st_size - 8):
                    return None  # not a safetensors header: never allocate what a bad file claims
                header = json.loads(handle.read(size))
        except (OSError, ValueError):
            return None
        if not isinstance(header, dict):
            return None
        for name, entry in header.items():
            if name != "__metadata__" and isinstance(entry, dict):
                total += math.prod(entry.get("shape") or [])
    return total
