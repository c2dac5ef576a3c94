"""Drawing helpers shared by generators (Pillow only, deterministic): fonts, palettes, months, canvases."""

from __future__ import annotations

from functools import cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont

# Colour names a question may use, with RGB values far enough apart to tell at a glance.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (214, 39, 40),
    "blue": (31, 119, 180),
    "green": (44, 160, 44),
    "orange": (255, 127, 14),
    "purple": (148, 103, 189),
    "brown": (140, 86, 75),
    "gray": (127, 127, 127),
    "yellow": (230, 200, 20),
}
# Month labels as drawn (axes, table headers) and as a question names them.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)


@cache
def font(size: int = 16) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font: the same glyphs on every machine with the same Pillow."""
    return ImageFont.load_default(size=size)


def canvas(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (width, height), BACKGROUND)
    return image, ImageDraw.Draw(image)


def text_size(draw: ImageDraw.ImageDraw, text: str, size: int = 16) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font(size))
    return right - left, bottom - top


def centred_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int = 16) -> None:
    draw.text(xy, text, font=font(size), fill=INK, anchor="mm")  # "mm": the box's middle, not its top


class TextCanvas:
    """A canvas that records every text it draws (role, text, size, box), so tests and the generator
    can check that labels stay inside the image and never overlap."""

    def __init__(self, width: int, height: int) -> None:
        self.image, self.draw = canvas(width, height)
        self.width, self.height = width, height
        self.texts: list[dict[str, Any]] = []

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        *,
        size: int,
        role: str,
        anchor: str = "mm",
        fill: tuple[int, int, int] = INK,
        backdrop: bool = False,
    ) -> tuple[int, int, int, int]:
        point = (round(xy[0]), round(xy[1]))
        face = font(size)
        left, top, right, bottom = (
            round(v) for v in self.draw.textbbox(point, text, font=face, anchor=anchor)
        )
        if backdrop:
            self.draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=BACKGROUND)
        self.draw.text(point, text, font=face, anchor=anchor, fill=fill)
        self.texts.append({"role": role, "text": text, "size": size, "box": [left, top, right, bottom]})
        return left, top, right, bottom

    def width_of(self, text: str, size: int) -> int:
        left, _, right, _ = self.draw.textbbox((0, 0), text, font=font(size), anchor="lt")
        return round(right - left)

    def clean(self) -> bool:
        """Every text inside the canvas, and no two texts touching (at least 2 px apart)."""
        boxes = [t["box"] for t in self.texts]
        for x0, y0, x1, y1 in boxes:
            if x0 < 0 or y0 < 0 or x1 > self.width or y1 > self.height:
                return False
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                if a[0] < b[2] + 2 and b[0] < a[2] + 2 and a[1] < b[3] + 2 and b[1] < a[3] + 2:
                    return False
        return True

    def layout(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "texts": self.texts}
