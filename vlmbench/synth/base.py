"""The contract of a procedural task generator, and the machinery every generator shares.

A generator draws one item from a `random.Random` and a difficulty. Each item has its own generator
seeded from (generator, version, seed, difficulty, index), so item i is the same whatever `n` is, and
the same (task, difficulty, seed, version) always yields byte-identical images and items.

Every item carries `meta.structure`: the item's own structured description (the chart's series, the
triangle's angles, the scene's objects, the table's cells and the question's operation). Independent
solvers recompute the gold answer from it, which is how the tests check correctness by construction.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from vlmbench.errors import VlmbenchError

if TYPE_CHECKING:
    from PIL import Image

DIFFICULTIES = (1, 2, 3)
T = TypeVar("T")


class SynthError(VlmbenchError):
    """Bad generation input: unknown generator or difficulty, n <= 0, an unwritable export folder."""


@dataclass
class SynthItem:
    """One generated item before it becomes a Sample (ids and provenance are added by `generate`)."""

    question: str
    answer: str
    answer_type: str
    image: Image.Image
    structure: dict[str, Any]
    choices: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Generator(Protocol):
    """A procedural task: `make` must use only `rng` for randomness."""

    name: str
    version: str
    description: str

    def make(self, rng: random.Random, difficulty: int) -> SynthItem: ...


def item_rng(generator: str, version: str, seed: int, difficulty: int, index: int) -> random.Random:
    """An independent, platform-stable random stream per item."""
    key = f"{generator}|{version}|{seed}|{difficulty}|{index}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def png_bytes(image: Image.Image) -> bytes:
    """PNG bytes with no timestamp or text chunks, so equal pixels give equal bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def check_request(difficulty: int, n: int, seed: int) -> None:
    if difficulty not in DIFFICULTIES:
        raise SynthError(f"unknown difficulty {difficulty!r}; choose one of {list(DIFFICULTIES)}")
    if not isinstance(n, int) or n <= 0:
        raise SynthError(f"n must be a positive integer, got {n!r}")
    if not isinstance(seed, int) or seed < 0:
        raise SynthError(f"seed must be a non-negative integer, got {seed!r}")


def retry(draw: Callable[[], T | None], attempts: int, generator: str, difficulty: int) -> T:
    """The first draw that is not rejected (None), trying at most `attempts` times. Every draw reads on
    from the item's random stream, so which draw is kept is fixed by that stream alone."""
    for _ in range(attempts):
        found = draw()
        if found is not None:
            return found
    raise SynthError(f"{generator}: no valid item after {attempts} draws at difficulty {difficulty}")


def plain_number(value: Fraction) -> int | float:
    """An exact value as JSON holds it: an int, or a float (values with at most two decimals are exact
    in repr)."""
    return value.numerator if value.denominator == 1 else float(value)
