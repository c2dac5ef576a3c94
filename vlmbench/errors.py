"""Errors that name the file, line or sample at fault, so a user can fix the input."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any


class VlmbenchError(Exception):
    """Base class: every error vlmbench raises on bad input derives from it."""


class TaskNotFoundError(VlmbenchError, KeyError):
    """An unknown task name; the message carries 'did you mean' suggestions."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class TaskSpecError(VlmbenchError):
    """A task file that is malformed YAML or does not follow the task schema."""


class DataError(VlmbenchError):
    """A dataset item that cannot be read: bad JSON, a missing field, a duplicate id, a missing image."""


class PredictionsError(VlmbenchError):
    """A predictions file that cannot be read."""


def located(path: object, line: int | None, message: str) -> str:
    """Format 'path:line: message' the way compilers do, so editors can jump to it."""
    return f"{path}:{line}: {message}" if line is not None else f"{path}: {message}"


def first_validation_error(err: Any, unknown_key: str | None = None) -> str:
    """`tasks.chartqa.metrics.official: <why> (and 2 more)`: the first problem of a pydantic
    ValidationError, where it is, and how many more there are (`unknown_key` replaces pydantic's words
    for a key the model does not have)."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "<root>"
    message = first["msg"].removeprefix("Value error, ")
    if unknown_key is not None and first["type"] == "extra_forbidden":
        message = unknown_key
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {message}{more}"


def os_error_reason(err: OSError) -> str:
    """What an OS error means for a file vlmbench writes, in words: `the disk is full (No space left
    on device)`, `not writable (Read-only file system)`; one wording for run folders, store and boards."""
    text = err.strerror or str(err)
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({text})"
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"not writable ({text})"
    return text


def utf8_text(raw: bytes, path: object, first_line: int = 1, error: type[VlmbenchError] = DataError) -> str:
    """`raw` (read from `path`, starting at `first_line`) as UTF-8 text; bytes that are not UTF-8 raise
    `error` naming the file, line and column, never a bare UnicodeDecodeError."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = first_line + raw.count(b"\n", 0, err.start)
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        bad = raw[err.start : err.start + 1].hex()
        raise error(located(path, line, f"not valid UTF-8 (byte 0x{bad} at column {column})")) from None


def read_utf8(path: Path, error: type[VlmbenchError] = DataError) -> str:
    """A whole text file that users write (task and board YAML, run configs, recipes, pairs files)."""
    return utf8_text(Path(path).read_bytes(), path, error=error)
