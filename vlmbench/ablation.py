"""Image ablation: the same items with every image replaced by a blank one, to measure how much a model's
score depends on seeing the image at all.

Why: a VLM (or a tiny trained one) can score well above chance from the question alone - answer priors
per question type, option wording. The paired difference between a normal run and a blank-image run
(`vlmbench compare`) is the model's visual gain; near zero means the model is answering blind.

A blank image keeps the original's size, so the prompt keeps the same number of image tokens and only the
pixels change. The original is still opened (for its size), so a missing or corrupt file fails its sample
exactly as in a normal run. Run records keep the original paths; the protocol records the ablation, so
an ablated run never shares a protocol hash with a normal one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PIL import Image

from vlmbench.schema import ImageRef, Sample

BLANK_COLOUR = (128, 128, 128)  # mid-grey: no colour, no edges, the centre of every normaliser's range
ABLATIONS = ("blank",)


def blank_like(image: Image.Image) -> Image.Image:
    """A uniform mid-grey RGB image of `image`'s size."""
    return Image.new("RGB", image.size, BLANK_COLOUR)


def blank_ref(ref: ImageRef) -> ImageRef:
    """`ref` with its pixels replaced on load (path kept for the records; no boxes: nothing to draw on)."""

    def load() -> Image.Image:
        return blank_like(ref.load())

    return ImageRef(path=ref.path, loader=load)


def ablate(samples: Sequence[Sample], ablation: str) -> list[Sample]:
    """The samples with their images ablated; questions, options and answers untouched."""
    if ablation not in ABLATIONS:
        raise ValueError(f"unknown image ablation {ablation!r}; choose one of {', '.join(ABLATIONS)}")
    return [dataclasses.replace(s, images=[blank_ref(r) for r in s.images]) for s in samples]
