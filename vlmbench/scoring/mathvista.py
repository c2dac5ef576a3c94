"""MathVista (testmini): the official two-step pipeline of lupantech/MathVista, minus its LLM step.

Official `extract_answer.py` reads a response by rules first (empty -> "", a response equal to a
choice, `int(response)` for integer answers, `float(response)` for float answers) and otherwise asks
GPT to extract. vlmbench runs no judge in `official`: a response already in final form (a bare option
letter, a bracketed list) stands for the judge's verbatim extraction; anything else extracts as ""
(what the reference produces when its judge call fails). `calculate_score.py` then normalises:
multiple choice -> `(X)` letter, else a letter maps to its choice, else the choice with the smallest
Levenshtein distance (so "" picks the shortest choice, bug for bug); integer -> `str(int(float(x)))`
(truncation: 14.7 -> "14"); float -> `str(round(float(x), precision))`; list -> `str(x)`; and compares
strings with `==`.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz.distance import Levenshtein

from vlmbench.extract import Extraction
from vlmbench.schema import LETTERS, Sample
from vlmbench.scoring.base import Scorer

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")
# Responses the GPT extractor provably returns unchanged (its few-shot prompt extracts letters and lists
# verbatim): a bare option letter, or a bracketed list of numbers.
_ALREADY_FINAL = {
    "multi_choice": re.compile(r"^\(?[A-Z]\)?$"),
    "list": re.compile(r"^\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*\s*\]$"),
    "free_form": re.compile(r"(?!)"),
}


def _question_type(sample: Sample) -> str:
    return str(sample.meta.get("question_type") or ("multi_choice" if sample.choices else "free_form"))


def _answer_type(sample: Sample) -> str:
    own = sample.meta.get("answer_type")
    return str(own) if own else sample.answer_type.value


def official_extract(response: str, sample: Sample) -> str:
    """The rule part of the official `extract_answer` (quick_extract off, as in lmms-eval)."""
    if response == "":
        return ""
    if _question_type(sample) == "multi_choice" and response in (sample.choices or []):
        return response
    kind = _answer_type(sample)
    if kind == "integer":
        try:
            return str(int(response))
        except ValueError:
            pass
    if kind == "float":
        try:
            return str(float(response))
        except ValueError:
            pass
    if _ALREADY_FINAL[kind if kind == "list" else _question_type(sample)].match(response):
        return response  # stand-in for the judge: a response already in final form is returned as is
    return ""  # the reference would call its LLM extractor here


def most_similar(text: str, choices: list[str]) -> str:
    distances = [Levenshtein.distance(text, choice) for choice in choices]
    return choices[distances.index(min(distances))]


def normalize_extracted_answer(extraction: Any, sample: Sample) -> str | None:
    """Official `normalize_extracted_answer` (calculate_score.py)."""
    if _question_type(sample) == "multi_choice":
        choices = sample.choices or []
        text = extraction.strip() if isinstance(extraction, str) else str(extraction)
        letters = _PAREN_LETTER.findall(text)
        if letters:
            text = letters[0].upper()
        options = list(LETTERS[: len(choices)])
        if text in options:
            return choices[options.index(text)]
        return most_similar(text, choices)
    kind = _answer_type(sample)
    try:
        if kind == "integer":
            return str(int(float(extraction)))
        if kind == "float":
            return str(round(float(extraction), int(float(sample.meta.get("precision") or 0))))
    except (TypeError, ValueError, OverflowError):
        return None
    return str(extraction)


def safe_equal(prediction: str | None, answer: str) -> bool:
    return prediction is not None and str(prediction).strip() == str(answer).strip()


class MathVistaScorer(Scorer):
    id = "mathvista"
    version = "1"
    official_convention = (
        "lupantech/MathVista extract_answer (rules only, no GPT extraction: unreadable -> '') + "
        "calculate_score normalize_extracted_answer + safe_equal"
    )

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        normalized = normalize_extracted_answer(official_extract(response.strip(), sample), sample)
        return float(safe_equal(normalized, sample.answer)), normalized

    def compare(self, extraction: Extraction, sample: Sample) -> float:
        answer = extraction.answer
        if _question_type(sample) == "multi_choice":
            index = extraction.details.get("index")
            # hand the official normaliser the option's letter, not its text: a text like "(b)" would be
            # re-read as the letter B (pid 168: choices "(c)", "(a)", "(e)", "(d)", "(b)")
            answer = LETTERS[index] if index is not None else answer
        return float(safe_equal(normalize_extracted_answer(answer, sample), sample.answer))
