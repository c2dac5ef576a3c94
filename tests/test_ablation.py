"""`vlmbench.ablation`: blank images keep each item's size and text, and a bad original still fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from realdata import load_shared_items

from vlmbench.ablation import BLANK_COLOUR, ablate, blank_like
from vlmbench.errors import DataError
from vlmbench.schema import ImageRef


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
    with pytest.raises(ValueError, match="unknown image ablation 'noise'"):
        ablate(load_shared_items("chartqa")[:1], "noise")
