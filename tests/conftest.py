"""Fixtures shared by the test modules (helpers themselves live in `realdata.py`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from realdata import load_shared_items, shared_data_dir

from vlmbench.schema import Sample


@pytest.fixture
def shared_items() -> Callable[[str], list[Sample]]:
    """`shared_items("chartqa")` -> the benchmark's real developer items as Samples."""
    return load_shared_items


@pytest.fixture
def shared_data() -> Path:
    """The `shared/data` folder of real developer items."""
    return shared_data_dir()
