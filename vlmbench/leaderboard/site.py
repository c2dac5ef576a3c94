"""The folder a board is published into, replaced as a whole and never half-written.

`publish` writes the complete site into a staging folder beside `--out` (same file system, a name of
its own: `<out>.tmp-<pid>-<hex>`) and only then swaps it into place, so a publish that is killed, or
that hits a full disk, leaves the previous board exactly as it was. On Linux the swap is one
`renameat2(RENAME_EXCHANGE)`: at every instant `--out` is the complete old board or the complete new
one. Elsewhere (or on a file system without it) it is two renames - the old board aside to
`<out>.old-<pid>-<hex>`, the new one into place - and between them, for the time of one rename,
`--out` does not exist; both complete boards are on disk throughout, and a rename that fails puts the
old one back. Leftovers of a killed publish are removed by the next publish to the same folder.

Because the whole folder is replaced, `--out` must be new, empty, or a previous board: one holding
exactly what vlmbench wrote there, as listed by the marker file `.vlmbench-board.json` (or, for a board
published before the marker existed, only vlmbench's own file names). Anything else is refused, and
nothing in it is touched.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from vlmbench.errors import VlmbenchError, os_error_reason

MARKER = ".vlmbench-board.json"
MODELS_DIR = "models"
BOARD_FILES = frozenset({"index.html", "README.md", "results.csv", "results.json", MODELS_DIR})
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class PublishError(VlmbenchError):
    """An --out that is not vlmbench's to replace, or a board that could not be written."""


# ---------------------------------------------------------------- what --out may be


def target_folder(out: Path) -> Path:
    """The real folder to publish into (a symlinked --out: the folder it points to, the link kept),
    once it is known to be new, empty or a previous board."""
    target = out.resolve()
    if target == target.parent:
        raise PublishError(f"{out}: cannot publish into the root folder; choose a folder of its own")
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        raise PublishError(
            f"{out}: is the current folder or holds it; publishing replaces the whole folder, "
            "so choose a folder of its own (e.g. --out site)"
        )
    check_target(out, target)
    return target


def check_target(shown: Path, target: Path) -> None:
    """Refuse a folder holding anything but a previous board: publishing replaces all of it."""
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise PublishError(f"{shown}: not a folder; --out names the folder the board is written into")
    if os.path.ismount(target):
        raise PublishError(
            f"{shown}: is a mount point, which cannot be swapped for a new board; "
            f"publish into a folder inside it (e.g. --out {shown / 'board'})"
        )
    foreign = foreign_entries(target, limit=4)
    if foreign:
        listed = ", ".join(foreign[:3]) + (" and more" if len(foreign) > 3 else "")
        raise PublishError(
            f"{shown}: holds files vlmbench did not write ({listed}); publishing replaces the whole "
            "folder, so choose a new or empty folder, or a previous board's (nothing was changed)"
        )


def foreign_entries(folder: Path, limit: int | None = None) -> list[str]:
    """Entries under `folder` (relative, `/`-separated, the top level's first) that no previous board
    there wrote; at most `limit` (the walk stops there: `--out ~` must not read the whole home)."""
    ours = _ours_predicate(folder)
    found = []
    for entry in walk(folder):
        if not ours(entry):
            found.append(entry)
            if limit is not None and len(found) >= limit:
                break
    return found


def walk(folder: Path) -> Iterator[str]:
    """Every file and folder below `folder`, relative, in name order, a folder's own entries before
    those of its sub-folders; a symlink is an entry, never followed."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        rel = Path(root).relative_to(folder)
        yield from ((rel / name).as_posix() for name in sorted(dirs + files))


def tree(folder: Path) -> list[str]:
    return sorted(walk(folder))


def _ours_predicate(folder: Path) -> Callable[[str], bool]:
    """Which entries a previous board in `folder` wrote: those its marker lists; for a board published
    before the marker, vlmbench's own names; in any other folder, none."""
    written = _marked(folder)
    if written is not None:
        return written.__contains__
    if _pre_marker_board(folder):
        return lambda entry: entry in BOARD_FILES or bool(re.fullmatch(rf"{MODELS_DIR}/[^/]+\.html", entry))
    return lambda entry: False


def _marked(folder: Path) -> set[str] | None:
    try:
        written = json.loads((folder / MARKER).read_text(encoding="utf-8"))["written"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {MARKER, *map(str, written)} if isinstance(written, list) else None


def _pre_marker_board(folder: Path) -> bool:
    """A board published before the marker existed: its results.json is vlmbench's."""
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(results, dict) and "vlmbench_version" in results and "board" in results


# ---------------------------------------------------------------- staging and the swap


@contextmanager
def staged(out: Path, target: Path) -> Iterator[Path]:
    """A fresh staging folder beside `target` to write the board into; put in place by `swap`. On any
    error (an OSError becomes a one-line PublishError naming the file) it is removed and `target` is
    left as it was."""
    remove_leftovers(target)
    stage = _make_sibling(target, "tmp")
    try:
        write_marker(stage, {"building": True})  # from here on the folder is recognisably ours
        yield stage
    except OSError as err:
        raise PublishError(_write_failure(err, out, stage)) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # after an exchange: the previous board


def write_marker(stage: Path, about: dict[str, Any]) -> None:
    """The marker: the board's name and version, and every entry written (what a later publish may
    replace)."""
    written = [e for e in tree(stage) if e != MARKER]
    text = json.dumps({**about, "written": written}, indent=1, ensure_ascii=False) + "\n"
    (stage / MARKER).write_text(text, encoding="utf-8")


def swap(out: Path, stage: Path, target: Path) -> None:
    """Put the complete board in `stage` at `target`; the previous board, if any, ends up at a
    sibling name and is removed."""
    check_target(out, target)  # again: files may have been put there while the board was written
    try:
        _swap_in(stage, target)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EBUSY):
            raise
        raise PublishError(
            f"{out}: cannot be swapped for the new board ({err.strerror}); if it is a mount point, "
            f"publish into a folder inside it (e.g. --out {out / 'board'}); {out} is left as it was"
        ) from None


def _swap_in(stage: Path, target: Path) -> None:
    if not os.path.lexists(target):
        os.rename(stage, target)
        return
    os.chmod(stage, stat.S_IMODE(target.stat().st_mode))  # the folder keeps its permissions
    if _exchange(stage, target):
        return  # `stage` now holds the previous board; `staged` removes it
    old = _make_sibling(target, "old", create=False)
    os.rename(target, old)  # from here until the next rename, `target` does not exist
    try:
        os.rename(stage, target)
    except BaseException:  # Ctrl-C too: never leave `target` missing
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)  # a failure here leaves a leftover the next publish removes


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux `renameat2(RENAME_EXCHANGE)`); False where the system or
    the file system has no such call."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@cache
def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a libc without it (glibc < 2.28, musl < 1.2.3)
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _make_sibling(target: Path, kind: str, create: bool = True) -> Path:
    """`<target>.<kind>-<pid>-<hex>` beside `target` (the same file system, so renames are atomic),
    created unless `create` is False."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PublishError(f"{target.parent}: cannot create the folder: {os_error_reason(err)}") from None
    while True:
        path = target.parent / f"{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        if not create:
            return path
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as err:
            raise PublishError(
                f"{target}: cannot write the board beside it in {target.parent}: {os_error_reason(err)}"
            ) from None


def remove_leftovers(target: Path) -> None:
    """Remove the staging and set-aside folders of publishes to `target` that were killed (their
    process is gone); a live publish's folders, and anything without our marker, are kept."""
    pattern = re.compile(rf"{re.escape(target.name)}\.(tmp|old)-(\d+)-[0-9a-f]{{8}}")
    if not target.parent.is_dir():
        return
    for entry in target.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and not _alive(int(match[2])) and _ours(entry):
            shutil.rmtree(entry, ignore_errors=True)


def _ours(folder: Path) -> bool:
    if folder.is_symlink() or not folder.is_dir():
        return False
    return (folder / MARKER).is_file() or not any(folder.iterdir())


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _write_failure(err: OSError, out: Path, stage: Path) -> str:
    """`site/models/m.html: cannot write the board: the disk is full (...); site is left as it was`."""
    where = Path(err.filename) if err.filename else stage
    if where.is_relative_to(stage):
        where = out / where.relative_to(stage)  # the file as it would have been published
    return f"{where}: cannot write the board: {os_error_reason(err)}; {out} is left as it was"
