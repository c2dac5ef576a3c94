"""ChartQA relaxed accuracy, pix2struct `relaxed_correctness` (the code lmms-eval and VLMEvalKit use).

Both strings parse as floats (a trailing `%` divides by 100) and the target is non-zero: correct when
|p - t| / |t| <= 5%. Otherwise: case-insensitive string equality. No comma, currency or trailing-dot
handling; a target of 0 falls through to the string comparison; years are numbers (2019 ~ 2018).
Reported on the human and augmented splits and overall.
"""

from __future__ import annotations

import re

from vlmbench.extract import Extraction
from vlmbench.schema import Sample
from vlmbench.scoring.base import Scorer

MAX_RELATIVE_CHANGE = 0.05
_YEAR = re.compile(r"^(1[5-9]|20)\d\d$")


def _to_float(text: str) -> float | None:
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_correctness(target: str, prediction: str) -> bool:
    """pix2struct `metrics.relaxed_correctness(target, prediction)`, argument order as in the source."""
    prediction_float = _to_float(prediction)
    target_float = _to_float(target)
    if prediction_float is not None and target_float:
        return abs(prediction_float - target_float) / abs(target_float) <= MAX_RELATIVE_CHANGE
    return prediction.lower() == target.lower()


def references(sample: Sample) -> list[str]:
    """The gold answer and any other accepted answers (HuggingFaceM4/ChartQA keeps a list)."""
    extra = sample.meta.get("references")
    if not extra:
        return [sample.answer]
    return [sample.answer, *[str(r) for r in extra if str(r) != sample.answer]]


class ChartQAScorer(Scorer):
    id = "chartqa"
    version = "1"
    metric = "relaxed_accuracy"
    official_convention = "pix2struct relaxed_correctness on the stripped response, max over references"
    robust_convention = (
        "vlmbench extractor (numbers: commas, currency, units, fractions; text: edge punctuation), then "
        "the same relaxed_correctness, trying a percent both as written and as a fraction; two years "
        "must match exactly"
    )

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        pred = response.strip()
        return float(any(relaxed_correctness(t, pred) for t in references(sample))), pred

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """pix2struct has no extraction step: its rule on the given answer is the official rule."""
        return self.official(extracted, sample)

    def compare(self, extraction: Extraction, sample: Sample) -> float:
        answer = extraction.answer or ""
        variants = [answer, answer + "%"] if extraction.details.get("percent") else [answer]
        for target in references(sample):
            for pred in variants:
                if _YEAR.match(target.strip()) and _YEAR.match(pred):
                    if pred == target.strip():
                        return 1.0
                elif relaxed_correctness(target.strip(), pred):
                    return 1.0
        return 0.0
