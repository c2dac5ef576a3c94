"""A question and its family: what the builders of each question kind return and register.

The figure is the single record of what is given: its value labels carry each measure and its role, so
`given`, `distractors`, `unknown` and `answer` are read off it and cannot disagree with the picture.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vlmbench.synth.geometry.figure import Figure


@dataclass
class Problem:
    """One question: its figure, the facts a solver chains (one step each), and typical mistakes to
    draw wrong options from."""

    variant: str
    facts: list[str]
    question: str
    figure: Figure
    mistakes: list[float]
    decimals: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # an unknown the figure does not label (a perimeter): (name, value)
    undrawn_unknown: tuple[str, float] | None = None

    @property
    def steps(self) -> int:
        return len(self.facts)

    @property
    def given(self) -> dict[str, float]:
        return self._measures("given")

    @property
    def distractors(self) -> dict[str, float]:
        """Labelled quantities the answer does not need."""
        return self._measures("distractor")

    @property
    def unknown(self) -> str:
        return self._unknown()[0]

    @property
    def answer(self) -> float:
        return self._unknown()[1]

    def _measures(self, role: str) -> dict[str, float]:
        return {m["name"]: m["value"] for m in self.figure.measures if m["role"] == role}

    def _unknown(self) -> tuple[str, float]:
        if self.undrawn_unknown is not None:
            return self.undrawn_unknown
        ((name, value),) = self._measures("unknown").items()
        return name, value


Builder = Callable[[random.Random], Problem]


@dataclass(frozen=True)
class Family:
    """A question kind: its unit and its builders for each difficulty (1 / 2 / 3 chained facts)."""

    kind: str
    unit: str  # "degrees" or "length"
    builders: dict[int, list[Builder]]
