"""Reference rules that map a raw response to an option, shared by the multiple-choice scorers."""

from __future__ import annotations

import re

from vlmbench.extract.normalize import remove_punctuation
from vlmbench.schema import Sample

_STRICT_LETTER = re.compile(r"^\(?([A-Za-z])\)?\.?$")
_LETTER_DOT = re.compile(r"^[A-Z]\.")
_AI2D_FILTER = re.compile(r"^\s*([A-Z])\.")


def strict_letter(response: str, sample: Sample) -> str | None:
    """The whole stripped response is one option letter: `B`, `b`, `(B)`, `B.`; anything else is none.

    The rule vlmbench uses as `official` where a benchmark defines accuracy over chosen options but
    ships no parser for generated text (VCR, UniGeo).
    """
    match = _STRICT_LETTER.match(response.strip())
    if match and match.group(1).upper() in sample.letters:
        return match.group(1).upper()
    return None


def lmms_letter_exact(response: str, sample: Sample) -> tuple[bool, str]:
    """lmms-eval 0.7.3 `sqa_process_results`: the stripped response equals the letter (any case), or
    starts with `<LETTER>.` (upper case) and that letter is the gold one."""
    pred = response.strip()
    gold = sample.answer_letter or ""
    if pred.lower() == gold.lower():
        return True, pred
    if _LETTER_DOT.match(pred):
        return pred[0] == gold, pred[0]
    return False, pred


def extracted_letter(extracted: str) -> str:
    """An already extracted answer as lmms-eval's exact match compares it (`ignore_case`,
    `ignore_punctuation`): `(B)` -> `b`."""
    return remove_punctuation(extracted.strip()).lower()


def lmms_ai2d(response: str, sample: Sample) -> tuple[bool, str]:
    """lmms-eval `ai2d` flexible-extract: a leading `X.` gives the letter, else the raw response; then
    exact match ignoring case and ASCII punctuation."""
    pred = response.strip()
    match = _AI2D_FILTER.match(pred)
    read = match.group(1) if match else pred
    gold = sample.answer_letter or ""
    return remove_punctuation(read).lower() == remove_punctuation(gold).lower(), read
