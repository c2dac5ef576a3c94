"""Option-accuracy benchmarks: ScienceQA-IMG, AI2D, Geometry3K, UniGeo (calculation), and the shared
robust comparison (the extracted option equals the gold option)."""

from __future__ import annotations

import re

from vlmbench.extract import Extraction
from vlmbench.schema import Sample
from vlmbench.scoring.base import Scorer
from vlmbench.scoring.choice_rules import extracted_letter, lmms_ai2d, lmms_letter_exact, strict_letter


class ChoiceScorer(Scorer):
    """Option benchmarks: `official` is the reference's letter reader against the gold letter; `robust`
    asks whether the extracted option is the gold option."""

    def read_letter(self, response: str, sample: Sample) -> str | None:
        """The option letter the reference implementation reads from a raw response."""
        raise NotImplementedError

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        letter = self.read_letter(response, sample)
        return float(letter is not None and letter == sample.answer_letter), letter

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """The references compare the chosen option's letter with the gold one once they have read it:
        a given letter (`B`, `b`, `(B)`, `B.`) is compared; anything else is no option."""
        letter = strict_letter(extracted, sample)
        return float(letter is not None and letter == sample.answer_letter), letter

    def compare(self, extraction: Extraction, sample: Sample) -> float:
        return float(extraction.details.get("index") == sample.answer_index)


class ScienceQAScorer(ChoiceScorer):
    id = "scienceqa"
    version = "1"
    official_convention = (
        "lmms-eval 0.7.3 scienceqa_img exact_match: the stripped response is the gold letter (any case) "
        "or starts with '<LETTER>.'; ScienceQA's evaluate_acc then compares option indices"
    )

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        correct, read = lmms_letter_exact(response, sample)
        return float(correct), read

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """lmms-eval's scienceqa filter is a no-op: `sqa_process_results` compares what it is given, so
        its rule on the given answer is the official one."""
        return self.official(extracted, sample)


class AI2DScorer(ChoiceScorer):
    id = "ai2d"
    version = "1"
    official_convention = (
        "lmms-eval ai2d flexible-extract (leading 'X.' -> X, else the raw response), then exact match "
        "ignoring case and punctuation against the gold letter"
    )

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        correct, read = lmms_ai2d(response, sample)
        return float(correct), read

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """What follows lmms-eval's flexible-extract filter: exact match ignoring case and punctuation."""
        read = extracted_letter(extracted)
        return float(read == (sample.answer_letter or "").lower()), read


# lmms-eval 0.7.3 geometry3k `_extract_answer_letter`: first pattern that hits, its last match.
_G3K_PATTERNS = (
    re.compile(r"[Aa]nswer\s*[:=]\s*\(?([A-Da-d])\)?"),
    re.compile(r"\b([A-Da-d])\s*[.)\]]"),
    re.compile(r"^\s*\(?([A-Da-d])\)?$"),
    re.compile(r"\b([A-Da-d])\b"),
)


def geometry3k_letter(response: str, sample: Sample) -> str | None:
    for pattern in _G3K_PATTERNS:
        hits = pattern.findall(response)
        if hits:
            return hits[-1].upper()
    for letter, choice in zip(sample.letters, sample.choices or [], strict=False):
        if choice and choice in response:
            return letter
    return None


class Geometry3KScorer(ChoiceScorer):
    id = "geometry3k"
    version = "1"
    official_convention = (
        "lmms-eval 0.7.3 geometry3k letter regexes (answer: X / X. X) X] / bare letter / any standalone "
        "a-d word, last match of the first that hits; then option text as a substring). No random-guess "
        "credit for unparsed answers (InterGPS sub_acc.py gives it; VLM harnesses do not)"
    )

    def read_letter(self, response: str, sample: Sample) -> str | None:
        return geometry3k_letter(response.strip(), sample)


class UniGeoScorer(ChoiceScorer):
    id = "unigeo"
    version = "1"
    official_convention = (
        "UniGeo (Geoformer geo.py) calculation accuracy: the chosen option equals `label`; generated text "
        "maps to an option only when the whole stripped response is one letter (B, (B), B.)"
    )

    def read_letter(self, response: str, sample: Sample) -> str | None:
        return strict_letter(response, sample)
