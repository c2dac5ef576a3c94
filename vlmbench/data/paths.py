"""Confining paths named by data and task files to their root.

An items file, a VCR annotation or a hub row names its images; a task file names its data folder.
None of them is trusted: `../../x.png`, an absolute path or a symlink to elsewhere would otherwise
open any file on the machine and upload it to a model server. A path is accepted only when it
resolves - symlinks followed - inside its root.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vlmbench.schema import ImageRef


def resolves_inside(path: Path, roots: Sequence[Path]) -> bool:
    """Whether `path`, symlinks resolved, lies in one of `roots` (themselves resolved)."""
    try:
        real = path.resolve()
        return any(real.is_relative_to(root.resolve()) for root in roots)
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a symlink loop: not a path we open
        return False


def inside(root: Path, name: str) -> Path | None:
    """`root / name` when it resolves inside `root`, else None. Absolute names escape by definition
    (`root / "/etc/passwd"` is `/etc/passwd`)."""
    path = root / name
    return path if resolves_inside(path, [root]) else None


def confined_image(root: Path, name: str, where: str) -> ImageRef:
    """An `ImageRef` for `root / name`; one whose `load()` fails naming `where` (the item) when `name`
    leaves `root`, so only that sample fails."""
    path = inside(root, name)
    if path is None:
        return ImageRef(refused=f"{where}: image {name!r} is outside the data folder {root}; refused")
    return ImageRef(path=str(path))
