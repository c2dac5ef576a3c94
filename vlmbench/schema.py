"""The Sample every loader produces and every scorer consumes, whatever the data source."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image


class AnswerType(str, Enum):
    """How a gold answer is compared; mirrors the `answer_type` of the local dataset format."""

    MULTIPLE_CHOICE = "multiple_choice"
    INTEGER = "integer"
    FLOAT = "float"
    TEXT = "text"
    LIST = "list"
    BOOLEAN = "boolean"


# A labelled box drawn onto an image (VCR object references): (label, (x1, y1, x2, y2)).
Box = tuple[str, tuple[float, float, float, float]]


@dataclass(frozen=True)
class ImageRef:
    """A lazily decoded image: a file path, raw bytes, or a loader from a hub dataset.

    Decoding happens only in `load()`, so listing or scoring a task never touches pixels. `refused`
    marks an image that may not be read (its path leaves the data root): `load()` raises that reason,
    so the one sample fails and the run goes on, as it does for a missing file.
    """

    path: str | None = None
    data: bytes | None = None
    loader: Callable[[], Image.Image] | None = field(default=None, compare=False, repr=False)
    boxes: tuple[Box, ...] = ()
    refused: str | None = None

    def load(self, max_pixels: int | None = None, max_side: int | None = None) -> Image.Image:
        """RGB pixels with the boxes drawn. Refused before decoding when the header is over the
        decoding cap (`vlmbench.data.images`); downscaled, aspect kept, to `max_pixels` / `max_side`."""
        from vlmbench.data.images import load_image

        return load_image(self, max_pixels, max_side)

    def encoded(self, max_pixels: int | None = None, max_side: int | None = None) -> tuple[bytes, str]:
        """`(bytes, mime)` to send to a server: the own PNG / JPEG bytes when they already fit, else a
        PNG of `load(max_pixels, max_side)` - see `vlmbench.data.images.encoded_image`."""
        from vlmbench.data.images import encoded_image

        return encoded_image(self, max_pixels, max_side)

    def exists(self) -> bool:
        if self.refused is not None:
            return False
        return (
            self.data is not None
            or self.loader is not None
            or (self.path is not None and Path(self.path).is_file())
        )


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class Sample:
    """One benchmark item. `answer` is always a string; for multiple choice it is the option's text."""

    id: str
    question: str
    answer: str
    answer_type: AnswerType
    images: list[ImageRef] = field(default_factory=list)
    choices: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    answer_index: int | None = None

    def __post_init__(self) -> None:
        self.answer_type = AnswerType(self.answer_type)
        if self.choices is not None and self.answer_index is None:
            self.answer_index = _gold_index(self.choices, self.answer, self.meta)

    @property
    def answer_letter(self) -> str | None:
        return LETTERS[self.answer_index] if self.answer_index is not None else None

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.choices or [])]

    def meta_value(self, dotted: str) -> Any:
        """Read `meta.a.b` style paths used by breakdowns and prompt fields; None when absent."""
        node: Any = self.meta
        for part in dotted.removeprefix("meta.").split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node


def _gold_index(choices: Sequence[str], answer: str, meta: dict[str, Any]) -> int | None:
    """Prefer the source's own index (choices may repeat a text); fall back to the text's position."""
    for key in ("answer_index", "answer_label"):
        value = meta.get(key)
        if isinstance(value, int) and 0 <= value < len(choices):
            return value
    try:
        return list(choices).index(answer)
    except ValueError:
        return None
