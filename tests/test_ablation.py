"""`vlmbench.ablation`: blank images keep each item's size and text, a bad original still fails, and shuffled
images are always another item's real image."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
from realdata import load_shared_items

from vlmbench.ablation import BLANK_COLOUR, ablate, blank_like
from vlmbench.errors import DataError, VlmbenchError
from vlmbench.schema import ImageRef
from vlmbench.synth import generate


def test_a_blank_image_has_the_original_size_and_one_colour() -> None:
    original = load_shared_items("chartqa")[0].images[0].load()
    blank = blank_like(original)
    assert blank.size == original.size
    assert blank.mode == "RGB"
    assert blank.getcolors() == [(original.size[0] * original.size[1], BLANK_COLOUR)]


def test_ablation_changes_the_pixels_only() -> None:
    items = load_shared_items("scienceqa")[:5]
    ablated = ablate(items, "blank")
    for before, after in zip(items, ablated, strict=True):
        assert (after.id, after.question, after.choices, after.answer) == (
            before.id,
            before.question,
            before.choices,
            before.answer,
        )
        assert [r.path for r in after.images] == [r.path for r in before.images]
        for ref_before, ref_after in zip(before.images, after.images, strict=True):
            assert ref_after.load().size == ref_before.load().size
            assert ref_after.load().getextrema() == tuple((c, c) for c in BLANK_COLOUR)
    assert items[0].images[0].load().getextrema() != ablated[0].images[0].load().getextrema()


def test_a_missing_original_still_fails_naming_the_file(tmp_path: Path) -> None:
    item = load_shared_items("chartqa")[0]
    gone = tmp_path / "gone.png"
    [ablated] = ablate([type(item)(**{**item.__dict__, "images": [ImageRef(path=str(gone))]})], "blank")
    with pytest.raises(DataError, match=r"gone\.png"):
        ablated.images[0].load()


def test_an_unknown_ablation_is_refused() -> None:
    with pytest.raises(VlmbenchError, match="unknown image ablation 'noise'"):
        ablate(load_shared_items("chartqa")[:1], "noise")


def _pixels(ref: ImageRef) -> bytes:
    return ref.load().tobytes()


def test_shuffle_gives_each_item_another_items_real_image() -> None:
    items = generate("scene", 6, seed=3)
    ablated = ablate(items, "shuffle")
    for k, (before, after) in enumerate(zip(items, ablated, strict=True)):
        assert (after.id, after.question, after.answer) == (before.id, before.question, before.answer)
        assert _pixels(after.images[0]) != _pixels(before.images[0])
        assert _pixels(after.images[0]) == _pixels(items[(k + 1) % len(items)].images[0])


def test_shuffle_skips_items_that_share_the_same_image() -> None:
    items = load_shared_items("chartqa")  # several questions per chart
    by_chart = Counter(item.images[0].path for item in items)
    assert max(by_chart.values()) > 1
    for before, after in zip(items, ablate(items, "shuffle"), strict=True):
        assert after.images[0].path == before.images[0].path  # the records keep the item's own path
        assert _pixels(after.images[0]) != _pixels(before.images[0])


def test_shuffle_leaves_text_only_items_alone_and_needs_two_distinct_images() -> None:
    items = load_shared_items("chartqa")
    text_only = dataclasses.replace(items[0], id="no-image", images=[])
    ablated = ablate([text_only, *items[:3]], "shuffle")
    assert ablated[0].images == []
    same = [dataclasses.replace(items[0], id=f"q{k}") for k in range(3)]
    with pytest.raises(VlmbenchError, match="at least two distinct images"):
        ablate(same, "shuffle")
