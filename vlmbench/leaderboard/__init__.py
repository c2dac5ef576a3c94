"""Published leaderboards: board definitions (`leaderboards/<board>.yaml`), the comparable table built
from the results store, and the pages, Markdown, CSV and JSON written from it.

Reads run records (through `vlmbench.records.store`) only; never imports `vlmbench.models`. The names below
are imported on first use, so that `vlmbench --help` does not load jinja2 and the task registry.
The writer is `vlmbench.leaderboard.publish.publish(board, store, out_dir)` (the module shares its name,
so it is not re-exported here).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Board": "vlmbench.leaderboard.board",
    "BoardError": "vlmbench.leaderboard.board",
    "BoardTask": "vlmbench.leaderboard.board",
    "load_board": "vlmbench.leaderboard.board",
    "build_table": "vlmbench.leaderboard.table",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
