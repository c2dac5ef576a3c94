"""Peak memory of decoding hostile images, with and without vlmbench's pixel cap.

Builds, in a temp folder, PNGs of black pixels (they compress ~1000:1, so a 169-megapixel file is a
few hundred KB - the audit's memory bomb) and a JPEG, then decodes each through `ImageRef.load` in a
fresh subprocess and prints the child's peak RSS above its own baseline (interpreter + imports): VmHWM
from /proc/self/status, `ru_maxrss` where there is no /proc. "uncapped" raises
`VLMBENCH_MAX_IMAGE_PIXELS` to 10^9: what decoding cost before the cap. Figures only, no assertion.

    python bench/bench_images.py [--bomb-side 13000] [--near-side 6300]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

CHILD = r"""
import json, resource, sys
from vlmbench.errors import DataError
from vlmbench.schema import ImageRef
import PIL.Image, PIL.PngImagePlugin, PIL.JpegImagePlugin, PIL.ImageDraw
import vlmbench.data.images  # the decode path itself, so the baseline holds every import

def peak_kb():
    # VmHWM is this process's own high-water mark; ru_maxrss may carry the parent's over fork
    try:
        with open("/proc/self/status") as status:
            return int(next(l for l in status if l.startswith("VmHWM")).split()[1])
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

base = peak_kb()
path, side = sys.argv[1], sys.argv[2]
try:
    image = ImageRef(path=path).load(max_side=int(side) if side != "none" else None)
    outcome = "decoded %dx%d" % image.size
except DataError as err:
    outcome = "refused: " + str(err).split(": ", 1)[1].split(", over")[0]
peak = peak_kb()
print(json.dumps({"outcome": outcome, "extra_kb": peak - base}))
"""


def black_png(path: Path, width: int, height: int) -> None:
    """An RGB PNG of black pixels, streamed row by row (the bench never holds the picture)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" + bytes(3 * width)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def black_jpeg(path: Path, width: int, height: int) -> None:
    from PIL import Image

    Image.new("RGB", (width, height)).save(path, "JPEG", quality=90)


def measure(path: Path, cap: int | None, side: int | None) -> dict[str, object]:
    env = dict(os.environ)
    env.pop("VLMBENCH_MAX_IMAGE_PIXELS", None)
    if cap is not None:
        env["VLMBENCH_MAX_IMAGE_PIXELS"] = str(cap)
    args = [sys.executable, "-W", "ignore", "-c", CHILD, str(path), str(side) if side else "none"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-side", type=int, default=13000, help="side of the square bomb PNG")
    parser.add_argument(
        "--near-side", type=int, default=6300, help="side of the near-cap images (6300: 39.7 MP)"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Pillow warns when it reads the bomb's header: that is the point
    from vlmbench.data.images import DEFAULT_MAX_PIXELS

    with tempfile.TemporaryDirectory() as tmp:
        bomb, near, near_jpeg = Path(tmp) / "bomb.png", Path(tmp) / "near.png", Path(tmp) / "near.jpg"
        black_png(bomb, args.bomb_side, args.bomb_side)
        black_png(near, args.near_side, args.near_side)
        black_jpeg(near_jpeg, args.near_side, args.near_side)
        cases = [
            ("bomb PNG, uncapped", bomb, 10**9, None),
            ("bomb PNG, default cap", bomb, None, None),
            ("near-cap PNG, default cap", near, None, None),
            ("near-cap PNG, max_side=1024", near, None, 1024),
            ("near-cap JPEG, default cap", near_jpeg, None, None),
            ("near-cap JPEG, max_side=1024", near_jpeg, None, 1024),
        ]
        print(f"default cap: {DEFAULT_MAX_PIXELS / 1e6:.0f} MP; peak RSS above the child's baseline")
        print(f"{'case':32} {'pixels':>9} {'file':>9} {'peak':>9}  outcome")
        for name, path, cap, side in cases:
            from PIL import Image

            with Image.open(path) as header:
                pixels = header.width * header.height
            result = measure(path, cap, side)
            size_kb = path.stat().st_size / 1024
            extra_mb = int(result["extra_kb"]) / 1024  # type: ignore[call-overload]
            print(f"{name:32} {pixels / 1e6:8.1f}M {size_kb:8.0f}K {extra_mb:8.0f}M  {result['outcome']}")


if __name__ == "__main__":
    main()
