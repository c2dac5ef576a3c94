"""Checks the procedural-task test files share: readable text layouts, non-blank images, scoring.

What every generator must do alike (determinism, prefix stability, loading, bad input) is tested once,
for all of them, in `test_synth_contract.py`; these helpers serve the generator-specific files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

from PIL import Image, ImageStat

from vlmbench.rescore import score_samples
from vlmbench.schema import Sample
from vlmbench.taskspec import TaskSpec


def boxes_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Two [x0, y0, x1, y1] boxes share inner points (boxes that only touch do not overlap)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_texts_readable(sample: Sample, width: int, height: int, min_size: int = 14) -> None:
    """Every text the item's layout records is at least `min_size` px, lies inside the image and
    overlaps no other text."""
    texts = sample.meta["layout"]["texts"]
    assert all(t["size"] >= min_size for t in texts), sample.id
    boxes = [t["box"] for t in texts]
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (sample.id, [x0, y0, x1, y1])
    for a, b in combinations(boxes, 2):
        assert not boxes_overlap(a, b), (sample.id, a, b)


def assert_not_blank(image: Image.Image) -> None:
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 20, "blank image"


def score(task: TaskSpec, samples: list[Sample], predict: Callable[[Sample], str]) -> dict[str, Any]:
    """The task scorer's metrics when every sample is answered `predict(sample)`."""
    _, metrics = score_samples(task, samples, {s.id: (predict(s), False) for s in samples})
    return metrics


def assert_gold_scores_perfectly(
    task: TaskSpec, samples: list[Sample], predict: Callable[[Sample], str] = lambda s: s.answer
) -> dict[str, Any]:
    """Answering `predict(sample)` (the gold answer unless told) scores 100%, official and robust;
    returns the metrics, for the breakdowns."""
    metrics = score(task, samples, predict)
    assert (metrics["official"], metrics["robust"]) == (1.0, 1.0)
    return metrics
