"""Image decoding limits and downscaling (`vlmbench.data.images`, `ImageRef.load` / `ImageRef.encoded`).

Hostile images are built here: `png_header` writes a valid PNG whose header claims a large size over
an empty pixel stream, so a test can show the refusal comes from the header, before any decoding (a
decode would fail or allocate the full size). Peak memory is measured by `bench/bench_images.py`,
never asserted here.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from vlmbench.data.images import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    fit_within,
    max_image_pixels,
    target_size,
)
from vlmbench.errors import DataError, VlmbenchError
from vlmbench.schema import ImageRef


def png_header(width: int, height: int) -> bytes:
    """A PNG that states `width x height` (8-bit grey) and holds no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any pixel decode fails the test: refusals must come from the header alone."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"decoded a {self.size} image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# --- the cap ---------------------------------------------------------------------------------------


def test_the_default_cap_is_forty_megapixels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_PIXELS_ENV, raising=False)
    assert max_image_pixels() == DEFAULT_MAX_PIXELS == 40_000_000


def test_an_image_over_the_cap_is_refused_from_its_header_naming_file_and_size(
    tmp_path: Path, no_decoding: None
) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(9000, 9000))  # 81 MP: below Pillow's own limit, over vlmbench's
    for ref, where in (
        (ImageRef(path=str(path)), str(path)),
        (ImageRef(data=path.read_bytes()), "<image bytes>"),
    ):
        with pytest.raises(DataError) as err:
            ref.load()
        message = str(err.value)
        assert message.startswith(where) and "9000x9000" in message and "81.0 megapixels" in message
        assert "40.0-megapixel" in message and MAX_PIXELS_ENV in message


def test_encoding_for_upload_is_refused_from_the_header_too(no_decoding: None) -> None:
    with pytest.raises(DataError, match="8000x6000"):
        ImageRef(data=png_header(8000, 6000)).encoded()


def test_the_cap_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.png"
    Image.new("L", (17, 9), 50).save(path)
    monkeypatch.setenv(MAX_PIXELS_ENV, "152")
    with pytest.raises(DataError, match=r"17x9 \(0.0 megapixels\)"):
        ImageRef(path=str(path)).load()
    monkeypatch.setenv(MAX_PIXELS_ENV, "153")
    assert ImageRef(path=str(path)).load().size == (17, 9)
    monkeypatch.setenv(MAX_PIXELS_ENV, "100_000_000")
    assert max_image_pixels() == 100_000_000


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5"])
def test_a_cap_that_is_not_a_positive_integer_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(MAX_PIXELS_ENV, value)
    with pytest.raises(VlmbenchError, match=MAX_PIXELS_ENV):
        ImageRef(data=encoded(Image.new("L", (2, 2)))).load()


def test_pillows_own_bomb_limit_is_a_data_error_when_the_cap_is_raised_past_it(
    monkeypatch: pytest.MonkeyPatch, no_decoding: None
) -> None:
    monkeypatch.setenv(MAX_PIXELS_ENV, str(10**9))
    with pytest.raises(DataError, match="decompression bomb"):
        ImageRef(path="huge.png", data=png_header(15000, 15000)).load()


def test_images_from_loaders_are_held_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_PIXELS_ENV, "99")
    with pytest.raises(DataError, match="10x10"):
        ImageRef(loader=lambda: Image.new("RGB", (10, 10))).load()


def test_a_truncated_image_under_the_cap_is_still_a_data_error() -> None:
    with pytest.raises(DataError, match="cannot decode"):
        ImageRef(path="t.png", data=png_header(50, 50)).load()


# --- downscaling -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "max_pixels", "max_side", "expected"),
    [
        ((4000, 3000), None, 1000, (1000, 750)),
        ((3000, 4000), None, 1000, (750, 1000)),
        ((4000, 3000), 1_000_000, None, (1154, 866)),
        ((100, 10_000), 10_000, None, (10, 1000)),
        ((4000, 3000), 1_000_000, 800, (800, 600)),
        ((10, 10), 1_000, 100, (10, 10)),  # never upscaled
        ((5000, 1), None, 100, (100, 1)),  # never below one pixel
    ],
)
def test_target_size_keeps_the_aspect_within_both_bounds(
    size: tuple[int, int], max_pixels: int | None, max_side: int | None, expected: tuple[int, int]
) -> None:
    got = target_size(size, max_pixels, max_side)
    assert got == expected
    assert max_pixels is None or got[0] * got[1] <= max_pixels
    assert max_side is None or max(got) <= max_side


def test_target_size_refuses_bounds_below_one() -> None:
    with pytest.raises(ValueError):
        target_size((10, 10), max_side=0)


def test_fit_within_returns_the_same_image_when_it_fits() -> None:
    image = Image.new("RGB", (40, 20))
    assert fit_within(image, max_side=40) is image
    assert fit_within(image, max_side=10).size == (10, 5)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_load_downscales_to_the_bounds_keeping_the_aspect(fmt: str) -> None:
    ref = ImageRef(data=encoded(Image.new("RGB", (1600, 800), "teal"), fmt))
    assert ref.load().size == (1600, 800)
    assert ref.load(max_side=200).size == (200, 100)
    assert ref.load(max_pixels=20_000).size == (200, 100)


def test_boxes_land_on_the_same_spot_when_a_jpeg_is_decoded_smaller() -> None:
    """A JPEG is drafted at 1/2..1/8 scale; boxes drawn in stored coordinates are scaled with it."""
    picture = encoded(Image.new("RGB", (1600, 800), "white"), "JPEG")
    ref = ImageRef(data=picture, boxes=(("1", (800.0, 400.0, 1600.0, 800.0)),))
    small = ref.load(max_side=200)
    reference = fit_within(ImageRef(data=picture, boxes=ref.boxes).load(), max_side=200)
    assert small.size == reference.size == (200, 100)
    assert small.getpixel((50, 25))[1] > 200  # the untouched quarter stays white
    left_edge = [small.getpixel((100, y)) for y in range(60, 95)]
    assert all(pixel != (255, 255, 255) for pixel in left_edge)  # the box's edge at x = 800 / 8


# --- bytes for an upload ---------------------------------------------------------------------------


def test_encoded_sends_an_images_own_bytes_when_they_fit(tmp_path: Path, no_decoding: None) -> None:
    png = encoded(Image.new("RGB", (30, 20), "teal"))
    assert ImageRef(data=png).encoded() == (png, "image/png")
    path = tmp_path / "photo.jpg"
    path.write_bytes(encoded(Image.new("RGB", (30, 20), "teal"), "JPEG"))
    assert ImageRef(path=str(path)).encoded(max_side=30) == (path.read_bytes(), "image/jpeg")


def test_encoded_re_encodes_a_downscaled_png_when_the_image_is_larger_than_asked() -> None:
    data, mime = ImageRef(data=encoded(Image.new("RGB", (300, 200), "teal"))).encoded(max_side=30)
    assert mime == "image/png"
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (30, 20)


def test_encoded_draws_boxes_and_decodes_formats_it_cannot_send_as_they_are() -> None:
    boxed = ImageRef(data=encoded(Image.new("RGB", (30, 20))), boxes=(("1", (0.0, 0.0, 10.0, 10.0)),))
    gif = ImageRef(data=encoded(Image.new("RGB", (30, 20)), "GIF"))
    for ref in (boxed, gif):
        data, mime = ref.encoded()
        assert mime == "image/png" and data.startswith(b"\x89PNG")


def test_a_refused_image_fails_on_load_and_on_encoding() -> None:
    ref = ImageRef(refused="items.jsonl:2 (item 'x'): image '../x' is outside the data folder; refused")
    for call in (ref.load, ref.encoded):
        with pytest.raises(DataError, match="item 'x'"):
            call()
    assert not ref.exists()
