"""Draw labelled boxes on an image (VCR object references), so a VLM can see what `2` refers to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

    from vlmbench.schema import Box

PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324")


def draw_boxes(image: Image.Image, boxes: Sequence[Box]) -> Image.Image:
    from PIL import ImageDraw

    out = image.copy()
    pen = ImageDraw.Draw(out)
    width = max(2, round(min(out.size) / 200))
    for i, (label, (x1, y1, x2, y2)) in enumerate(boxes):
        colour = PALETTE[i % len(PALETTE)]
        pen.rectangle((x1, y1, x2, y2), outline=colour, width=width)
        text_box = pen.textbbox((x1, y1), label)
        pen.rectangle((x1, y1, text_box[2] + 4, text_box[3] + 2), fill=colour)
        pen.text((x1 + 2, y1), label, fill="white")
    return out
