"""Answer extraction: rule-based, deterministic, and honest about what it could not read.

Task files name an extractor from `EXTRACTORS`; every extractor maps `(response, sample)` to an
`Extraction` with a status (`ok` / `no_answer` / `ambiguous`) and the rule that fired. Reasoning in
`<think>` tags is removed first; a response cut off inside its reasoning yields `no_answer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vlmbench.errors import VlmbenchError
from vlmbench.extract.base import Extraction, Status
from vlmbench.extract.choice import extract_choice
from vlmbench.extract.mathequiv import math_equal
from vlmbench.extract.numbers import extract_number, format_number, parse_numbers
from vlmbench.extract.regions import answer_text, regions, split_reasoning
from vlmbench.extract.text import extract_list, extract_short_text, extract_yes_no
from vlmbench.schema import AnswerType, Sample

ExtractFn = Callable[[str, Sample, bool], Extraction]


@dataclass(frozen=True)
class Extractor:
    """A named, versioned extraction rule; its id and version enter the protocol hash."""

    name: str
    version: str
    fn: ExtractFn
    description: str

    def __call__(self, response: str, sample: Sample, *, truncated: bool = False) -> Extraction:
        return self.fn(response, sample, truncated)


def _choice(response: str, sample: Sample, truncated: bool) -> Extraction:
    return extract_choice(response, sample.choices or [], truncated=truncated)


def _by_answer_type(response: str, sample: Sample, truncated: bool) -> Extraction:
    kind = sample.answer_type
    if kind is AnswerType.MULTIPLE_CHOICE:
        return _choice(response, sample, truncated)
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
        Extractor("choice", "1", _choice, "option letter in any common form, else the option's text"),
        Extractor("number", "1", lambda r, s, t: extract_number(r, truncated=t), "one number"),
        Extractor("yes_no", "1", lambda r, s, t: extract_yes_no(r, truncated=t), "yes / no / true / false"),
        Extractor("short_text", "1", lambda r, s, t: extract_short_text(r, truncated=t), "a short phrase"),
        Extractor("list", "1", lambda r, s, t: extract_list(r, truncated=t), "a bracketed list of numbers"),
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
