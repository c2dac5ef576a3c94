"""Shared test helpers: real benchmark items from the developer sample in `shared/data`.

The items are read in place (never copied into the repository). Their schema is described in
`shared/data/README.md`: one JSON object per line with `id, benchmark, question, choices, answer,
answer_type, image, meta`; for multiple choice `answer` is the option's text. Tests that need them are
skipped where the sample data is not present.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from vlmbench.schema import Sample

_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """`$VLMBENCH_SHARED_DATA`, else `shared/data` inside or beside the checkout."""
    candidates = [
        os.environ.get("VLMBENCH_SHARED_DATA"),
        _ROOT / "shared" / "data",
        _ROOT.parent / "shared" / "data",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _vcr_samples(item: dict) -> list[Sample]:
    """VCR as vlmbench scores it: one Q->A sample and one QA->R sample per annotation (anchors §2.6)."""
    meta = item["meta"]
    common = {"annot_id": item["id"]}
    q2a = Sample(
        id=f"{item['id']}:q2a",
        question=item["question"],
        answer=item["answer"],
        answer_type="multiple_choice",
        choices=item["choices"],
        meta={**common, "vcr_subtask": "q2a", "answer_label": meta["answer_label"]},
    )
    qa2r = Sample(
        id=f"{item['id']}:qa2r",
        question=item["question"],
        answer=meta["rationale"],
        answer_type="multiple_choice",
        choices=meta["rationale_choices"],
        meta={
            **common,
            "vcr_subtask": "qa2r",
            "answer_label": meta["rationale_label"],
            "gold_answer": item["answer"],
        },
    )
    return [q2a, qa2r]


def load_shared_items(benchmark: str) -> list[Sample]:
    """Samples built from `shared/data/<benchmark>/items.jsonl`; skips the test when it is absent."""
    root = shared_data_dir()
    path = root / benchmark / "items.jsonl" if root else None
    if path is None or not path.is_file():
        pytest.skip(f"no shared sample data for {benchmark}")
    samples: list[Sample] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if benchmark == "vcr":
            samples.extend(_vcr_samples(item))
            continue
        samples.append(
            Sample(
                id=str(item["id"]),
                question=item["question"],
                answer=item["answer"],
                answer_type=item["answer_type"],
                choices=item["choices"],
                meta=item["meta"],
            )
        )
    assert samples, f"{path} holds no items"
    return samples


@pytest.fixture
def shared_items() -> Callable[[str], list[Sample]]:
    """`shared_items("chartqa")` -> the benchmark's real developer items as Samples."""
    return load_shared_items
