"""MathVista (testmini): the official two-step pipeline of lupantech/MathVista.

Official `extract_answer.py` reads a response by rules first (empty -> "", a response equal to a
choice, `int(response)` for integer answers, `float(response)` for float answers) and otherwise asks
an LLM to extract, with a few-shot prompt the task file carries (`judge:`). `reference_rules` is that
rule step; with `--judge` the LLM does the rest (vlmbench.judge). Without a judge, `official` stands in
for it only where the judge's answer is certain: a response that already is a bare answer - an
uppercase option letter, "(B)" or "B. <that option's text>", a plain number, a bracketed list - is what
its few-shot examples copy, so it is the extraction ("3.0" for an integer answer normalises to "3");
anything else extracts as "" (what the reference produces when its judge call fails).
`calculate_score.py` then normalises: multiple choice -> `(X)` letter, else a letter maps to its
choice, else the choice with the smallest Levenshtein distance (so "" picks the shortest choice, bug for
bug); integer -> `str(int(float(x)))` (truncation: 14.7 -> "14"); float -> `str(round(float(x),
precision))`; list -> `str(x)`; and compares strings with `==`.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz.distance import Levenshtein

from vlmbench.extract import Extraction
from vlmbench.schema import LETTERS, Sample
from vlmbench.scoring.base import Scorer

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")
# An option given as its letter, optionally bracketed or followed by that option's own text:
# "C", "(C)", "C.", "(C) 145°", "C. 145°", "C: 145°". The few-shot prompt's last example copies the letter.
_OPTION = re.compile(r"^\(?([A-Z])\)?(?:[.:]?\s*(.*))?$", re.DOTALL)
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")
_LIST = re.compile(r"^\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*\s*\]$")


def _question_type(sample: Sample) -> str:
    return str(sample.meta.get("question_type") or ("multi_choice" if sample.choices else "free_form"))


def _answer_type(sample: Sample) -> str:
    own = sample.meta.get("answer_type")
    return str(own) if own else sample.answer_type.value


def reference_rules(response: str, sample: Sample) -> str | None:
    """The rule step of the official `extract_answer` (quick_extract off, as in lmms-eval): the
    extraction, or None where the reference asks its LLM."""
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
    return None


def bare_answer(response: str, sample: Sample) -> str | None:
    """What the judge provably returns for a response that already is a bare answer (its few-shot
    examples copy final values and reduce "(B) 8/11" to "B"); None when the response is not one."""
    if _question_type(sample) == "multi_choice":
        option = _OPTION.match(response)
        if option is None:
            return None
        letter, text = option.group(1), (option.group(2) or "").strip()
        choices = sample.choices or []
        index = LETTERS.index(letter)
        if not text or (index < len(choices) and text == choices[index].strip()):
            return letter
        return None
    kind = _answer_type(sample)
    if kind in ("integer", "float") and _NUMBER.match(response):
        return response
    if kind == "list" and _LIST.match(response):
        return response
    return None


def official_extract(response: str, sample: Sample) -> str:
    """The reference extraction without a judge: its rules, then a bare answer, else ""."""
    ruled = reference_rules(response, sample)
    if ruled is not None:
        return ruled
    return bare_answer(response, sample) or ""  # "": what the reference scores when its judge call fails


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
    version = "2"  # 2: a bare answer is its own extraction ("3.0" for integer 3 is right)
    official_convention = (
        "lupantech/MathVista extract_answer rules, a bare answer copied as its few-shot LLM extractor "
        "does, anything else -> '' (no LLM: see --judge) + calculate_score normalize_extracted_answer + "
        "safe_equal"
    )

    def judge_rules(self, response: str, sample: Sample) -> str | None:
        return reference_rules(response, sample)

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

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """An answer already extracted (by the judge, or by another harness): only the official
        normalisation and equality, as `calculate_score.py` applies them to the `extraction` field."""
        normalized = normalize_extracted_answer(extracted, sample)
        return float(safe_equal(normalized, sample.answer)), normalized
