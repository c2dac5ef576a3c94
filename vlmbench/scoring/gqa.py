"""GQA testdev-balanced: exact match after lmms-eval's normalisation (strip, lower-case, delete ASCII
punctuation). The official eval.py compares strings; LLaVA's converter only strips a trailing '.' and
lower-cases, so `t-shirt` vs `tshirt` differs between conventions; the record names the one used."""

from __future__ import annotations

from vlmbench.extract import Extraction
from vlmbench.extract.normalize import remove_punctuation
from vlmbench.schema import Sample
from vlmbench.scoring.base import Scorer


def gqa_normalize(text: str) -> str:
    return remove_punctuation(text.strip().lower())


class GQAScorer(Scorer):
    id = "gqa"
    version = "1"
    official_convention = "lmms-eval gqa exact_match: strip, ignore_case, ignore_punctuation, then =="

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        read = gqa_normalize(response)
        return float(read == gqa_normalize(sample.answer)), read

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """The exact match reads no answer out of a response: on a given answer it is the same rule."""
        return self.official(extracted, sample)

    def compare(self, extraction: Extraction, sample: Sample) -> float:
        return float(gqa_normalize(extraction.answer or "") == gqa_normalize(sample.answer))
