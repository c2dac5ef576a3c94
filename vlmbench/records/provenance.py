"""What a run record says about where a number came from: packages, git commit, hardware, weights."""

from __future__ import annotations

import hashlib
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
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
FULL_HASH_LIMIT = 2 * 1024**3  # above this, hash file sizes and 1 MiB from each end (says so)


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


def weights_hash(model: str) -> dict[str, Any] | None:
    """sha256 over a local checkpoint's weight files (None for hub ids and baselines)."""
    folder = Path(model)
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    total = sum(p.stat().st_size for p in files)
    sampled = total > FULL_HASH_LIMIT
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(folder)}:{path.stat().st_size}\n".encode())
        with path.open("rb") as handle:
            if not sampled:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
            else:
                digest.update(handle.read(1 << 20))
                handle.seek(max(0, path.stat().st_size - (1 << 20)))
                digest.update(handle.read())
    return {"sha256": digest.hexdigest(), "files": len(files), "bytes": total, "sampled": sampled}


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
                header = json.loads(handle.read(size))
        except (OSError, ValueError):
            return None
        for name, entry in header.items():
            if name != "__metadata__":
                total += math.prod(entry.get("shape") or [])
    return total
