"""Errors that name the file, line or sample at fault, so a user can fix the input."""

from __future__ import annotations


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
