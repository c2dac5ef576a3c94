"""Image ablation: the same items with their images replaced, to measure how much a model's score depends
on seeing the right image.

Why: a VLM (or a tiny trained one) can score well above chance from the question alone - answer priors
per question type, option wording. The paired difference between a normal run and a blank-image run
(`vlmbench compare`) is the model's visual gain; near zero means the model is answering blind.

- `blank`: a uniform grey image of the original's size, so the prompt keeps the same number of image
  tokens and only the pixels change. The original is still opened (for its size), so a missing or
  corrupt file fails its sample exactly as in a normal run.
- `shuffle`: the images of another item of the same task (the next one, in order, whose images differ),
  so the model sees a real, in-distribution image that does not belong to the question. A grey image is
  unlike anything in training; a model can react to that alone, which the shuffled control rules out.

Run records keep each item's own paths; the protocol records the ablation, so an ablated run never
shares a protocol hash with a normal one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PIL import Image

from vlmbench.errors import VlmbenchError
from vlmbench.schema import ImageRef, Sample

BLANK_COLOUR = (128, 128, 128)  # mid-grey: no colour, no edges, the centre of every normaliser's range
ABLATIONS = ("blank", "shuffle")


def blank_like(image: Image.Image) -> Image.Image:
    """A uniform mid-grey RGB image of `image`'s size."""
    return Image.new("RGB", image.size, BLANK_COLOUR)


def blank_ref(ref: ImageRef) -> ImageRef:
    """`ref` with its pixels replaced on load (path kept for the records; no boxes: nothing to draw on)."""

    def load() -> Image.Image:
        return blank_like(ref.load())

    return ImageRef(path=ref.path, loader=load)


def borrowed_refs(own: Sequence[ImageRef], other: Sequence[ImageRef]) -> list[ImageRef]:
    """`own`'s paths (for the records) loading `other`'s images; as many images as `other` has."""
    paths = [r.path for r in own] + [None] * max(0, len(other) - len(own))
    return [ImageRef(path=path, loader=ref.load) for path, ref in zip(paths, other, strict=False)]


def _image_key(ref: ImageRef) -> object:
    """What makes two references the same image (a loader-only image, as UniGeo's, is its own)."""
    return (ref.path, ref.data, ref.boxes) if ref.path or ref.data else id(ref.loader)


def shuffled(samples: Sequence[Sample]) -> list[Sample]:
    """Each item with the images of the next item (cyclically) whose images differ from its own."""
    keys = [[_image_key(r) for r in s.images] for s in samples]
    n = len(samples)
    out = []
    for i, sample in enumerate(samples):
        if not sample.images:  # a text-only item stays text-only
            out.append(sample)
            continue
        donors = ((i + k) % n for k in range(1, n))
        j = next((j for j in donors if keys[j] and keys[j] != keys[i]), None)
        if j is None:
            raise VlmbenchError(
                f"cannot shuffle images: no other item has images different from {sample.id!r}'s "
                "(shuffling needs at least two distinct images)"
            )
        out.append(dataclasses.replace(sample, images=borrowed_refs(sample.images, samples[j].images)))
    return out


def check_ablation(ablation: str) -> None:
    if ablation not in ABLATIONS:
        raise VlmbenchError(f"unknown image ablation {ablation!r}; choose one of {', '.join(ABLATIONS)}")


def ablate(samples: Sequence[Sample], ablation: str) -> list[Sample]:
    """The samples with their images ablated; questions, options and answers untouched."""
    check_ablation(ablation)
    if ablation == "shuffle":
        return shuffled(samples)
    return [dataclasses.replace(s, images=[blank_ref(r) for r in s.images]) for s in samples]
