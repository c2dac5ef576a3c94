"""Decoding images from untrusted data without letting one file exhaust memory.

A PNG or JPEG header states the picture's size, and decoding allocates it in full: a few-hundred-KB
PNG of 13000x13000 costs 0.65 GB decoded (Pillow keeps RGB at 4 bytes a pixel), under Pillow's own
bomb limit (~179 megapixels). So every image is opened header-first (`Image.open` reads no pixels)
and refused when its width x height is over a cap, before a byte is decoded; the refusal is a
`DataError` naming the file and its size, which fails that one sample, not the run.

The cap is `DEFAULT_MAX_PIXELS` (40 megapixels), or `VLMBENCH_MAX_IMAGE_PIXELS`. 40 MP admits the
images of the benchmarks vlmbench knows with room to spare - charts, diagrams and photos are under
5 MP, tall infographics ~20-30 MP, the 8K frames of high-resolution benchmarks 33.2 MP (7680x4320) -
while one decoded image stays near 160 MB, so eight requests in flight hold ~1.3 GB of pixels
rather than the 5+ GB eight bombs cost (`bench/bench_images.py` prints the figures).

`fit_within` / `target_size` downscale to what a backend can use (a processor's size, an API's
limit), keeping the aspect ratio and never upscaling; a JPEG is then decoded at 1/2..1/8 scale
directly (`draft`), which also saves the memory of the full decode.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from vlmbench.errors import DataError, VlmbenchError

if TYPE_CHECKING:
    from PIL import Image

    from vlmbench.schema import Box, ImageRef

MAX_PIXELS_ENV = "VLMBENCH_MAX_IMAGE_PIXELS"
DEFAULT_MAX_PIXELS = 40_000_000
_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def max_image_pixels() -> int:
    """The decoding cap in pixels: `VLMBENCH_MAX_IMAGE_PIXELS` (e.g. 100000000 or 100_000_000), else the
    default. A value that is not a positive integer is an error, not a silent default."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise VlmbenchError(f"{MAX_PIXELS_ENV}={raw!r}: expected a positive number of pixels")
    return value


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}"


def check_pixels(size: tuple[int, int], where: str, limit: int | None = None) -> None:
    """Refuse a `width x height` over the cap, naming `where` (the file) and the dimensions."""
    limit = max_image_pixels() if limit is None else limit
    width, height = size
    if width * height > limit:
        raise DataError(
            f"{where}: image is {width}x{height} ({_megapixels(width * height)} megapixels), over the "
            f"{_megapixels(limit)}-megapixel decoding cap (raise it with {MAX_PIXELS_ENV})"
        )


def target_size(
    size: tuple[int, int], max_pixels: int | None = None, max_side: int | None = None
) -> tuple[int, int]:
    """The largest size with `size`'s aspect ratio within both bounds (None: unbounded); never larger
    than `size`, never below 1x1."""
    if (max_pixels is not None and max_pixels < 1) or (max_side is not None and max_side < 1):
        raise ValueError(f"bounds must be positive: max_pixels={max_pixels}, max_side={max_side}")
    width, height = size
    scale = 1.0
    if max_side is not None:
        scale = min(scale, max_side / max(width, height))
    if max_pixels is not None:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    if scale >= 1.0:
        return size
    new = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    while max_pixels is not None and new[0] * new[1] > max_pixels:  # float rounding: trim the long side
        new = (new[0] - 1, new[1]) if new[0] >= new[1] else (new[0], new[1] - 1)
    return new


def fit_within(image: Image.Image, max_pixels: int | None = None, max_side: int | None = None) -> Image.Image:
    """`image` downscaled (Lanczos) to `target_size`; the same object when it already fits."""
    from PIL import Image as PILImage

    size = target_size(image.size, max_pixels, max_side)
    return image if size == image.size else image.resize(size, PILImage.Resampling.LANCZOS)


def _scaled(boxes: tuple[Box, ...], factor: float) -> tuple[Box, ...]:
    """Box coordinates for an image decoded at `factor` of its stored size (a JPEG draft)."""
    if factor == 1.0:
        return boxes
    return tuple((label, tuple(v * factor for v in xyxy)) for label, xyxy in boxes)  # type: ignore[misc]


def _where(ref: ImageRef) -> str:
    return ref.path or "<image bytes>"


def _open_header(ref: ImageRef) -> Image.Image:
    """The image opened (header read, no pixel decoded) and its size checked against the cap."""
    from PIL import Image as PILImage

    if ref.data is not None:
        image = PILImage.open(io.BytesIO(ref.data))
    elif ref.path is not None:
        image = PILImage.open(ref.path)
    else:
        raise DataError("image reference has neither a path nor data")
    try:
        check_pixels(image.size, _where(ref))
    except DataError:
        image.close()
        raise
    return image


def _decode(ref: ImageRef, max_pixels: int | None, max_side: int | None) -> tuple[Image.Image, float]:
    """Pixels of `ref` and the factor they were decoded at (below 1 when a JPEG was drafted smaller)."""
    if ref.loader is not None:  # already-decoded sources (hub loaders, arrays): the cap still holds
        image = ref.loader()
        check_pixels(image.size, _where(ref))
        return image, 1.0
    image = _open_header(ref)
    stored = image.size
    wanted = target_size(stored, max_pixels, max_side)
    if wanted != stored:
        image.draft(None, wanted)  # JPEG: decode at 1/2..1/8 scale directly; other formats ignore it
    image.load()
    return image, image.width / stored[0]


def load_image(ref: ImageRef, max_pixels: int | None = None, max_side: int | None = None) -> Image.Image:
    """`ref` decoded as RGB with its boxes drawn, refused before decoding when over the cap, then
    downscaled to `max_pixels` / `max_side` when given. Every failure is a `DataError` naming the file."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    if ref.refused is not None:
        raise DataError(ref.refused)
    where = _where(ref)
    try:
        image, factor = _decode(ref, max_pixels, max_side)
    except FileNotFoundError as err:
        raise DataError(f"{where}: image file not found") from err
    except PILImage.DecompressionBombError as err:
        raise DataError(f"{where}: {err}") from err
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{where}: cannot decode image ({err})") from err
    if image.mode != "RGB":  # an RGB decode is used as it is: no second full-size copy
        image = image.convert("RGB")
    if ref.boxes:
        from vlmbench.data.draw import draw_boxes

        image = draw_boxes(image, _scaled(ref.boxes, factor))
    return fit_within(image, max_pixels, max_side)


def _own_bytes(ref: ImageRef) -> bytes | None:
    """The encoded bytes `ref` already has (its data or its file), when they can be sent as they are."""
    if ref.refused is not None or ref.loader is not None or ref.boxes:
        return None
    if ref.data is not None:
        return ref.data
    return Path(ref.path).read_bytes() if ref.path is not None else None


def encoded_image(
    ref: ImageRef, max_pixels: int | None = None, max_side: int | None = None
) -> tuple[bytes, str]:
    """`(bytes, mime)` to upload: the image's own PNG / JPEG bytes when it has them, no box is drawn and
    its header already fits the cap and the bounds (nothing decoded, nothing re-encoded); else a PNG of
    `load_image(ref, max_pixels, max_side)`."""
    where = _where(ref)
    try:
        raw = _own_bytes(ref)
    except FileNotFoundError:
        raise DataError(f"{where}: image file not found") from None
    except OSError as err:
        raise DataError(f"{where}: cannot read image ({err.strerror or err})") from None
    mime = next((m for magic, m in _MAGIC.items() if raw is not None and raw.startswith(magic)), None)
    if raw is not None and mime is not None:
        from PIL import Image as PILImage
        from PIL import UnidentifiedImageError

        try:
            with PILImage.open(io.BytesIO(raw)) as header:
                size = header.size
        except (UnidentifiedImageError, OSError, PILImage.DecompressionBombError) as err:
            raise DataError(f"{where}: cannot decode image ({err})") from err
        check_pixels(size, where)
        if target_size(size, max_pixels, max_side) == size:
            return raw, mime
    buffer = io.BytesIO()
    load_image(ref, max_pixels, max_side).save(buffer, format="PNG")
    return buffer.getvalue(), "image/png"
