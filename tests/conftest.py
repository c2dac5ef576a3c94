"""Fixtures shared by the test modules (helpers themselves live in `realdata.py`)."""

from __future__ import annotations

import os
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


@pytest.fixture(autouse=True, scope="session")
def _private_model_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The default tiny model is built into a cache; tests never touch the user's ~/.cache."""
    os.environ["VLMBENCH_CACHE"] = str(tmp_path_factory.mktemp("vlmbench-cache"))
