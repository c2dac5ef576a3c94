"""The result type every extractor returns: an answer, how sure we are, and how it was found."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """`ok`: one answer found; `no_answer`: none (or the response was cut off); `ambiguous`: several."""

    OK = "ok"
    NO_ANSWER = "no_answer"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)  # shared by the extraction cache: never mutated
class Extraction:
    """What an extractor read from a response.

    `answer` is canonical for the extractor's kind (a choice letter, a number string, a short phrase);
    `method` names the rule that fired (e.g. `answer_line:letter`), so unparsed cases can be audited.
    """

    answer: str | None
    status: Status
    method: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @classmethod
    def none(cls, method: str = "none") -> Extraction:
        return cls(None, Status.NO_ANSWER, method)

    @classmethod
    def found(cls, answer: str, method: str, **details: Any) -> Extraction:
        return cls(answer, Status.OK, method, dict(details))

    @classmethod
    def ambiguous(cls, method: str, candidates: list[str]) -> Extraction:
        return cls(None, Status.AMBIGUOUS, method, {"candidates": candidates})
