"""Chance rows for every leaderboard: answers that use no image and no question.

- `random`: a seeded uniform choice among the options (multiple choice), else among the task's gold
  answers - the chance level of a guesser that knows the answer format;
- `majority`: the most frequent gold answer of the task (options: the most frequent gold position);
- `first-choice`: always option A (open questions: the majority answer).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from vlmbench.errors import VlmbenchError
from vlmbench.models.base import Request, Response
from vlmbench.schema import LETTERS, Sample

STRATEGIES = ("random", "majority", "first-choice")


class BaselineBackend:
    name = "baseline"

    def __init__(self, model: str = "random", seed: int = 0, **_: Any) -> None:
        if model not in STRATEGIES:
            raise VlmbenchError(f"unknown baseline {model!r}; choose one of {', '.join(STRATEGIES)}")
        self.strategy = model
        self.seed = seed
        self.open_answers: list[str] = []
        self.majority_open = ""
        self.majority_letter = "A"

    def start_task(self, task: str, samples: Sequence[Sample]) -> None:
        self.open_answers = sorted({s.answer for s in samples if not s.choices})
        counts = Counter(s.answer for s in samples if not s.choices)
        self.majority_open = min(counts, key=lambda a: (-counts[a], a)) if counts else ""
        letters = Counter(s.answer_letter for s in samples if s.choices and s.answer_letter)
        self.majority_letter = min(letters, key=lambda a: (-letters[a], a)) if letters else "A"

    def _rng(self, sample_id: str, request_seed: int) -> random.Random:
        """Per-sample stream: the guess for an item does not depend on batch size or order. The request's
        seed joins the backend's, so the n generations of pass@k (seeds s, s + 1, ...) are independent;
        a request under the backend's own seed keeps the stream runs had before pass@k existed."""
        key = (
            f"{self.seed}|{sample_id}"
            if request_seed == self.seed
            else f"{self.seed}|{request_seed}|{sample_id}"
        )
        digest = hashlib.sha256(key.encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def answer(self, sample: Sample, seed: int = 0) -> str:
        if sample.choices:
            if self.strategy == "random":
                return self._rng(sample.id, seed).choice(LETTERS[: len(sample.choices)])
            if self.strategy == "majority" and self.majority_letter in sample.letters:
                return self.majority_letter
            return "A"
        if self.strategy == "random" and self.open_answers:
            return self._rng(sample.id, seed).choice(self.open_answers)
        return self.majority_open

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return [Response(self.answer(r.sample, r.params.seed), n_output_tokens=1) for r in requests]

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.strategy, "seed": self.seed}
