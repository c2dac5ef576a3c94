"""Answer extraction: rule-based, deterministic, and honest about what it could not read.

Task files name an extractor from `EXTRACTORS`; every extractor maps `(response, sample)` to an
`Extraction` with a status (`ok` / `no_answer` / `ambiguous`) and the rule that fired. Reasoning in
`<think>` tags is removed first; a response cut off inside its reasoning yields `no_answer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from vlmbench.errors import VlmbenchError
from vlmbench.extract.base import Extraction, Status
from vlmbench.extract.choice import extract_choice
from vlmbench.extract.mathequiv import math_equal
from vlmbench.extract.numbers import extract_number, format_number, parse_numbers
from vlmbench.extract.regions import answer_text, regions, split_reasoning
from vlmbench.extract.text import extract_list, extract_short_text, extract_yes_no
from vlmbench.schema import AnswerType, Sample

# What an extractor may look at: the response, the options, the answer type, and whether the
# generation was cut by its token limit. Nothing else of the sample, so results can be memoised.
ExtractFn = Callable[[str, tuple[str, ...], AnswerType, bool], Extraction]
CACHE_SIZE = 1 << 16  # direct answers repeat ("B", "12", "yes"): most rescoring hits the cache
CACHE_MAX_CHARS = 512  # long chains are unique: caching them would only hold memory


@dataclass(frozen=True)
class Extractor:
    """A named, versioned extraction rule; its id and version enter the protocol hash."""

    name: str
    version: str
    fn: ExtractFn
    description: str
    _cached: ExtractFn = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cached", lru_cache(maxsize=CACHE_SIZE)(self.fn))

    def __call__(self, response: str, sample: Sample, *, truncated: bool = False) -> Extraction:
        choices = tuple(sample.choices) if sample.choices else ()
        if len(response) > CACHE_MAX_CHARS:
            return self.fn(response, choices, sample.answer_type, truncated)
        return self._cached(response, choices, sample.answer_type, truncated)


def _by_answer_type(response: str, choices: tuple[str, ...], kind: AnswerType, truncated: bool) -> Extraction:
    if kind is AnswerType.MULTIPLE_CHOICE:
        return extract_choice(response, choices, truncated=truncated)
    if kind in (AnswerType.INTEGER, AnswerType.FLOAT):
        return extract_number(response, truncated=truncated)
    if kind is AnswerType.LIST:
        return extract_list(response, truncated=truncated)
    if kind is AnswerType.BOOLEAN:
        return extract_yes_no(response, truncated=truncated)
    return extract_short_text(response, truncated=truncated)


EXTRACTORS: dict[str, Extractor] = {
    e.name: e
    for e in (
        Extractor(
            "choice",
            "1",
            lambda r, c, k, t: extract_choice(r, c, truncated=t),
            "option letter in any common form, else the option's text",
        ),
        Extractor("number", "1", lambda r, c, k, t: extract_number(r, truncated=t), "one number"),
        Extractor(
            "yes_no", "1", lambda r, c, k, t: extract_yes_no(r, truncated=t), "yes / no / true / false"
        ),
        Extractor("short_text", "1", lambda r, c, k, t: extract_short_text(r, truncated=t), "a short phrase"),
        Extractor(
            "list", "1", lambda r, c, k, t: extract_list(r, truncated=t), "a bracketed list of numbers"
        ),
        Extractor("by_answer_type", "1", _by_answer_type, "choose the rule from the sample's answer_type"),
    )
}


def get_extractor(name: str) -> Extractor:
    try:
        return EXTRACTORS[name]
    except KeyError:
        raise VlmbenchError(f"unknown extractor {name!r}; known: {', '.join(sorted(EXTRACTORS))}") from None


__all__ = [
    "EXTRACTORS",
    "Extraction",
    "Extractor",
    "Status",
    "answer_text",
    "extract_choice",
    "extract_list",
    "extract_number",
    "extract_short_text",
    "extract_yes_no",
    "format_number",
    "get_extractor",
    "math_equal",
    "parse_numbers",
    "regions",
    "split_reasoning",
]
