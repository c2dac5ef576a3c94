"""Numbers as models write them: `1,234`, `-3.5`, `25%`, `$1.2`, `12 cm`, `3/4`, `\\frac{3}{4}`, `1.2e-3`.

`parse_numbers` returns every number in a string with its value; `extract_number` picks the answer
from a response's regions (see `regions`). Values are rendered canonically (`1234`, `0.75`) so that a
string comparison downstream sees one spelling per value.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from vlmbench.extract.base import Extraction, Status
from vlmbench.extract.regions import regions

_MINUS = "-−–"  # ASCII hyphen-minus, unicode minus, en dash
_FRACTION = re.compile(rf"(?<![\w.])(?P<sign>[{_MINUS}])?(?P<num>\d+)\s*/\s*(?P<den>\d+)(?![\d.])")
_LATEX_FRAC = re.compile(
    rf"(?P<sign>[{_MINUS}])?\\[dt]?frac\s*\{{(?P<num>[^{{}}]+)\}}\s*\{{(?P<den>[^{{}}]+)\}}"
)
_NUMBER = re.compile(
    rf"(?<![\w.])(?P<sign>[{_MINUS}+])?(?P<cur>[$€£¥₹])?\s?"
    r"(?P<body>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?:[eE](?P<exp>[-+]?\d+)|(?:×|x|\*)\s?10\^\{?(?P<exp10>[-+]?\d+)\}?))?"
    r"(?P<pct>\s?(?:%|\\%|percent\b))?"
)
_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


class Number(NamedTuple):
    value: float
    percent: bool
    start: int

    @property
    def text(self) -> str:
        return format_number(self.value)


def format_number(value: float) -> str:
    """Canonical spelling: integers without a decimal point, floats in shortest round-trip form."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _signed(sign: str | None, value: float) -> float:
    return -value if sign and sign in _MINUS else value


def parse_numbers(text: str) -> list[Number]:
    """Every number in `text`, left to right. Fractions and LaTeX fractions become their value."""
    found: list[Number] = []
    taken: list[tuple[int, int]] = []
    for match in _LATEX_FRAC.finditer(text) if "frac" in text else ():
        num, den = _plain_value(match["num"]), _plain_value(match["den"])
        if num is not None and den:
            found.append(Number(_signed(match["sign"], num / den), False, match.start()))
            taken.append(match.span())
    for match in _FRACTION.finditer(text) if "/" in text else ():
        if _inside(match.span(), taken):
            continue
        den = int(match["den"])
        if den:
            found.append(Number(_signed(match["sign"], int(match["num"]) / den), False, match.start()))
            taken.append(match.span())
    for match in _NUMBER.finditer(text):
        if taken and _inside(match.span(), taken):
            continue
        exponent = match["exp"] or match["exp10"]
        # float() of the scientific spelling: exact for `1.5e-7`, inf (not OverflowError) for `1e999`
        value = float(match["body"].replace(",", "") + (f"e{exponent}" if exponent else ""))
        found.append(Number(_signed(match["sign"], value), bool(match["pct"]), match.start()))
    if taken:
        found.sort(key=lambda n: n.start)
    return found


def _inside(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(a <= span[0] < b for a, b in taken)


def _plain_value(text: str) -> float | None:
    numbers = parse_numbers(text.strip())
    return numbers[0].value if len(numbers) == 1 else None


def _word_numbers(text: str) -> list[Number]:
    return [Number(float(_WORDS[m.group(1).lower()]), False, m.start()) for m in _WORD_NUMBER.finditer(text)]


def pick_number(text: str, *, explicit: bool) -> Number | None:
    """The answer among a region's numbers.

    The value right after the last `=` wins (`x = 3 + 4 = 7`); otherwise, in an explicit answer region,
    the first number (`12 (out of 20)`), and in free text the last one (the conclusion of a chain).
    """
    numbers = parse_numbers(text)
    if not numbers:
        numbers = _word_numbers(text)
    if not numbers:
        return None
    eq = text.rfind("=")
    after = [n for n in numbers if n.start > eq] if eq >= 0 else []
    if after:
        return after[0]
    return numbers[0] if explicit else numbers[-1]


def extract_number(response: str, *, truncated: bool = False) -> Extraction:
    for region in regions(response, truncated=truncated):
        number = pick_number(region.text, explicit=region.explicit)
        if number is not None:
            return Extraction(number.text, Status.OK, f"{region.name}:number", {"percent": number.percent})
    return Extraction.none("no_number" if not truncated else "truncated_without_answer_marker")
