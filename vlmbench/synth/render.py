"""Drawing helpers shared by generators: fonts, palettes, canvases (Pillow only, deterministic)."""

from __future__ import annotations

from functools import cache

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
