"""Yes/no, short free-text and list answers."""

from __future__ import annotations

import re

from vlmbench.extract.base import Extraction, Status
from vlmbench.extract.normalize import collapse_spaces, strip_edges
from vlmbench.extract.numbers import format_number, parse_numbers
from vlmbench.extract.regions import SHORT_WORDS, regions

_YES = {"yes", "true", "correct", "right"}
_NO = {"no", "false", "incorrect", "wrong", "not true"}
_POLAR = re.compile(r"\b(yes|no|true|false|correct|incorrect|not true)\b", re.IGNORECASE)
_LEADING_CUE = re.compile(r"^(?:so|thus|therefore|hence)?,?\s*(?:it is|it's|this is)\s+", re.IGNORECASE)
_POLAR_LEAD = re.compile(r"^(yes|no)\s*[,.;:!]", re.IGNORECASE)
_LIST = re.compile(r"\[([^\[\]]*)\]")


def extract_yes_no(response: str, *, truncated: bool = False) -> Extraction:
    """`yes` or `no` (also from true/false); `ambiguous` when a region says both."""
    for region in regions(response, truncated=truncated):
        words = [m.group(1).lower() for m in _POLAR.finditer(region.text)]
        if not words:
            continue
        if not region.explicit and region.name != "whole":
            words = words[:1]
        kinds = {"yes" if w in _YES else "no" for w in words}
        if len(kinds) == 1:
            return Extraction.found(kinds.pop(), f"{region.name}:polar")
        first = "yes" if words[0] in _YES else "no"
        # "No, there is no cart" / "Yes, it is not empty": a lead word set off by punctuation answers;
        # "yes or no" / "true and false" say both and stay ambiguous
        if region.name == "whole" and _POLAR_LEAD.match(region.text.strip()):
            return Extraction.found(first, "whole:polar_lead")
        return Extraction.ambiguous(f"{region.name}:polar", sorted(kinds))
    return Extraction.none("truncated_without_answer_marker" if truncated else "no_polar_word")


def extract_short_text(response: str, *, truncated: bool = False) -> Extraction:
    """A short phrase answer ("camera", "left", "the red one"), edge punctuation removed.

    A phrase that opens with "Yes," / "No." answers with that word ("Yes, there is a cart." -> "Yes").
    """
    for region in regions(response, truncated=truncated):
        lead = _POLAR_LEAD.match(region.text.strip())
        if lead:
            return Extraction.found(lead.group(1), f"{region.name}:polar_lead")
        phrase = collapse_spaces(strip_edges(_LEADING_CUE.sub("", region.text)))
        if phrase and len(phrase.split()) <= SHORT_WORDS:
            return Extraction.found(phrase, f"{region.name}:phrase")
    return Extraction.none("truncated_without_answer_marker" if truncated else "no_short_answer")


def extract_list(response: str, *, truncated: bool = False) -> Extraction:
    """A bracketed list of numbers, rendered as Python renders a list (`[1, 2.5]`)."""
    for region in regions(response, truncated=truncated):
        lists = _LIST.findall(region.text)
        if lists:
            values = [format_number(n.value) for n in parse_numbers(lists[-1])]
            if values:
                return Extraction.found("[" + ", ".join(values) + "]", f"{region.name}:list")
    return Extraction(None, Status.NO_ANSWER, "truncated_without_answer_marker" if truncated else "no_list")
