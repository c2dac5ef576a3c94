"""Where the real developer items live (`shared/data`, read in place, never copied), and how tests
get them: through vlmbench's own loader, so tests see exactly what users' runs see."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vlmbench.data import load_samples
from vlmbench.registry import get_task
from vlmbench.schema import Sample

_ROOT = Path(__file__).resolve().parents[1]
TASK_OF = {
    "mathvista": "mathvista_testmini",
    "chartqa": "chartqa",
    "scienceqa": "scienceqa_img",
    "geometry3k": "geometry3k",
    "gqa": "gqa_testdev_balanced",
    "vcr": "vcr",
}


def shared_data_dir() -> Path:
    """`$VLMBENCH_SHARED_DATA`, else `shared/data` inside or beside the checkout; skips when absent."""
    for candidate in (
        os.environ.get("VLMBENCH_SHARED_DATA"),
        _ROOT / "shared" / "data",
        _ROOT.parent / "shared" / "data",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    pytest.skip("no shared/data folder with the real developer items", allow_module_level=True)


def load_shared_items(benchmark: str) -> list[Sample]:
    """A benchmark's real items as Samples (VCR: a Q->A and a QA->R sample per annotation)."""
    samples = load_samples(get_task(TASK_OF[benchmark]), shared_data_dir())
    assert samples, f"no items for {benchmark}"
    return samples
