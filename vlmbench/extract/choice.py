"""Multiple-choice answers: a letter in any common form, or the text of one option.

Letter forms read, inside an answer region: `B`, `(B)`, `B.`, `B)`, `B:`, `[B]`, `B. text`,
`Option B`, `choice (B)`, and the letter alone in an explicit answer line ("The answer is B").
The article "A" ("A cat ...") and the pronoun "I" are never read as letters.
When no letter is found, the option text is matched: exact (normalised), then as a whole-word
substring, then numerically / symbolically (`x = 5\\sqrt{3}` vs option `5\\sqrt{3}`), then fuzzily
with rapidfuzz; where a derivation names several options, the value after its last `=` decides.
An option given verbatim beats a letter read from running text ("Solution B" is that option, not the
letter B), and is read even when it is longer than a `whole` region.
Two different options in the winning region make the extraction `ambiguous`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz, process

from vlmbench.extract.base import Extraction, Status
from vlmbench.extract.mathequiv import math_equal
from vlmbench.extract.normalize import normalize_text
from vlmbench.extract.numbers import parse_numbers
from vlmbench.extract.regions import Region, answer_body, body_regions
from vlmbench.schema import LETTERS

FUZZY_MIN = 90.0  # rapidfuzz ratio an option text must reach to be taken without an exact match
FUZZY_MARGIN = 8.0  # and by how much it must beat the runner-up

_WHOLE_LETTER = re.compile(r"^[(\[]?\s*([A-Za-z])\s*[)\].:]?$")
_LEADING_LETTER = re.compile(r"^[(\[]\s*([A-Z])\s*[)\]]|^([A-Z])\s*[.:)]\s+\S")
# "Option B", "choice (c)", "it is C.", "I choose b": the letter ends the phrase ("it is a cat" is no A)
_NAMED_LETTER = re.compile(
    r"\b(?:option|choice|it\s+is|it's|choose|pick|select)\s*[:\-]?\s*[(\[]?([A-Za-z])[)\]]?(?![\w'’])"
    r"(?=\s*(?:$|[.,;:!)\]]|\s+(?:is|as|because|since)\b))",
    re.IGNORECASE,
)
_LONE_LETTER = re.compile(r"(?<![\w'’\-])[(\[]?([A-Z])[)\]]?(?![\w'’\-])")
_ARTICLE_LIKE = re.compile(r"[AI]\s+(?!or\b|and\b|is\b)[a-z]")  # "A cat", not "A is correct"


def _letters_in(region: Region, valid: str) -> tuple[list[str], str]:
    """Letters a region states, with the form that matched; [] when it states none."""
    text = region.text.strip()
    whole = _WHOLE_LETTER.match(text)
    if whole and whole.group(1).upper() in valid:
        return [whole.group(1).upper()], "letter"
    lead = _LEADING_LETTER.match(text)
    if lead:
        letter = lead.group(1) or lead.group(2)
        if letter in valid:
            return [letter], "letter_prefix"
    named = [m.group(1).upper() for m in _NAMED_LETTER.finditer(text) if m.group(1).upper() in valid]
    if named:
        return _unique(named), "option_letter"
    if region.explicit or len(text.split()) <= 6:
        lone = [
            m.group(1)
            for m in _LONE_LETTER.finditer(text)
            if m.group(1) in valid and not _ARTICLE_LIKE.match(text, m.start(1))
        ]
        if lone:
            return _unique(lone), "lone_letter"
    return [], ""


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


class _Options(NamedTuple):
    """What every response to an item compares against its options, made once per option list."""

    stripped: tuple[str, ...]
    normed: tuple[str, ...]
    whole_words: tuple[re.Pattern[str] | None, ...]  # None for an option that normalises to nothing


@lru_cache(maxsize=4096)
def _options(choices: tuple[str, ...]) -> _Options:
    normed = tuple(normalize_text(c) for c in choices)
    return _Options(
        tuple(c.strip() for c in choices),
        normed,
        tuple(re.compile(_whole_word(c)) if c else None for c in normed),
    )


def _texts_in(text: str, choices: Sequence[str], options: _Options) -> tuple[list[int], str]:
    """Options whose text a region gives, with the rule that matched (`options`: `_options(choices)`)."""
    norm = normalize_text(text)
    if not norm:
        return [], ""
    normed = options.normed
    exact = _same_text(norm, options)
    if exact:
        return exact, "choice_text"
    contained = [i for i, p in enumerate(options.whole_words) if p is not None and p.search(norm)]
    # "15 cm" contains the options "15" and "5"? No: whole-word matching already keeps "5" out; but
    # drop options contained in a longer matched option ("blue" inside "dark blue").
    contained = [i for i in contained if not any(j != i and normed[i] in normed[j] for j in contained)]
    if len(contained) == 1:
        return contained, "choice_substring"
    equal: list[int] = []
    value = _math_value(text)
    if value is not None and (parse_numbers(value) or "\\" in value):
        equal = [i for i, c in enumerate(choices) if math_equal(value, c)]
    if len(equal) == 1 and (not contained or equal[0] in contained):
        # several options in a derivation ("C = 180 - 50 - 60 = 70"): the value after the last "=" wins
        return equal, "choice_math"
    if contained:
        return contained, "choice_substring"
    if equal:
        return equal, "choice_math"
    ranked = process.extract(norm, normed, scorer=fuzz.ratio, limit=2)
    clear_winner = len(ranked) == 1 or (len(ranked) > 1 and ranked[0][1] - ranked[1][1] >= FUZZY_MARGIN)
    if ranked and ranked[0][1] >= FUZZY_MIN and clear_winner:
        return [ranked[0][2]], "choice_fuzzy"
    return [], ""


def _exact_texts(text: str, options: _Options) -> list[int]:
    """Options whose normalised text is the normalised `text`."""
    return _same_text(normalize_text(text), options)


def _same_text(norm: str, options: _Options) -> list[int]:
    """Options whose normalised text is `norm` (already normalised; empty matches nothing)."""
    if not norm or norm not in options.normed:  # the usual case: no option has this text
        return []
    return [i for i, c in enumerate(options.normed) if c == norm]


def _whole_word(choice: str) -> str:
    """A normalised option as a whole word of a response. An option that starts or ends with a digit
    must be a whole *number* there too: option `5` is not in `5.5`, `-5`, `3/5`, `5^2`, `1,500` or
    `5\\sqrt{3}` (that one is the option `5\\sqrt{3}`, or a math match)."""
    before = r"(?<![\w.,\\{^/\-−])" if choice[0].isdigit() else r"(?<!\w)"
    after = r"(?![\w{^/]|[.,]\d|\s*\\(?!%))" if choice[-1].isdigit() else r"(?!\w)"
    return before + re.escape(choice) + after


_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")
MATH_MAX_CHARS = 40  # symbolic comparison is for short expressions, never for prose


def _looks_like_math(value: str) -> bool:
    """A short expression (`5\\sqrt{3}`, `2x+1`, `12 cm`), not a sentence: a few letters at most."""
    if not 0 < len(value) <= MATH_MAX_CHARS:
        return False
    return sum(ch.isalpha() for ch in _LATEX_COMMAND.sub("", value)) <= 3


def _math_value(text: str) -> str | None:
    """The expression a region ends on (after its last "="), when it is short math, else None."""
    # a sentence's closing "." is no decimal point: math-verify reads `5\\sqrt{3}.` as 5
    value = text.rsplit("=", 1)[-1].strip().rstrip(".,;:!?").strip()
    return value if _looks_like_math(value) else None


def extract_choice(response: str, choices: Sequence[str], *, truncated: bool = False) -> Extraction:
    """The option a response picks, as a letter (`details['index']` holds its position)."""
    valid = LETTERS[: len(choices)]
    options = _options(tuple(choices))
    stripped = options.stripped
    body = answer_body(response)  # split and cleaned once: the regions and the verbatim fallback read it
    found = [] if body is None else body_regions(body, truncated=truncated)
    for region in found:
        said = region.text.strip()
        verbatim = [i for i, c in enumerate(stripped) if c and c == said] if said in stripped else []
        if len(verbatim) == 1:  # an option quoted verbatim, even one that looks like a letter: "(b)"
            return Extraction.found(valid[verbatim[0]], f"{region.name}:choice_verbatim", index=verbatim[0])
        letters, form = _letters_in(region, valid)
        if form in ("option_letter", "lone_letter"):
            # a letter read from running text loses to an option given verbatim ("Solution B")
            exact = _exact_texts(region.text, options)
            if len(exact) == 1:
                return Extraction.found(valid[exact[0]], f"{region.name}:choice_text", index=exact[0])
        if len(letters) == 1:
            letter = letters[0]
            return Extraction.found(letter, f"{region.name}:{form}", index=valid.index(letter))
        if len(letters) > 1:
            return Extraction.ambiguous(f"{region.name}:{form}", letters)
        indices, rule = _texts_in(region.text, choices, options)
        if len(indices) == 1:
            return Extraction.found(valid[indices[0]], f"{region.name}:{rule}", index=indices[0])
        if len(indices) > 1:
            return Extraction.ambiguous(f"{region.name}:{rule}", [valid[i] for i in indices])
    if not truncated:
        # an option's text given verbatim, even one longer than a `whole` region holds
        exact = _exact_texts(body or "", options)
        if len(exact) == 1:
            return Extraction.found(valid[exact[0]], "whole:choice_text", index=exact[0])
    method = "truncated_without_answer_marker" if truncated else "no_choice"
    return Extraction(None, Status.NO_ANSWER, method if found or truncated else "no_answer_region")
